// Live calls and call history in the console (issue 15): a simulated Twilio call (vactl calls simulate: the caller
// played over the real Twilio media protocol) appears on the live page with its transcript as it happens, then
// ends; the calls page lists it and its page shows the transcript and the recording. Screenshots: console-live,
// console-calls, console-call.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { browserTest, tid, signIn, eventually } from './harness.mjs';

browserTest('console: a simulated Twilio call on the live page, then in the call history', {
  agents: ['receptionist.json'], timeoutMs: 120000,
}, async (t) => {
  const page = await t.newPage();
  await signIn(page, t.daemon.url, t.owner);
  await page.click(tid('nav-live'));
  await page.waitForSelector(tid('live-calls'));

  // The caller: vactl from the same build, against this daemon with the owner key.
  const vactl = join(dirname(t.artifactsDir), 'cli', 'vactl');
  const caller = spawn(vactl, ['--server', t.daemon.url, '--token', t.daemon.adminKey, 'calls', 'simulate',
    '--carrier', 'twilio', '--agent', 'receptionist', '--say', 'what are your hours', '--say', 'thank you goodbye'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  caller.stdout.on('data', (d) => { output += d; });
  caller.stderr.on('data', (d) => { output += d; });
  const finished = new Promise((resolve) => caller.on('exit', resolve));
  try {
    const row = await page.waitForSelector('[data-testid^="live-call-"]', { timeout: 30000 });
    const callId = (await row.evaluate((e) => e.dataset.testid)).slice('live-call-'.length);
    await eventually(async () => /hours/i.test(await row.evaluate((e) => e.textContent)),
      { timeoutMs: 40000, what: 'the caller\'s words in the live transcript' });
    assert.match(await row.evaluate((e) => e.textContent), /twilio/i);
    await t.shot(page, 'console-live');
    assert.equal(await finished, 0, `vactl calls simulate failed: ${output}`);
    // The call ends on the page too.
    await eventually(async () => {
      const r = await page.$(tid(`live-call-${callId}`));
      return !r || /completed|ended/i.test(await r.evaluate((e) => e.textContent));
    }, { timeoutMs: 20000, what: 'the call leaves the live page' });

    await page.click(tid('nav-calls'));
    await page.waitForSelector(`a[href="#/calls/${callId}"]`, { visible: true });
    await t.shot(page, 'console-calls');
    await page.click(`a[href="#/calls/${callId}"]`);
    await eventually(async () => /what are your hours/i.test(await page.$eval('main', (e) => e.textContent)),
      { what: 'the call page shows the transcript' });
    // The recording plays from a blob URL; Chromium's media loader cancels its own reads of it (range requests).
    t.allowErrors(/request failed: GET blob:/);
    await page.waitForSelector('audio', { visible: true });
    await t.shot(page, 'console-call');
  } finally {
    if (caller.exitCode === null) caller.kill('SIGKILL');
  }
});
