// Chromium's fake capture device plays the espeak-ng WAV the harness renders: a page served by this test on loopback
// opens the microphone with getUserMedia and measures the level through an AnalyserNode. It hears speech (loud) and
// the silence around it, so the voice-call tests can feed words to the console's microphone. The page keeps the
// console's Content-Security-Policy (no inline script) so what works here works there.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { browserTest } from './harness.mjs';

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'";

const html = `<!doctype html><html><head><meta charset="utf-8"><title>mic</title>
<script type="module" src="/mic.js"></script></head><body><p id="state">loading</p></body></html>`;

// Measures the RMS of the captured signal every 50 ms for `seconds`, then publishes the levels in window.micResult.
const micJs = `
const state = document.getElementById('state');
async function measure(seconds) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false,
    autoGainControl: false } });
  const track = stream.getAudioTracks()[0];
  const ctx = new AudioContext();
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const levels = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    levels.push(Math.sqrt(sum / buf.length));
  }
  track.stop();
  await ctx.close();
  return { label: track.label, contextRate: ctx.sampleRate, levels };
}
measure(6).then((r) => { window.micResult = r; state.textContent = 'done'; },
                (e) => { window.micResult = { error: String(e) }; state.textContent = 'error'; });
`;

function serve() {
  const server = createServer((req, res) => {
    const body = req.url === '/' ? html : req.url === '/mic.js' ? micJs : null;
    if (body === null) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript',
      'content-security-policy': csp });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

browserTest('fake audio: getUserMedia hears the espeak-ng WAV and its silence', {
  speech: 'what are your opening hours', speechOptions: { leadMs: 500, tailMs: 3000 },
}, async (t) => {
  const server = await serve();
  try {
    const page = await t.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.micResult, { timeout: 30000 });
    const r = await page.evaluate(() => window.micResult);
    assert.equal(r.error, undefined, `getUserMedia failed: ${r.error}`);
    await t.shot(page, 'fake-audio');
    const loud = r.levels.filter((v) => v > 0.02).length;
    const silent = r.levels.filter((v) => v < 0.001).length;
    const peak = Math.max(...r.levels);
    const summary = `peak ${peak.toFixed(4)}, ${loud} loud and ${silent} silent of ${r.levels.length} windows, ` +
      `device "${r.label}", context ${r.contextRate} Hz`;
    console.log(`# ${summary}`);
    // The phrase lasts about 1.5 s of the file's 5 s: about a third of the windows hear it, the rest is the padding.
    assert.ok(loud >= 10, `speech was not heard: ${summary}`);
    assert.ok(silent >= 10, `the silence around the speech was not heard (a beep instead of the file?): ${summary}`);
  } finally {
    server.close();
  }
});
