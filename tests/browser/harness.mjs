// Browser-test harness: runs the real voiceagentd (the binary named on the ctest command line) on 127.0.0.1:0 with a
// fresh data directory and the offline providers, creates the fixtures a test asks for through the API, and drives
// Debian's chromium headless with puppeteer-core. Every page's console errors, uncaught exceptions and failed
// requests fail the test (a CSP violation is a console error). Everything is torn down on success, failure and
// timeout. One test file is one ctest test and one node process; the harness is not meant to be shared between
// concurrent tests in one process (each browserTest owns its own daemon and browser).
//
// Usage (see docs/testing.md, "Browser tests"):
//   import { browserTest } from './harness.mjs';
//   browserTest('what it proves', { agents: ['receptionist.json'] }, async (t) => {
//     const page = await t.newPage();
//     await page.goto(t.daemon.url + '/healthz');
//     await t.shot(page, 'healthz');
//   });
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'node:test';
import { speechWav } from './audio.mjs';

export const sourceDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// --daemon PATH --build-dir DIR, as tests/CMakeLists.txt passes them.
function commandLine() {
  const args = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--daemon' || argv[i] === '--build-dir') args[argv[i].slice(2)] = argv[++i];
  }
  if (!args.daemon || !args['build-dir']) {
    throw new Error('usage: node TEST.test.mjs --daemon PATH/voiceagentd --build-dir BUILD_DIR (ctest passes both)');
  }
  return { daemonPath: resolve(process.env.VA_TEST_DAEMON || args.daemon), buildDir: resolve(args['build-dir']) };
}

const setupHint = 'run ./scripts/test (it installs the browser tests\' npm packages and Debian\'s chromium), or ' +
  'scripts/deps.sh then scripts/browser-test-setup.sh, before running ctest directly';

// puppeteer-core from the cache directory scripts/browser-test-setup.sh fills (never from the source tree).
function loadPuppeteer() {
  const deps = process.env.VA_BROWSER_TEST_DEPS ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'voiceagent/browser-tests');
  try {
    return createRequire(join(deps, 'package.json'))('puppeteer-core');
  } catch (e) {
    throw new Error(`puppeteer-core is not installed in ${deps} (${e.code || e.message}): ${setupHint}`);
  }
}

export const chromiumPath = process.env.VA_CHROMIUM || '/usr/bin/chromium';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The daemon as a child process. setpriv --pdeathsig makes the kernel kill it if this node process dies without
// tearing down (ctest's SIGKILL at its timeout), so no daemon outlives its test.
async function startDaemon(daemonPath, env, extraArgs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'va-browser-'));
  const childEnv = {};
  // The developer's own VOICEAGENT_* settings would change what is under test.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VOICEAGENT_')) childEnv[k] = v;
  Object.assign(childEnv, { VOICEAGENT_LOG_LEVEL: 'info', XDG_RUNTIME_DIR: join(dataDir, 'run') }, env);
  const logPath = join(dataDir, 'daemon.log');
  const logFd = openSync(logPath, 'a');
  const args = ['--pdeathsig', 'KILL', '--', daemonPath, '--data-dir', dataDir, '--listen', '127.0.0.1:0',
    ...extraArgs];
  // The data directory as working directory keeps a ./voiceagentd.toml of the caller's directory out.
  const child = spawn('setpriv', args, { cwd: dataDir, env: childEnv, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal ? `signal ${signal}` : `status ${code}`; });
  const log = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };
  const daemon = { dataDir, child, log, exited: () => exited };
  // Sanitizer builds start slowly on a busy machine; the deadline only bounds a broken build.
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline && exited === null) {
    let addr = '';
    try { addr = readFileSync(join(dataDir, 'voiceagentd.addr'), 'utf8').split('\n')[0]; } catch {}
    if (addr) {
      daemon.url = `http://${addr}`;
      daemon.adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
      return daemon;
    }
    await sleep(50);
  }
  const why = exited !== null ? `exited with ${exited}` : 'did not write voiceagentd.addr within 30 s';
  await stopDaemon(daemon);
  const text = log();
  rmSync(dataDir, { recursive: true, force: true });
  throw new Error(`voiceagentd ${why}; log:\n${tail(text, 60)}`);
}

async function stopDaemon(daemon) {
  const { child } = daemon;
  if (daemon.exited() === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(t);
  }
}

function tail(text, lines) { return text.split('\n').slice(-lines - 1).join('\n'); }

