// Live calls: every queued, ringing or in-progress call of the workspace (GET /api/v1/calls?status=...), kept up to
// date from the event WebSocket (call:started adds a row, call:status/metrics/transcript update it, call:ended
// removes it a few seconds later); the whole list is fetched again whenever the WebSocket (re)connects, so nothing
// missed while it was down stays wrong. Hang-up and transfer for members.
import * as api from '../api.js';
import * as events from '../events.js';
import { h, guard, fmtDuration, badge, toast } from '../ui.js';
import { agentNames } from '../agentnames.js';

const LIVE = ['queued', 'ringing', 'in-progress'];
const CARRIERS = ['twilio', 'exotel'];

export async function render(main) {
    const tbody = h('tbody');
    const tableEl = h('table.stack', { testid: 'live-calls' },
        h('caption.hint', 'Calls in progress, updated live'),
        h('thead', h('tr', ['Call', 'Agent', 'Carrier', 'Status', 'Duration', 'Latency', 'Transcript', ''].map(x => h('th', { scope: 'col' }, x)))),
        tbody);
    const emptyEl = h('div.empty', h('p', 'No call is live right now. Start one from an agent\'s "Try it" panel, run ' +
        '`vactl calls simulate --carrier twilio --agent NAME --say "hello"`, or wait for an inbound call; it appears here at once.'));
    main.append(h('div.pagehead', h('h1', 'Live calls')), h('div.table-wrap', tableEl), emptyEl);

    const rows = new Map(); // call id -> {call, tr, cells..., lastFinal}
    let names = new Map();
    try { names = await agentNames(); } catch { /* names are cosmetic */ }

    const refreshEmpty = () => { emptyEl.hidden = rows.size > 0; };

    function startOf(call) {
        const t = call.answered_at || call.started_at || call.created_at;
        return t ? Date.parse(t) : Date.now();
    }

    function addRow(call) {
        if (rows.has(call.id)) { updateCall(call); return; }
        const r = { call };
        r.status = h('td');
        r.duration = h('td.num');
        r.latency = h('td.num');
        r.transcript = h('div.transcript.live-transcript', { role: 'log', 'aria-label': 'Live transcript of ' + call.id });
        r.actions = h('td');
        r.tr = h('tr', { testid: 'live-call-' + call.id },
            h('td', h('a', { href: '#/calls/' + encodeURIComponent(call.id) }, call.id.slice(-8)), h('br'), h('small.hint', (call.from || '') + (call.to ? ' → ' + call.to : ''))),
            h('td', names.get(call.agent_id) || call.agent_id || ''),
            h('td', call.channel || ''),
            r.status, r.duration, r.latency, h('td', r.transcript), r.actions);
        if (api.can('member')) {
            r.actions.append(h('button.danger', { type: 'button', 'aria-label': 'Hang up call ' + call.id, onclick: () => hangup(call.id) }, 'Hang up'));
            if (CARRIERS.includes(call.channel))
                r.actions.append(' ', h('button.secondary', { type: 'button', 'aria-label': 'Transfer call ' + call.id, onclick: () => transfer(call.id) }, 'Transfer'));
        }
        rows.set(call.id, r);
        tbody.prepend(r.tr);
        updateCall(call);
        refreshEmpty();
        loadTranscript(r);
    }

    async function loadTranscript(r) {
        try {
            const t = await api.get('/api/v1/calls/' + encodeURIComponent(r.call.id) + '/transcript');
            if (r.transcript.childElementCount) return; // live events arrived first
            for (const turn of t.items.slice(-6)) addTurn(r, { role: turn.role, text: turn.text, final: true, interrupted: turn.interrupted });
        } catch { /* the transcript is best effort */ }
    }

    function updateCall(call) {
        const r = rows.get(call.id);
        if (!r) return;
        r.call = Object.assign(r.call, call);
        r.status.replaceChildren(badge(r.call.status));
        tick(r);
    }

    function tick(r) {
        if (r.call.status === 'in-progress' || r.call.answered_at) r.duration.textContent = fmtDuration((Date.now() - startOf(r.call)) / 1000);
        else r.duration.textContent = '';
    }

    function addTurn(r, d) {
        const box = r.transcript;
        if (d.role === 'user' && d.final === false) {
            if (!r.interim) { r.interim = h('div.turn.user.interim', h('span.who', 'caller'), h('span.text')); box.append(r.interim); }
            r.interim.querySelector('.text').textContent = d.text || '';
        } else {
            if (d.role === 'user' && r.interim) { r.interim.remove(); r.interim = null; }
            const who = d.role === 'user' ? 'caller' : d.role;
            box.append(h('div.turn', { class: (d.role || 'note') + (d.interrupted ? ' interrupted' : '') }, h('span.who', who), h('span.text', d.text || '')));
            while (box.childElementCount > 12) box.firstElementChild.remove();
        }
        box.scrollTop = box.scrollHeight;
    }

    function endRow(id, reason) {
        const r = rows.get(id);
        if (!r) return;
        r.status.replaceChildren(badge('ended'), ' ', h('small.hint', reason || ''));
        r.actions.replaceChildren();
        r.ended = true;
        setTimeout(() => { r.tr.remove(); rows.delete(id); refreshEmpty(); }, 4000);
    }

    async function hangup(id) {
        await guard(async () => { await api.post('/api/v1/calls/' + encodeURIComponent(id) + '/hangup'); toast('Hanging up ' + id); });
    }
    async function transfer(id) {
        const to = prompt('Transfer the call to which number (E.164, such as +15551234567)?');
        if (!to) return;
        await guard(async () => { await api.post('/api/v1/calls/' + encodeURIComponent(id) + '/transfer', { to: to.trim() }); toast('Transferring to ' + to); });
    }

    async function reload() {
        const pages = await Promise.all(LIVE.map(status => api.get('/api/v1/calls', { status, limit: 500 })));
        const live = new Set();
        for (const p of pages) for (const c of p.items) { live.add(c.id); addRow(c); }
        for (const [id, r] of rows) if (!live.has(id) && !r.ended) endRow(id, '');
        refreshEmpty();
    }

    const fetching = new Set();
    async function fetchCall(id) {
        if (fetching.has(id) || rows.has(id)) return;
        fetching.add(id);
        try {
            const c = await api.get('/api/v1/calls/' + encodeURIComponent(id));
            if (LIVE.includes(c.status)) addRow(c);
        } catch { /* gone already */ } finally { fetching.delete(id); }
    }

    const off = events.on((e) => {
        if (e.type === 'ws:open') { guard(reload); return; }
        if (!e.call_id) return;
        const r = rows.get(e.call_id);
        const d = e.data || {};
        switch (e.type) {
            case 'call:started':
            case 'call:status':
                if (!r) { if (!d.status || LIVE.includes(d.status)) fetchCall(e.call_id); return; }
                if (d.status) {
                    if (LIVE.includes(d.status)) updateCall({ id: e.call_id, status: d.status, answered_at: d.status === 'in-progress' && !r.call.answered_at ? e.at : r.call.answered_at });
                    else endRow(e.call_id, d.status);
                }
                break;
            case 'call:transcript':
                if (r) addTurn(r, d); else fetchCall(e.call_id);
                break;
            case 'call:metrics':
                if (r && d.voice_to_voice_ms !== undefined) {
                    r.latency.textContent = Math.round(d.voice_to_voice_ms) + ' ms';
                    r.latency.title = 'stt ' + (d.stt_ms ?? '?') + ' ms, llm first token ' + (d.llm_first_token_ms ?? '?') + ' ms, tts first audio ' + (d.tts_first_audio_ms ?? '?') + ' ms';
                }
                break;
            case 'call:ended':
                endRow(e.call_id, d.reason);
                break;
            default: break;
        }
    });
    const timer = setInterval(() => { for (const r of rows.values()) if (!r.ended) tick(r); }, 1000);
    refreshEmpty();
    await guard(reload);
    return () => { off(); clearInterval(timer); };
}
