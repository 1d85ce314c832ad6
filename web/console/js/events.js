// The event WebSocket (/api/v1/events?token=...): one shared connection for the whole console while signed in.
// Pages subscribe with on(fn) and get every event of the workspace ({type, call_id, at, data}); on('open') style
// status changes arrive as {type: 'ws:open'} / {type: 'ws:closed'} so pages can refetch what they may have missed.
// Reconnects with exponential backoff (1 s doubling to 30 s, with jitter). Browsers cannot set headers on a
// WebSocket, so the access token goes in the query (the daemon's access log never records query strings).
import * as api from './api.js';

const listeners = new Set();
let socket = null;
let wanted = false;
let backoff = 1000;
let retryTimer = 0;
let connected = false;

export function on(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function isConnected() { return connected; }

function dispatch(event) {
    for (const fn of [...listeners]) {
        try { fn(event); } catch (e) { console.error(e); }
    }
}

export function start() {
    if (wanted) return;
    wanted = true;
    connect();
}

export function stop() {
    wanted = false;
    clearTimeout(retryTimer);
    if (socket) { const s = socket; socket = null; s.close(1000); }
    setConnected(false);
}

function setConnected(v) {
    if (connected === v) return;
    connected = v;
    const el = document.getElementById('ws-status');
    if (el) {
        el.textContent = v ? 'live' : 'offline';
        el.className = 'ws-status ' + (v ? 'on' : 'off');
        el.title = v ? 'Receiving live events' : 'Not receiving live events; reconnecting';
    }
    dispatch({ type: v ? 'ws:open' : 'ws:closed' });
}

async function connect() {
    if (!wanted) return;
    let token;
    try { token = await api.freshToken(); } catch { token = null; }
    if (!token) { schedule(); return; }
    const ws = new WebSocket(api.wsUrl('/api/v1/events?token=' + encodeURIComponent(token)));
    socket = ws;
    ws.onmessage = (m) => {
        let event;
        try { event = JSON.parse(m.data); } catch { return; }
        if (event.type === 'subscribed') { backoff = 1000; setConnected(true); return; }
        dispatch(event);
    };
    ws.onclose = () => {
        if (socket !== ws) return;
        socket = null;
        setConnected(false);
        schedule();
    };
    ws.onerror = () => { /* onclose follows */ };
}

function schedule() {
    if (!wanted) return;
    clearTimeout(retryTimer);
    const delay = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, 30000);
    retryTimer = setTimeout(connect, delay);
}
