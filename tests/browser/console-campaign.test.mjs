// Campaigns and analytics in the console (issue 15): with the Twilio fake as the carrier (va-fake twilio, every
// callee answers "yes i will be there"), a campaign is created from the page, filled by uploading a contacts CSV,
// started, and its progress bar advances to the end live; the analytics page then draws its charts with data.
// Screenshots: console-campaign, console-analytics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { browserTest, tid, signIn, eventually, sourceDir } from './harness.mjs';

// The carrier fake first: the daemon is started pointing at it. Its binary is in the same build as the daemon.
const args = process.argv.slice(2);
const buildDir = resolve(args[args.indexOf('--build-dir') + 1]);
const fake = spawn(join(buildDir, 'providers', 'va-fake'), ['twilio', '--port', '0', '--say', 'yes i will be there',
  '--ring-ms', '300', '--hang-up-after-ms', '800'], { stdio: ['ignore', 'pipe', 'inherit'] });
// Stopped after the test (it would keep node running), and on any exit.
after(() => { fake.stdout.destroy(); fake.kill('SIGKILL'); });
process.on('exit', () => fake.kill('SIGKILL'));
const carrier = await new Promise((resolveUrl, reject) => {
  let buf = '';
  fake.stdout.on('data', (d) => {
    buf += d;
    const line = buf.split('\n')[0];
    if (buf.includes('\n')) { try { resolveUrl(JSON.parse(line).listening); } catch (e) { reject(e); } }
  });
  fake.on('exit', (code) => reject(new Error(`va-fake twilio exited (${code}) before listening`)));
  setTimeout(() => reject(new Error('va-fake twilio did not start in 10 s')), 10000);
});

const reminder = JSON.parse(readFileSync(join(sourceDir, 'examples/campaigns/reminder-agent.json'), 'utf8'));

browserTest('console: a campaign from the page to its end, then analytics with data', {
  agents: [reminder], timeoutMs: 120000,
  daemonEnv: {
    VOICEAGENT_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000001',
    VOICEAGENT_TWILIO_AUTH_TOKEN: 'fake-twilio-auth-token',
    VOICEAGENT_TWILIO_API_BASE_URL: carrier,
    VOICEAGENT_RECORDINGS_ENABLED: 'false',
  },
}, async (t) => {
  await t.api.expect(201, 'POST', '/api/v1/phones', { number: '+15550001111', provider: 'twilio', label: 'reminders' });
  const dir = mkdtempSync(join(tmpdir(), 'va-browser-csv-'));
  const csv = join(dir, 'contacts.csv');
  writeFileSync(csv, 'phone,first_name,date,time\n+14155552000,Asha,Monday,nine a m\n' +
    '+14155552001,Ben,Tuesday,ten a m\n+14155552002,Chen,Wednesday,noon\n');
  try {
    const page = await t.newPage();
    await signIn(page, t.daemon.url, t.owner);
    await page.click(tid('nav-campaigns'));
    const name = await page.waitForSelector('form ::-p-aria(Name)', { visible: true });
    await name.type('reminders from the console');
    // A calling window open now, in UTC, whatever time the test runs (the page's default is office hours).
    const hour = new Date().getUTCHours();
    const hhmm = (h) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    const set = (label, value) => page.$eval(`form ::-p-aria(${label})`, (e, v) => { e.value = v; }, value);
    await set('Window start', hhmm(hour - 1));
    await set('Window end', hhmm(hour + 2));
    await set('Time zone', 'UTC');
    await page.click('form button[type="submit"]');
    await page.waitForFunction(() => /^#\/campaigns\/.+/.test(location.hash));

    const upload = await page.waitForSelector('input[type="file"]', { visible: true });
    await upload.uploadFile(csv);
    await page.click('::-p-aria([name="Upload"][role="button"])');
    await eventually(async () => /\+14155552002/.test(await page.$eval('main', (e) => e.textContent)),
      { what: 'the contacts are imported and listed' });
    await page.click('::-p-aria([name="Start"][role="button"])');
    const progress = await page.waitForSelector(tid('campaign-progress'));
    const seen = new Set();
    await eventually(async () => {
      const now = Number(await progress.evaluate((e) => e.getAttribute('aria-valuenow')));
      seen.add(now);
      return now === 100;
    }, { timeoutMs: 60000, what: 'the campaign\'s progress bar reaches 100' });
    assert.ok(seen.size >= 2, `the progress bar jumped straight to the end: ${[...seen]}`);
    await t.shot(page, 'console-campaign');

    await page.click(tid('nav-analytics'));
    const chart = await page.waitForSelector('[data-testid^="analytics-chart-"]', { visible: true });
    await eventually(async () => page.evaluate(() => [...document.querySelectorAll('[data-testid^="analytics-chart-"]')]
      .some((c) => window.Chart?.getChart(c)?.data.datasets.some((d) => d.data.some((v) => Number(v) > 0)))),
    { what: 'a chart drawn with data' });
    assert.ok(chart);
    await t.shot(page, 'console-analytics');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
