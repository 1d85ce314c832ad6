// One call: its fields, transcript (GET .../transcript), metrics per voice turn (call.metrics.turns), analysis
// (outcome, summary, fields), the stereo recording (fetched with the token as a blob: an <audio> element can not send
// an Authorization header) drawn as two waveforms (caller left channel, agent right) with click to seek, and the
// call's events while the page is open (live calls update from the event WebSocket).
import * as api from '../api.js';
import * as events from '../events.js';
import { h, guard, table, fmtTime, fmtDuration, fmtMs, badge, toast } from '../ui.js';
import { agentNames } from '../agentnames.js';

export async function render(main, id) {
    const base = '/api/v1/calls/' + encodeURIComponent(id);
    let call = await api.get(base);
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }
    const disposers = [];

    const info = h('dl.kv');
    const drawInfo = () => {
        const rows = [['Status', badge(call.status)], ['Agent', call.agent_id ? h('a', { href: '#/agents/' + encodeURIComponent(call.agent_id) }, names.get(call.agent_id) || call.agent_id) : ''],
            ['Direction', call.direction], ['Channel', call.channel], ['From', call.from], ['To', call.to],
            ['Created', fmtTime(call.created_at)], ['Answered', fmtTime(call.answered_at)], ['Ended', fmtTime(call.ended_at)],
            ['Duration', fmtDuration(call.duration_s)], ['End reason', call.end_reason || ''],
            ['Campaign', call.campaign_id ? h('a', { href: '#/campaigns/' + encodeURIComponent(call.campaign_id) }, call.campaign_id) : ''],
            ['Daemon', call.instance_id || '']];
        info.replaceChildren(...rows.filter(([, v]) => v !== '' && v !== null && v !== undefined).flatMap(([k, v]) => [h('dt', k), h('dd', v)]));
    };
    drawInfo();

    const actions = h('div.actions');
    const live = () => ['queued', 'ringing', 'in-progress'].includes(call.status);
    const drawActions = () => {
        actions.replaceChildren();
        if (live() && api.can('member'))
            actions.append(h('button.danger', { type: 'button', onclick: () => guard(async () => { await api.post(base + '/hangup'); toast('Hanging up'); }) }, 'Hang up'));
    };
    drawActions();

    const transcript = h('div.transcript', { role: 'log', 'aria-label': 'Transcript' });
    const drawTranscript = async () => {
        const t = await api.get(base + '/transcript');
        transcript.replaceChildren(...(t.items.length ? t.items.map(turn => h('div.turn', { class: turn.role + (turn.interrupted ? ' interrupted' : '') },
            h('span.who', (turn.role === 'user' ? 'caller' : turn.role) + ' · ' + clock(turn.started_ms)), h('span.text', turn.text)))
            : [h('p.hint', 'No transcript: nobody spoke on this call.')]));
    };

    const metrics = h('div');
    const analysis = h('div');
    const drawMetrics = () => {
        const turns = (call.metrics && call.metrics.turns) || [];
        metrics.replaceChildren(turns.length
            ? table(['Turn', 'STT', 'LLM first token', 'TTS first audio', 'Voice to voice'], turns.map((t, i) => h('tr',
                h('td.num', String(i + 1)), h('td.num', fmtMs(t.stt_ms)), h('td.num', fmtMs(t.llm_first_token_ms)),
                h('td.num', fmtMs(t.tts_first_audio_ms)), h('td.num', fmtMs(t.voice_to_voice_ms)))))
            : h('p.hint', 'No per-turn metrics (only voice calls have them).'));
        const extra = [];
        if (call.metrics && call.metrics.providers) extra.push(h('p.hint', 'Providers: ' + Object.entries(call.metrics.providers).map(([k, v]) => k + ' ' + v).join(', ')));
        if (call.metrics && call.metrics.fallbacks) extra.push(h('pre', JSON.stringify(call.metrics.fallbacks, null, 2)));
        metrics.append(...extra);
        const a = call.analysis || {};
        analysis.replaceChildren(h('dl.kv', h('dt', 'Outcome'), h('dd', call.outcome || (live() ? 'after the call' : 'pending')),
            ...(call.summary ? [h('dt', 'Summary'), h('dd', call.summary)] : []),
            ...(a.fields ? Object.entries(a.fields).flatMap(([k, v]) => [h('dt', k), h('dd', typeof v === 'string' ? v : JSON.stringify(v))]) : []),
            ...(a.error ? [h('dt', 'Error'), h('dd', a.error)] : [])));
    };
    drawMetrics();

    const recording = h('div', h('p.hint', 'Loading the recording...'));
    const eventLog = h('ol.hint', { 'aria-live': 'polite' });
    // What the stored call tells of its past (the event stream only carries what happens from now on); times only
    // where the call has them.
    const metricsOf = call.metrics || {};
    const past = [
        call.created_at && fmtTime(call.created_at) + ' created',
        call.answered_at && fmtTime(call.answered_at) + ' answered',
        ...(metricsOf.tools || []).map(t => 'tool ' + t.name + (t.ok ? ' ok' : ' failed') + (t.ms !== undefined ? ' in ' + t.ms + ' ms' : '') + (t.error ? ': ' + t.error : '')),
        ...(metricsOf.fallbacks || []).map(f => 'fallback ' + (f.stage || '') + ': ' + (f.provider || '') + ' -> ' + (f.fallback || '') + (f.message ? ' (' + f.message + ')' : '')),
        call.ended_at && fmtTime(call.ended_at) + ' ended' + (call.end_reason ? ': ' + call.end_reason : ''),
    ];
    for (const text of past) if (text) eventLog.append(h('li', text));

    main.append(h('div.pagehead', h('h1', 'Call ' + call.id), h('a', { href: '#/calls' }, 'All calls')),
        h('div.grid2',
            h('div', h('section.card', h('h2', 'Transcript'), transcript), h('section.card', h('h2', 'Recording'), recording),
                h('section.card', h('h2', 'Metrics per turn'), metrics)),
            h('div', h('section.card', h('h2', 'Details'), info, actions), h('section.card', h('h2', 'Analysis'), analysis),
                h('section.card', h('h2', 'Events'), h('p.hint', 'What the call recorded, then its live events while this page is open.'), eventLog))));

    await guard(drawTranscript);
    loadRecording(base, recording, disposers);

    let refetch = 0;
    const off = events.on((e) => {
        if (e.call_id !== call.id) return;
        eventLog.append(h('li', fmtTime(e.at) + ' ' + e.type + ' ' + JSON.stringify(e.data || {})));
        clearTimeout(refetch);
        refetch = setTimeout(() => guard(async () => {
            call = await api.get(base);
            drawInfo(); drawActions(); drawMetrics();
            await drawTranscript();
            if (e.type === 'call:ended') setTimeout(() => loadRecording(base, recording, disposers), 1500);
        }), 400);
    });
    disposers.push(off, () => clearTimeout(refetch));
    return () => disposers.forEach(f => f());
}

