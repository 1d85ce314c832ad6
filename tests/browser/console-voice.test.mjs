// A voice call from the browser (issue 15): Chromium's fake microphone says "what are your hours" (espeak-ng), the
// console streams it through its AudioWorklet over /media/local to the receptionist on the offline providers
// (pocketsphinx, scripted, espeak-ng), and the page shows the recognized words and the agent's answer. Screenshot:
// console-voice.
import assert from 'node:assert/strict';
import { browserTest, tid, signIn, eventually } from './harness.mjs';

browserTest('console: a browser voice call is heard and answered', {
  agents: ['receptionist.json'], speech: 'what are your hours', timeoutMs: 120000,
}, async (t) => {
  const agents = await t.api.expect(200, 'GET', '/api/v1/agents');
  const agent = agents.items.find((a) => a.name === 'receptionist');
  const page = await t.newPage();
  await signIn(page, t.daemon.url, t.owner);
  await page.goto(`${t.daemon.url}/#/agents/${agent.id}`);
  await (await page.waitForSelector(tid('voice-start'), { visible: true })).click();
  // The caller's final turn (not the greyed interim words) and the agent's answer to it, each in its own turn: a
  // fallback reply that mentions "hours" cannot pass for either.
  const turns = (selector) => page.$$eval(`${tid('voice-transcript')} ${selector}`, (els) => els.map((e) => e.textContent));
  await eventually(async () => (await turns('.turn.user:not(.interim) .text')).some((t) => /what are your hours/i.test(t)) &&
    (await turns('.turn.agent .text')).some((t) => /Monday to Friday from nine to six/.test(t)),
  { timeoutMs: 60000, what: 'the recognized words and the agent\'s answer on the page' });
  await t.shot(page, 'console-voice');
  await page.click(tid('voice-stop'));
  const calls = await t.api.expect(200, 'GET', `/api/v1/calls?agent_id=${agent.id}`);
  assert.ok(calls.items.length >= 1);
  assert.equal(calls.items[0].channel, 'local');
});
