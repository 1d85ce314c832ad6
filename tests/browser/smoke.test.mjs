// The harness end to end before any page exists: the real daemon's /healthz and OpenAPI document loaded in headless
// Chromium, their text checked, a screenshot written under the build directory.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { browserTest } from './harness.mjs';

const opts = { agents: ['receptionist.json'] };

browserTest('smoke: Chromium loads the daemon\'s /healthz and OpenAPI document', opts, async (t) => {
  const page = await t.newPage();
  const health = await page.goto(`${t.daemon.url}/healthz`);
  assert.equal(health.status(), 200);
  assert.deepEqual(JSON.parse(await page.evaluate(() => document.body.innerText)), { status: 'ok' });
  const file = await t.shot(page, 'smoke-healthz');
  assert.ok(existsSync(file) && statSync(file).size > 0, `no screenshot at ${file}`);

  const openapi = await page.goto(`${t.daemon.url}/api/v1/openapi.json`);
  assert.equal(openapi.status(), 200);
  assert.match(openapi.headers()['content-type'], /application\/json/);
  const doc = JSON.parse(await page.evaluate(() => document.body.innerText));
  assert.match(doc.openapi, /^3\./);
  assert.ok(doc.paths['/api/v1/agents'], 'the OpenAPI document lists /api/v1/agents');

  // The owner the harness created signs in through the API, as the console will.
  const login = await t.api.withToken(null).call('POST', '/api/v1/auth/login', t.owner);
  assert.equal(login.status, 200, login.text);
  assert.equal(login.json.user.email, t.owner.email);
  // An example agent the test asked for is there.
  const agents = await t.api.expect(200, 'GET', '/api/v1/agents');
  assert.deepEqual(agents.items.map((a) => a.name), ['receptionist']);
});
