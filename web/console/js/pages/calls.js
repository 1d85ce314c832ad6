// Calls: the filterable list (GET /api/v1/calls with agent_id, status, direction, campaign_id, since, until; cursor
// pagination: next_cursor, and a stack of the cursors seen for "Previous"), and one call's page (call.js).
import * as api from '../api.js';
import * as events from '../events.js';
import { h, field, guard, table, empty, fmtTime, fmtDuration, badge } from '../ui.js';
import { agentNames } from '../agentnames.js';

const STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];

export async function render(main, params) {
    if (params[0]) return (await import('./call.js')).render(main, params[0]);
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }

    const opt = (v, t) => h('option', { value: v }, t);
    const agent = h('select', { name: 'agent_id' }, opt('', 'any agent'), [...names].map(([id, n]) => opt(id, n)));
    const status = h('select', { name: 'status' }, opt('', 'any status'), STATUSES.map(s => opt(s, s)));
    const direction = h('select', { name: 'direction' }, opt('', 'any direction'), opt('inbound', 'inbound'), opt('outbound', 'outbound'));
    let campaigns = [];
    try { campaigns = (await api.get('/api/v1/campaigns', { limit: 500 })).items; } catch { /* the filter is optional */ }
    const campaign = h('select', { name: 'campaign_id' }, opt('', 'any campaign'), campaigns.map(c => opt(c.id, c.name)));
    const since = h('input', { type: 'datetime-local', name: 'since' });
    const until = h('input', { type: 'datetime-local', name: 'until' });
    const limit = h('select', { name: 'limit' }, ['10', '25', '50', '100', '200'].map(n => opt(n, n)));
    limit.value = '50';
    const apply = h('button', { type: 'submit' }, 'Apply');
    const form = h('form.toolbar', { 'aria-label': 'Filter calls' },
        field('Agent', agent), field('Status', status), field('Direction', direction), campaigns.length ? field('Campaign', campaign) : null,
        field('Created after', since), field('Created before', until), field('Per page', limit), apply);

    const results = h('div');
    const prev = h('button.secondary', { type: 'button', disabled: true }, 'Previous');
    const next = h('button.secondary', { type: 'button', disabled: true }, 'Next');
    const pageInfo = h('span.hint');
    main.append(h('div.pagehead', h('h1', 'Calls')), form, results, h('div.actions', prev, next, pageInfo));

    const cursors = [null]; // cursors[i] loads page i
    let index = 0;
    let nextCursor = null;

    const iso = (v) => v ? new Date(v).toISOString() : '';
    async function load() {
        const page = await api.get('/api/v1/calls', {
            agent_id: agent.value, status: status.value, direction: direction.value, campaign_id: campaign.value,
            since: iso(since.value), until: iso(until.value), limit: limit.value, cursor: cursors[index],
        });
        nextCursor = page.next_cursor;
        prev.disabled = index === 0;
        next.disabled = !nextCursor;
        pageInfo.textContent = 'Page ' + (index + 1);
        if (!page.items.length) {
            results.replaceChildren(empty(index === 0 && !agent.value && !status.value && !direction.value && !campaign.value && !since.value && !until.value
                ? 'No call yet. Try an agent from its page ("Try it"), place one with `vactl calls start`, or point a number at this daemon.'
                : 'No call matches these filters. Widen them and apply again.'));
            return;
        }
        results.replaceChildren(table(['Call', 'Status', 'Agent', 'Direction', 'Channel', 'From', 'To', 'Created', 'Duration', 'Outcome'],
            page.items.map(c => h('tr',
                h('td', h('a', { href: '#/calls/' + encodeURIComponent(c.id) }, c.id)),
                h('td', badge(c.status)),
                h('td', names.get(c.agent_id) || c.agent_id || ''),
                h('td', c.direction || ''), h('td', c.channel || ''),
                h('td', c.from || ''), h('td', c.to || ''),
                h('td', fmtTime(c.created_at)), h('td.num', fmtDuration(c.duration_s)),
                h('td', c.outcome || '')))));
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); cursors.length = 1; index = 0; guard(load); });
    next.addEventListener('click', () => { if (!nextCursor) return; cursors[index + 1] = nextCursor; index++; guard(load); });
    prev.addEventListener('click', () => { if (index === 0) return; index--; guard(load); });
    await guard(load);
    // The first page follows new and finished calls live (later pages stay put while being read).
    let pending = 0;
    const off = events.on((e) => {
        if (index !== 0 || !['call:started', 'call:ended', 'call:status', 'call:analysis'].includes(e.type)) return;
        clearTimeout(pending);
        pending = setTimeout(() => guard(load), 700);
    });
    return () => { off(); clearTimeout(pending); };
}
