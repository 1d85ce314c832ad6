// "Try it" as text: a chat call (POST /api/v1/calls/local {channel: "chat"}) whose media WebSocket carries JSON
// turns (daemon/calls/chat_session.cpp): in {type: text|hangup}; out start, agent_delta, agent, user, listening,
// error, end. The same protocol vactl chat uses.
import * as api from './api.js';
import { h, field, guard } from './ui.js';

export function chatPanel(agent) {
    const log = h('div.transcript', { testid: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat with the agent' });
    const input = h('input', { type: 'text', testid: 'chat-input', autocomplete: 'off', maxlength: 2000 });
    const send = h('button', { type: 'submit', testid: 'chat-send' }, 'Send');
    const startBtn = h('button', { type: 'button', testid: 'chat-start' }, 'Start chat');
    const hangBtn = h('button.secondary', { type: 'button', hidden: true }, 'Hang up');
    const status = h('span.hint', 'Type a message (or start the chat first to hear the greeting).');
    const form = h('form.chat-form', field('Message', input), send);
    let ws = null;
    let pending = null; // the agent bubble being streamed

    const add = (cls, who, text) => {
        const el = h('div.turn', { class: cls }, h('span.who', who), h('span.text', text));
        log.append(el);
        log.scrollTop = log.scrollHeight;
        return el;
    };
    const setLive = (live) => {
        startBtn.hidden = live;
        hangBtn.hidden = !live;
    };

    // Starts a chat call and resolves once its socket is open (a message typed before it started waits for this).
    let opening = null;
    const start = () => {
        if (ws && ws.readyState === WebSocket.OPEN) return Promise.resolve();
        if (opening) return opening;
        opening = (async () => {
            startBtn.disabled = true;
            try {
                const answer = await api.post('/api/v1/calls/local', { agent_id: agent.id, channel: 'chat' });
                const token = await api.freshToken();
                log.replaceChildren();
                const socket = new WebSocket(api.wsUrl(answer.media_url + '?token=' + encodeURIComponent(token)));
                ws = socket;
                status.textContent = 'Connecting (call ' + answer.call.id + ')...';
                socket.onmessage = (m) => onMessage(JSON.parse(m.data));
                await new Promise((resolve, reject) => {
                    socket.onopen = () => { setLive(true); status.textContent = 'Connected: call ' + answer.call.id; resolve(); };
                    socket.onclose = (e) => {
                        reject(new Error('the chat connection closed (' + e.code + (e.reason ? ': ' + e.reason : '') + ')'));
                        if (ws !== socket) return;
                        ws = null; pending = null;
                        setLive(false);
                        if (e.code !== 1000 && e.code !== 1005) add('note', '', 'connection closed (' + e.code + (e.reason ? ': ' + e.reason : '') + ')');
                        status.textContent = 'The chat has ended. Type a message to start another.';
                    };
                });
            } finally { startBtn.disabled = false; opening = null; }
        })();
        return opening;
    };

    startBtn.addEventListener('click', () => guard(async () => { await start(); input.focus(); }));

    function onMessage(msg) {
        switch (msg.type) {
            case 'agent_delta':
                if (!pending) pending = add('agent', agent.name, '');
                pending.querySelector('.text').textContent += msg.text || '';
                break;
            case 'agent':
                if (!pending) pending = add('agent', agent.name, '');
                pending.querySelector('.text').textContent = msg.text || '';
                pending = null;
                break;
            case 'user': break; // already shown when sent
            case 'listening': input.focus(); break;
            case 'error': add('note', '', 'error: ' + (msg.message || '')); break;
            case 'end': add('note', '', 'call ended: ' + (msg.reason || '')); break;
            default: break;
        }
        log.scrollTop = log.scrollHeight;
    }

    form.addEventListener('submit', (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        input.value = '';
        guard(async () => {
            await start();
            pending = null;
            add('user', 'you', text);
            ws.send(JSON.stringify({ type: 'text', text }));
        });
    });
    hangBtn.addEventListener('click', () => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'hangup' })); });

    const panel = h('section.card', { 'aria-labelledby': 'chat-title' },
        h('h2', { id: 'chat-title' }, 'Try it: text chat'),
        h('div.actions', startBtn, hangBtn, status), log, form);
    panel.dispose = () => { if (ws) { const s = ws; ws = null; try { s.send(JSON.stringify({ type: 'hangup' })); } catch { /* closing */ } s.close(1000); } };
    return panel;
}