// A JSON client for the daemon's API; `token` is the admin key unless a test passes a user's access token.
export function apiClient(baseUrl, token) {
  const call = async (method, path, body, headers = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: res.status, headers: res.headers, text, json };
  };
  // Like call, and throws with the answer unless its status is `want`.
  const expect = async (want, method, path, body) => {
    const r = await call(method, path, body);
    if (r.status !== want) throw new Error(`${method} ${path} answered ${r.status} (wanted ${want}): ${r.text}`);
    return r.json;
  };
  return { call, expect, withToken: (t) => apiClient(baseUrl, t) };
}

// The test's fixtures, created through the API with the owner key in DATA/admin.key. Bootstrap is closed while that
// key exists (the security issue), so the first user is created with it, as the README does.
async function createFixtures(daemon, opts) {
  const api = apiClient(daemon.url, daemon.adminKey);
  const owner = { email: 'owner@example.com', password: 'owner-password', ...(opts.owner || {}) };
  await api.expect(201, 'POST', '/api/v1/users', { ...owner, role: 'owner' });
  const users = [];
  for (const u of opts.users || []) {
    const password = u.password || `password-${u.role}`;
    await api.expect(201, 'POST', '/api/v1/users', { email: u.email, password, role: u.role });
    users.push({ ...u, password });
  }
  for (const a of opts.agents || []) {
    const def = typeof a === 'string'
      ? JSON.parse(readFileSync(join(sourceDir, 'examples/agents', a), 'utf8')) : a;
    await api.expect(201, 'POST', '/api/v1/agents', def);
  }
  return { api, owner, users };
}

