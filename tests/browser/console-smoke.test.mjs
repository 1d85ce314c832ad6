// The console as the daemon serves it at / (issue 15): the page loads with the title "voiceagent", every response of
// the daemon's origin carries the contract's Content-Security-Policy, nothing is asked of another origin, and the
// page logs no error. The CSP is enforced, not only sent: an inline script injected into the page is refused and
// reported.
import assert from 'node:assert/strict';
import { browserTest, eventually } from './harness.mjs';

// The contract's policy, word for word (docs/console.md).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'self'";

browserTest('console smoke: / loads the console under its Content-Security-Policy with no error', async (t) => {
  const page = await t.newPage();
  const origin = t.daemon.url;
  const requests = [];
  const responses = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => responses.push(r));

  const res = await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html/);
  assert.equal(res.headers()['content-security-policy'], csp);
  assert.equal(await page.title(), 'voiceagent');

  // The page's own assets (app.js, app.css, what they import) came from the daemon with the same policy.
  const assets = responses.filter((r) => r.url().startsWith(`${origin}/`) && !r.url().startsWith(`${origin}/api/`));
  assert.ok(assets.some((r) => r.url() === `${origin}/app.js`), `app.js was not loaded: ${requests.join(', ')}`);
  for (const r of assets) {
    if (new URL(r.url()).pathname === '/favicon.ico') continue;
    assert.equal(r.headers()['content-security-policy'], csp, `${r.url()} came without the policy`);
  }
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
  assert.deepEqual(foreign, [], 'the console asked another origin');
  await t.shot(page, 'console-smoke');
  assert.deepEqual(t.problems, [], 'the console logged errors');

  // An injected inline script is refused by the browser, and the harness sees the refusal as a console error.
  // (Chromium's wording changed over versions; both are the refusal.)
  const refusal = /inline script violates the following Content Security Policy|Refused to execute inline script/;
  t.allowErrors(refusal);
  const ran = await page.evaluate(() => new Promise((resolve) => {
    window.inlineRan = false;
    document.addEventListener('securitypolicyviolation',
      (e) => resolve({ ran: window.inlineRan, directive: e.violatedDirective }), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.head.append(s);
  }));
  assert.equal(ran.ran, false, 'an inline script ran despite the policy');
  assert.match(ran.directive, /^script-src/);
  await eventually(() => t.seen.some((p) => refusal.test(p)), { what: 'the CSP report reaches the harness' });
});