function clock(ms) {
    if (ms === null || ms === undefined) return '';
    const s = ms / 1000;
    return Math.floor(s / 60) + ':' + (s % 60).toFixed(1).padStart(4, '0');
}

async function loadRecording(base, box, disposers) {
    let blob;
    try {
        blob = await api.request('GET', base + '/recording', { as: 'blob' });
    } catch (e) {
        box.replaceChildren(h('p.hint', e.status === 404 ? 'No recording for this call (chat calls, calls that never connected and calls still running have none).' : 'The recording could not be loaded: ' + e.message));
        return;
    }
    const url = URL.createObjectURL(blob);
    disposers.push(() => URL.revokeObjectURL(url));
    const audio = h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': 'Call recording' });
    const canvas = h('canvas.waveform', { width: 1000, height: 140, role: 'img', tabindex: '0',
        'aria-label': 'Waveforms: caller (top) and agent (bottom); click or use the arrow keys to seek' });
    box.replaceChildren(h('p.hint', 'Caller on top, agent below. Click to seek.'), canvas, audio,
        h('p', h('a', { href: url, download: 'recording.wav' }, 'Download the WAV')));
    let channels = null;
    try {
        const ctx = new OfflineAudioContext(2, 1, 16000);
        const decoded = await ctx.decodeAudioData(await blob.arrayBuffer());
        channels = [decoded.getChannelData(0), decoded.numberOfChannels > 1 ? decoded.getChannelData(1) : decoded.getChannelData(0)];
    } catch { canvas.hidden = true; return; }
    // Draw at the canvas's displayed size (sharp text and bars at any width).
    const dpr = window.devicePixelRatio || 1;
    if (canvas.clientWidth) { canvas.width = Math.round(canvas.clientWidth * dpr); canvas.height = Math.round(140 * dpr); }
    const peaks = channels.map(d => bucket(d, canvas.width));
    const draw = () => {
        const g = canvas.getContext('2d');
        const W = canvas.width, H = canvas.height, half = H / 2;
        g.clearRect(0, 0, W, H);
        const pos = audio.duration ? audio.currentTime / audio.duration : 0;
        ['#1f5fbf', '#1b7a3a'].forEach((colour, c) => {
            const mid = half * c + half / 2;
            for (let x = 0; x < W; x++) {
                const v = peaks[c][x] * (half / 2 - 4);
                g.fillStyle = x / W < pos ? colour : colour + '80';
                g.fillRect(x, mid - v, 1, Math.max(1, v * 2));
            }
        });
        g.fillStyle = '#5f6b7a';
        g.font = Math.round(12 * dpr) + 'px sans-serif';
        g.fillText('caller', 6, 14 * dpr);
        g.fillText('agent', 6, half + 14 * dpr);
        g.fillStyle = '#b3261e';
        g.fillRect(Math.floor(pos * W), 0, 2, H);
    };
    draw();
    const seek = (fraction) => { if (audio.duration) { audio.currentTime = Math.max(0, Math.min(1, fraction)) * audio.duration; draw(); } };
    canvas.addEventListener('click', (e) => { const r = canvas.getBoundingClientRect(); seek((e.clientX - r.left) / r.width); });
    canvas.addEventListener('keydown', (e) => {
        if (!audio.duration) return;
        if (e.key === 'ArrowRight') { seek((audio.currentTime + 5) / audio.duration); e.preventDefault(); }
        if (e.key === 'ArrowLeft') { seek((audio.currentTime - 5) / audio.duration); e.preventDefault(); }
    });
    audio.addEventListener('timeupdate', draw);
    audio.addEventListener('loadedmetadata', draw);
}

// The peak of each of n equal slices of the samples.
function bucket(data, n) {
    const out = new Float32Array(n);
    const per = Math.max(1, Math.floor(data.length / n));
    for (let x = 0; x < n; x++) {
        let peak = 0;
        const end = Math.min(data.length, (x + 1) * per);
        for (let i = x * per; i < end; i++) { const v = Math.abs(data[i]); if (v > peak) peak = v; }
        out[x] = Math.min(1, peak);
    }
    return out;
}