// Chromium's flags: no sandbox (containers, root), nothing that phones home, a profile of the test's own.
function chromiumArgs(fakeAudioWav) {
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
  if (fakeAudioWav) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${fakeAudioWav}`, '--autoplay-policy=no-user-gesture-required');
  }
  return args;
}

// Chromium asks every origin for /favicon.ico on its own; that request is not the page's doing.
const isFavicon = (url) => new URL(url, 'http://x').pathname === '/favicon.ico';

// Records what must not happen on a page: console errors (CSP violations among them), uncaught exceptions, failed
// requests and HTTP error answers. A test that provokes one on purpose names it with t.allowErrors(regex).
function watchPage(page, problems, allowed, seen) {
  const add = (what) => {
    seen.push(what);
    if (!allowed.some((re) => re.test(what))) problems.push(what);
  };
  page.on('console', (m) => {
    const url = m.location()?.url || '';
    if (m.type() === 'error' && !isFavicon(url)) add(`console error: ${m.text()} (${url || 'no url'})`);
  });
  page.on('pageerror', (e) => add(`uncaught exception: ${e.message}`));
  page.on('requestfailed', (r) => add(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !isFavicon(r.url())) {
      add(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    }
  });
}

const defaultTimeoutMs = 100000;

// A test file that registers no test would pass while proving nothing: it fails instead.
let registered = 0;
process.on('exit', () => {
  if (registered === 0) {
    console.error('no browserTest() in this file: a browser test file must register at least one test');
    process.exitCode = 1;
  }
});

// Registers one node:test test that gets a daemon, a browser and helpers in `t`:
//   t.daemon {url, dataDir, adminKey, log()}, t.api (admin key), t.owner {email, password}, t.users,
//   t.browser, t.newPage(), t.shot(page, name), t.allowErrors(regex), t.wav (when opts.speech), t.artifactsDir,
//   t.seen (every problem reported so far, allowed ones included: a test can assert that one it provoked happened).
// opts: owner {email, password}, users [{email, role, password?}], agents [example file name or definition],
//   speech 'text' (the fake microphone says it, then silence; opts.speechOptions goes to speechWav),
//   daemonEnv {...}, daemonArgs [...], browser false (no Chromium), timeoutMs (default 100 s, under ctest's 150 s).
export function browserTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  ++registered;
  test(name, async () => {
    const { daemonPath, buildDir } = commandLine();
    const artifactsDir = join(buildDir, 'browser-artifacts');
    mkdirSync(artifactsDir, { recursive: true });
    const problems = [];
    const allowed = [];
    const pages = [];
    const cleanups = [];
    const seen = [];
    const t = { artifactsDir, allowErrors: (re) => allowed.push(re), problems, seen };
    t.shot = async (page, shotName) => {
      const file = join(artifactsDir, `${shotName}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    };
    let timer;
    const timeoutMs = opts.timeoutMs || defaultTimeoutMs;
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    // A teardown that itself hangs must not keep the process (and so ctest) waiting: a last resort exit.
    const killer = () => setTimeout(() => {
      console.error(`${name}: teardown hung; exiting`);
      process.exit(2);
    }, 20000);
    let teardownGuard;
    let tornDown = false;
    let failure = null;
    try {
      await Promise.race([timedOut, (async () => {
        const puppeteer = opts.browser === false ? null : loadPuppeteer();
        if (puppeteer && !existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: ${setupHint}`);
        if (opts.speech) {
          const dir = mkdtempSync(join(tmpdir(), 'va-browser-wav-'));
          cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
          t.wav = speechWav(opts.speech, join(dir, 'speech.wav'), opts.speechOptions);
        }
        const daemon = await startDaemon(daemonPath, opts.daemonEnv || {}, opts.daemonArgs || []);
        // A timeout during the start has already torn down: this late daemon is stopped here instead.
        if (tornDown) { await stopDaemon(daemon); rmSync(daemon.dataDir, { recursive: true, force: true }); return; }
        t.daemon = daemon;
        Object.assign(t, await createFixtures(t.daemon, opts));
        if (!puppeteer) return;
        const profile = mkdtempSync(join(tmpdir(), 'va-browser-profile-'));
        cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
        const browser = await puppeteer.launch({
          executablePath: chromiumPath, headless: true, pipe: true, userDataDir: profile,
          args: chromiumArgs(t.wav), defaultViewport: { width: 1280, height: 800 },
          protocolTimeout: 30000,
        });
        if (tornDown) { browser.process()?.kill('SIGKILL'); return; }
        t.browser = browser;
        t.newPage = async () => {
          const page = await t.browser.newPage();
          page.setDefaultTimeout(20000);
          watchPage(page, problems, allowed, seen);
          pages.push(page);
          return page;
        };
      })()]);
      await Promise.race([timedOut, fn(t)]);
      // Let late console messages of the last action arrive before judging the page.
      await sleep(100);
      if (problems.length) throw new Error(`the browser reported problems:\n  ${problems.join('\n  ')}`);
    } catch (e) {
      failure = e;
      for (const [i, page] of pages.entries()) {
        try { await Promise.race([sleep(5000), t.shot(page, `${safe(name)}-failure-${i}`)]); } catch {}
      }
      if (t.daemon) console.error(`---- voiceagentd log (last lines) ----\n${tail(t.daemon.log(), 40)}\n----`);
    } finally {
      clearTimeout(timer);
      tornDown = true;
      teardownGuard = killer();
      if (t.browser) { try { await Promise.race([t.browser.close(), sleep(5000)]); } catch {} }
      if (t.browser?.process()?.exitCode === null) t.browser.process().kill('SIGKILL');
      if (t.daemon) {
        await stopDaemon(t.daemon);
        const log = t.daemon.log();
        // A sanitizer report in the daemon's log fails the test even when the page looked right.
        if (!failure && /ERROR: AddressSanitizer|runtime error:/.test(log)) {
          failure = new Error(`voiceagentd reported a sanitizer error:\n${tail(log, 60)}`);
        }
        rmSync(t.daemon.dataDir, { recursive: true, force: true });
      }
      for (const c of cleanups) c();
      clearTimeout(teardownGuard);
    }
    if (failure) throw failure;
  });
}

// The selector of an element with data-testid="id" (the contract's stable hooks, docs/console.md).
export const tid = (id) => `[data-testid="${id}"]`;

// Signs `user` in through the console's sign-in form at / and waits for the navigation to appear. Written to the
// contract's hooks (signin-email, signin-password, signin-submit, nav-live) before the pages existed.
export async function signIn(page, baseUrl, user) {
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector(tid('signin-email'), { visible: true });
  await page.type(tid('signin-email'), user.email);
  await page.type(tid('signin-password'), user.password);
  await page.click(tid('signin-submit'));
  await page.waitForSelector(tid('nav-live'), { visible: true });
}

function safe(name) { return name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60); }

// Polls `check` (a function returning a truthy value when done) until it holds; the deadline only bounds a broken
// build. Returns check's value.
export async function eventually(check, { timeoutMs = 20000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await check(); if (last) return last; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`${what} did not hold within ${timeoutMs / 1000} s (last: ${last})`);
}
