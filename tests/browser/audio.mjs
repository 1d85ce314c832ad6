// Test audio for the browser tests: speech from espeak-ng written as the WAV that Chromium's fake capture device
// plays (--use-file-for-fake-audio-capture). Chromium loops the file, so the speech is followed by silence long
// enough for a turn to end before it is said again. Pure functions; safe anywhere.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';

// Mono PCM16 samples and rate of a RIFF/WAVE file (espeak-ng writes 22050 Hz mono PCM16).
export function readWav(buf) {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV');
  let off = 12;
  let fmt = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.bits !== 16) throw new Error('only PCM16 WAV is supported');
      const end = Math.min(buf.length, body + size);
      const frames = Math.floor((end - body) / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; ++i) samples[i] = buf.readInt16LE(body + i * 2 * fmt.channels);  // first channel
      return { rate: fmt.rate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV without data chunk');
}

export function writeWav(path, rate, samples) {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);  // PCM
  buf.writeUInt16LE(1, 22);  // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; ++i) buf.writeInt16LE(samples[i], 44 + i * 2);
  writeFileSync(path, buf);
}

// Linear interpolation is plenty for speech that a recognizer at 16 kHz hears.
export function resample(samples, from, to) {
  if (from === to) return samples;
  const n = Math.floor(samples.length * to / from);
  const out = new Int16Array(n);
  for (let i = 0; i < n; ++i) {
    const x = i * from / to;
    const j = Math.floor(x);
    const a = samples[j] ?? 0;
    const b = samples[j + 1] ?? a;
    out[i] = Math.round(a + (b - a) * (x - j));
  }
  return out;
}

// Writes `text` spoken by espeak-ng to `path` as mono PCM16 at `rate` (48 kHz: Chromium's capture rate, so the fake
// device plays it without conversion), with `leadMs` of silence before and `tailMs` after. Returns `path`.
export function speechWav(text, path, { rate = 48000, leadMs = 500, tailMs = 4000 } = {}) {
  const raw = `${path}.espeak.wav`;
  execFileSync('espeak-ng', ['-w', raw, text], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
  const wav = readWav(readFileSync(raw));
  rmSync(raw, { force: true });
  const speech = resample(wav.samples, wav.rate, rate);
  const lead = Math.round(rate * leadMs / 1000);
  const out = new Int16Array(lead + speech.length + Math.round(rate * tailMs / 1000));
  out.set(speech, lead);
  writeWav(path, rate, out);
  return path;
}
