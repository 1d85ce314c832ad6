// "Try it" by voice: a local call (POST /api/v1/calls/local {channel: "local"}) over the /media/local WebSocket,
// the protocol vactl talk uses (docs/api-shapes.md "Local audio media protocol"): the microphone through an
// AudioWorklet (pcm-worklet.js) as binary PCM16 16 kHz mono frames; the agent's PCM16 frames scheduled back to back
// on an AudioContext; `clear` (barge-in) stops everything queued; `interim` shows the caller's words greyed until
// the final `user` turn.
import * as api from './api.js';
import * as events from './events.js';
import { h, guard, showError } from './ui.js';

const RATE = 16000;

export function voicePanel(agent) {
    const transcript = h('div.transcript', { testid: 'voice-transcript', role: 'log', 'aria-live': 'polite', 'aria-label': 'Voice call transcript' });
    const start = h('button', { type: 'button', testid: 'voice-start' }, 'Start voice call');
    const stop = h('button.secondary', { type: 'button', testid: 'voice-stop', disabled: true }, 'Hang up');
    const meter = h('span.meter', { role: 'img', 'aria-label': 'Microphone level' }, h('span'));
    const status = h('span.hint', 'Uses your microphone; the agent answers through your speakers (a headset avoids echo).');
    let call = null;

    const add = (cls, who, text) => {
        const el = h('div.turn', { class: cls }, h('span.who', who), h('span.text', text));
        transcript.append(el);
        transcript.scrollTop = transcript.scrollHeight;
        return el;
    };

    start.addEventListener('click', () => guard(async () => {
        start.disabled = true;
        try {
            transcript.replaceChildren();
            call = await startCall(agent, {
                add, meter: meter.firstChild,
                status: (t) => { status.textContent = t; },
                ended: () => { call = null; start.disabled = false; stop.disabled = true; },
            });
            stop.disabled = false;
        } catch (e) {
            start.disabled = false;
            throw e;
        }
    }));
    stop.addEventListener('click', () => { if (call) call.hangup(); });

    const panel = h('section.card', { 'aria-labelledby': 'voice-title' },
        h('h2', { id: 'voice-title' }, 'Try it: voice call'),
        h('div.actions', start, stop, meter), status, transcript);
    panel.dispose = () => { if (call) call.close(); };
    return panel;
}

async function startCall(agent, ui) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
        throw new Error('this browser gives no microphone here (it needs https or http://127.0.0.1)');
    const mic = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    }).catch((e) => { throw new Error('the microphone is not available: ' + e.message); });
    let ctx;
    try {
        ctx = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
    } catch {
        ctx = new AudioContext({ latencyHint: 'interactive' }); // the worklet resamples
    }
    const cleanupAudio = () => { mic.getTracks().forEach(t => t.stop()); ctx.close().catch(() => {}); };
    let answer;
    try {
        await ctx.audioWorklet.addModule(new URL('./pcm-worklet.js', import.meta.url));
        answer = await api.post('/api/v1/calls/local', { agent_id: agent.id, channel: 'local' });
    } catch (e) { cleanupAudio(); throw e; }
    const token = await api.freshToken();
    const ws = new WebSocket(api.wsUrl(answer.media_url + '?token=' + encodeURIComponent(token)));
    ws.binaryType = 'arraybuffer';
    ui.status('Connecting (call ' + answer.call.id + ')...');

    const source = ctx.createMediaStreamSource(mic);
    const capture = new AudioWorkletNode(ctx, 'pcm16-capture', { processorOptions: { targetRate: RATE }, numberOfOutputs: 0 });
    source.connect(capture);
    capture.port.onmessage = (m) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(m.data.pcm);
        ui.meter.style.width = Math.min(100, Math.round(Math.sqrt(m.data.level) * 100)) + '%';
    };

    // Playback: each binary frame becomes a buffer scheduled right after the previous one.
    let playAt = 0;
    const playing = new Set();
    const play = (data) => {
        const pcm = new Int16Array(data);
        if (!pcm.length) return;
        const buf = ctx.createBuffer(1, pcm.length, RATE);
        const ch = buf.getChannelData(0);
        for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 0x8000;
        const node = ctx.createBufferSource();
        node.buffer = buf;
        node.connect(ctx.destination);
        const now = ctx.currentTime;
        if (playAt < now + 0.02) playAt = now + 0.06; // a little jitter room after an underrun
        node.start(playAt);
        playAt += buf.duration;
        playing.add(node);
        node.onended = () => playing.delete(node);
    };
    const clearPlayback = () => {
        for (const n of playing) { try { n.stop(); } catch { /* already stopped */ } }
        playing.clear();
        playAt = 0;
    };

    let interim = null;
    let closed = false;
    // What the caller heard of a reply they interrupted is not sent on the media socket (only `clear` is); the
    // event stream carries it.
    const offEvents = events.on((e) => {
        const d = e.data || {};
        if (e.call_id === answer.call.id && e.type === 'call:transcript' && d.role === 'agent' && d.interrupted)
            ui.add('agent interrupted', agent.name, d.text || '');
    });
    const close = () => {
        if (closed) return;
        closed = true;
        offEvents();
        clearPlayback();
        try { source.disconnect(); capture.port.onmessage = null; } catch { /* gone */ }
        cleanupAudio();
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
        ui.meter.style.width = '0';
        ui.ended();
    };

    ws.onopen = () => { ctx.resume(); ui.status('Connected: call ' + answer.call.id + '. Speak when the agent listens.'); };
    ws.onmessage = (m) => {
        if (typeof m.data !== 'string') { play(m.data); return; }
        let msg;
        try { msg = JSON.parse(m.data); } catch { return; }
        switch (msg.type) {
            case 'clear': clearPlayback(); break;
            case 'interim':
                if (!interim) interim = ui.add('user interim', 'you (hearing...)', '');
                interim.querySelector('.text').textContent = msg.text || '';
                break;
            case 'user':
                if (interim) { interim.remove(); interim = null; }
                ui.add('user', 'you', msg.text || '');
                break;
            case 'agent': ui.add('agent' + (msg.interrupted ? ' interrupted' : ''), agent.name, msg.text || ''); break;
            case 'listening': ui.status('Listening: speak now.'); break;
            case 'error': ui.add('note', '', 'error: ' + (msg.message || '')); break;
            case 'end': ui.add('note', '', 'call ended: ' + (msg.reason || '')); ui.status('The call has ended.'); break;
            default: break;
        }
    };
    ws.onclose = (e) => {
        if (!closed && e.code !== 1000 && e.code !== 1005) showError({ message: 'the voice call closed (' + e.code + (e.reason ? ': ' + e.reason : '') + ')' });
        close();
    };
    return {
        hangup() {
            if (ws.readyState === WebSocket.OPEN) {
                ws.send(JSON.stringify({ type: 'hangup' }));
                setTimeout(close, 3000); // the daemon's `end` normally closes first
            } else close();
        },
        close,
    };
}
