// Agents in the console (issue 15): an empty list that says what to do, a new agent whose definition has a mistake
// shown at its field, fixed and created, then a text chat with it ("Try it"), then a changed definition saved as
// version 2 and version 1 loaded back (read-only) and saved as version 3. Screenshots: console-agents-empty,
// console-agent-error, console-agent-chat, console-agent-versions.
import assert from 'node:assert/strict';
import { browserTest, tid, signIn, eventually } from './harness.mjs';

const text = (page, selector) => page.$eval(selector, (e) => e.textContent);

browserTest('console: an agent with a validation error, fixed, then a text chat', async (t) => {
  const page = await t.newPage();
  await signIn(page, t.daemon.url, t.owner);
  await page.click(tid('nav-agents'));
  // The page may be drawn again as the session settles: read it until the empty state holds.
  await eventually(async () => /New agent/.test(await text(page, '.empty')), { what: 'the empty state of the agents' });
  await t.shot(page, 'console-agents-empty');

  await page.goto(`${t.daemon.url}/#/agents/new`);
  const editor = await page.waitForSelector(tid('agent-editor'), { visible: true });
  const template = JSON.parse(await editor.evaluate((e) => e.value));
  // A mistake the schema catches: the speaking rate as a word.
  const wrong = { ...template, name: 'front-desk', tts: { ...template.tts, rate: 'fast' } };
  await editor.evaluate((e, v) => { e.value = v; }, JSON.stringify(wrong, null, 2));
  t.allowErrors(/HTTP (400|422): POST .*\/api\/v1\/agents/);
  t.allowErrors(/status of (400|422)/);
  await page.click(tid('agent-save'));
  const error = await page.waitForSelector(tid('field-error'), { visible: true });
  const field = await error.evaluate((e) => e.dataset.field);
  assert.match(field, /rate/, `the error is not at the rate: ${field}`);
  await t.shot(page, 'console-agent-error');

  // Fixed: created, and the page becomes the agent's own.
  await editor.evaluate((e, v) => { e.value = v; }, JSON.stringify({ ...wrong, tts: template.tts }, null, 2));
  await page.click(tid('agent-save'));
  await page.waitForFunction(() => /^#\/agents\/agt/.test(location.hash));
  const agents = await t.api.expect(200, 'GET', '/api/v1/agents');
  assert.deepEqual(agents.items.map((a) => a.name), ['front-desk']);

  // Try it: a text chat with the scripted agent.
  await page.waitForSelector(tid('chat-input'), { visible: true });
  await page.type(tid('chat-input'), 'what are your hours');
  await page.click(tid('chat-send'));
  await eventually(async () => /nine to five/i.test(await text(page, tid('chat-log'))),
    { what: 'the agent answers the chat with its hours' });
  assert.match(await text(page, tid('chat-log')), /what are your hours/);
  await t.shot(page, 'console-agent-chat');

  // Versions: a changed definition saved is version 2, listed above version 1.
  // The agent's own page drew an editor of its own.
  const agentEditor = await page.waitForSelector(tid('agent-editor'), { visible: true });
  const first = JSON.parse(await agentEditor.evaluate((e) => e.value));
  const changed = { ...first, first_message: 'Welcome to the front desk.' };
  await agentEditor.evaluate((e, v) => { e.value = v; }, JSON.stringify(changed, null, 2));
  await page.click(tid('agent-save'));
  await eventually(async () => (await page.$$(tid('agent-version'))).length === 2,
    { what: 'two versions listed after the save' });
  const listed = await page.$$eval(tid('agent-version'), (rows) => rows.map((r) => r.dataset.version));
  assert.deepEqual(listed, ['2', '1']);

  // Version 1 loads into the editor read-only; saving it restores it as version 3.
  await page.click(`${tid('agent-version')}[data-version="1"] ${tid('version-load')}`);
  await eventually(async () => !(await page.$eval(tid('version-preview'), (e) => e.hidden)),
    { what: 'the preview note of version 1' });
  assert.deepEqual(JSON.parse(await agentEditor.evaluate((e) => e.value)), first);
  assert.equal(await agentEditor.evaluate((e) => e.readOnly), true);
  await t.shot(page, 'console-agent-versions');
  await page.click(tid('agent-save'));
  await eventually(async () => (await page.$$(tid('agent-version'))).length === 3,
    { what: 'three versions listed after restoring version 1' });
  assert.equal(await agentEditor.evaluate((e) => e.readOnly), false);
  const id = agents.items[0].id;
  const current = await t.api.expect(200, 'GET', `/api/v1/agents/${id}`);
  assert.equal(current.version, 3);
  assert.deepEqual(current.definition, first);
});
