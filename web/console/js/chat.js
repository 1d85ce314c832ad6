// "Try it" as text: a chat call (POST /api/v1/calls/local {channel: "chat"}) whose media WebSocket carries JSON
// turns (daemon/calls/chat_session.cpp): in {type: text|hangup}; out start, agent_delta, agent, user, listening,
// error, end. The same protocol vactl chat uses.
import * as api from './api.js';
import { h, field, guard } from './ui.js';

export function chatPanel(agent) {
    const log = h('div.transcript', { testid: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat with the agent' });
    const input = h('input', { type: 'text', testid: 'chat-input', autocomplete: 'off', disabled: true, maxlength: 2000 });
    const send = h('button', { type: 'submit', testid: 'chat-send', disabled: true }, 'Send');
    const startBtn = h('button', { type: 'button' }, 'Start chat');
    const hangBtn = h('button.secondary', { type: 'button', hidden: true }, 'Hang up');
    const status = h('span.hint', 'Start a chat to talk to this agent in text.');
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
        input.disabled = send.disabled = !live;
        startBtn.hidden = live;
        hangBtn.hidden = !live;
    };

    startBtn.addEventListener('click', () => guard(async () => {
        startBtn.disabled = true;
        try {
            const answer = await api.post('/api/v1/calls/local', { agent_id: agent.id, channel: 'chat' });
            const token = await api.freshToken();
            log.replaceChildren();
            const socket = new WebSocket(api.wsUrl(answer.media_url + '?token=' + encodeURIComponent(token)));
            ws = socket;
            status.textContent = 'Connecting (call ' + answer.call.id + ')...';
            socket.onopen = () => { setLive(true); status.textContent = 'Connected: call ' + answer.call.id; input.focus(); };
            socket.onmessage = (m) => onMessage(JSON.parse(m.data));
            socket.onclose = (e) => {
                if (ws !== socket) return;
                ws = null; pending = null;
                setLive(false);
                if (e.code !== 1000 && e.code !== 1005) add('note', '', 'connection closed (' + e.code + (e.reason ? ': ' + e.reason : '') + ')');
                status.textContent = 'The chat has ended. Start another to try again.';
            };
        } finally { startBtn.disabled = false; }
    }));

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
        if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
        pending = null;
        add('user', 'you', text);
        ws.send(JSON.stringify({ type: 'text', text }));
        input.value = '';
    });
    hangBtn.addEventListener('click', () => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'hangup' })); });

    const panel = h('section.card', { 'aria-labelledby': 'chat-title' },
        h('h2', { id: 'chat-title' }, 'Try it: text chat'),
        h('div.actions', startBtn, hangBtn, status), log, form);
    panel.dispose = () => { if (ws) { const s = ws; ws = null; try { s.send(JSON.stringify({ type: 'hangup' })); } catch { /* closing */ } s.close(1000); } };
    return panel;
}
