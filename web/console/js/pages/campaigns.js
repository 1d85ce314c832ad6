// Campaigns: the list and a create form (POST /api/v1/campaigns); one campaign's page with start/pause/resume/cancel,
// a contacts CSV upload (POST .../contacts as text/csv, bad rows listed), the progress bar and counts (GET
// .../progress, polled every 2 s and after each call event while the page is open) and the contacts with outcomes.
import * as api from '../api.js';
import * as events from '../events.js';
import { h, field, guard, table, empty, fmtTime, badge, toast } from '../ui.js';
import { agentNames } from '../agentnames.js';

export async function render(main, params) {
    if (params[0]) return campaign(main, params[0]);
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }
    const list = h('div');
    const page = await api.get('/api/v1/campaigns', { limit: 500 });
    list.append(page.items.length ? table(['Name', 'Status', 'Agent', 'Concurrency', 'Created'], page.items.map(c => h('tr',
        h('td', h('a', { href: '#/campaigns/' + encodeURIComponent(c.id) }, c.name)), h('td', badge(c.status)),
        h('td', names.get(c.agent_id) || c.agent_id || ''), h('td.num', String(c.concurrency)), h('td', fmtTime(c.created_at)))))
        : empty(api.can('member') ? 'No campaign yet. Create one below, upload its contacts as CSV, then start it.' : 'No campaign yet.'));
    main.append(h('div.pagehead', h('h1', 'Campaigns')), list);
    if (!api.can('member')) return;

    const phones = (await api.get('/api/v1/phones', { limit: 500 })).items;
    const name = h('input', { type: 'text', required: true, maxlength: 128 });
    const agent = h('select', { required: true }, [...names].map(([id, n]) => h('option', { value: id }, n)));
    const phone = h('select', { required: true }, phones.map(p => h('option', { value: p.id }, p.number + (p.label ? ' (' + p.label + ')' : ''))));
    const concurrency = h('input', { type: 'number', min: 1, max: 100, value: 2 });
    const start = h('input', { type: 'time', value: '09:00' });
    const end = h('input', { type: 'time', value: '18:00' });
    const tz = h('input', { type: 'text', value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' });
    const maxAttempts = h('input', { type: 'number', min: 1, max: 10, value: 3 });
    const form = h('form.card', h('h2', 'New campaign'),
        phones.length ? null : h('p.hint', 'A campaign dials from one of your numbers: add one on the Numbers page first.'),
        h('div.toolbar', field('Name', name), field('Agent', agent), field('From number', phone), field('Concurrent calls', concurrency)),
        h('div.toolbar', field('Window start', start), field('Window end', end), field('Time zone', tz), field('Attempts per contact', maxAttempts),
            h('button', { type: 'submit', disabled: !phones.length }, 'Create')));
    form.addEventListener('submit', (e) => {
        e.preventDefault();
        guard(async () => {
            const c = await api.post('/api/v1/campaigns', {
                name: name.value.trim(), agent_id: agent.value, phone_id: phone.value, concurrency: Number(concurrency.value),
                window: { start: start.value, end: end.value, timezone: tz.value.trim() },
                retry: { max_attempts: Number(maxAttempts.value) },
            }, { headers: api.crossOrigin ? {} : { 'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) } });
            toast('Campaign created: upload its contacts');
            location.hash = '#/campaigns/' + encodeURIComponent(c.id);
        });
    });
    main.append(form);
}

async function campaign(main, id) {
    const base = '/api/v1/campaigns/' + encodeURIComponent(id);
    let c = await api.get(base);
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }
    const member = api.can('member');

    const statusEl = h('span');
    const bar = h('span');
    const progressEl = h('div.progress', { testid: 'campaign-progress', role: 'progressbar', 'aria-label': 'Contacts settled', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, bar);
    const progressText = h('p');
    const counts = h('dl.kv');
    const controls = h('div.actions');
    const contacts = h('div');
    const importResult = h('div');

    const drawControls = () => {
        statusEl.replaceChildren(badge(c.status));
        controls.replaceChildren();
        if (!member) return;
        const allowed = { draft: ['start', 'cancel'], running: ['pause', 'cancel'], paused: ['resume', 'cancel'] }[c.status] || [];
        for (const action of allowed)
            controls.append(h('button', { type: 'button', class: action === 'cancel' ? 'danger' : '', onclick: () => guard(async () => {
                if (action === 'cancel' && !confirm('Cancel the campaign? Pending contacts will not be called.')) return;
                c = await api.post(base + '/' + action);
                drawControls();
                await drawProgress();
            }) }, action[0].toUpperCase() + action.slice(1)));
    };

    async function drawProgress() {
        const p = await api.get(base + '/progress');
        const settled = ['done', 'failed', 'dnc', 'canceled'].reduce((n, k) => n + ((p.counts || {})[k] || 0), 0);
        const pct = p.total ? Math.round(settled * 100 / p.total) : 0;
        bar.style.width = pct + '%';
        progressEl.setAttribute('aria-valuenow', String(pct));
        progressEl.dataset.settled = String(settled);
        progressEl.dataset.total = String(p.total);
        progressText.textContent = settled + ' of ' + p.total + ' contacts settled (' + pct + '%)' +
            (p.eta_s ? ', about ' + Math.ceil(p.eta_s / 60) + ' min left' : '');
        const rows = [['Status', p.status], ['Dialing now', p.dialing_now], ['Attempts', p.attempts], ['Answered', p.answered],
            ['Answer rate', p.answer_rate === null || p.answer_rate === undefined ? '' : Math.round(p.answer_rate * 100) + '%'],
            ['Calls per minute', p.rate_per_min === undefined || p.rate_per_min === null ? '' : Number(p.rate_per_min).toFixed(1)],
            ...Object.entries(p.counts || {}).map(([k, v]) => [k, v])];
        counts.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', k), h('dd', String(v ?? ''))]));
        if (p.status && p.status !== c.status) { c.status = p.status; drawControls(); }
    }

    async function drawContacts() {
        const page = await api.get(base + '/contacts', { limit: 200 });
        contacts.replaceChildren(page.items.length ? table(['Phone', 'State', 'Attempts', 'Outcome', 'Last call', 'Next attempt', 'Variables'], page.items.map(x => h('tr',
            h('td', x.phone), h('td', badge(x.state)), h('td.num', String(x.attempts)), h('td', x.last_outcome || ''),
            h('td', x.last_call_id ? h('a', { href: '#/calls/' + encodeURIComponent(x.last_call_id) }, x.last_call_id.slice(-8)) : ''),
            h('td', fmtTime(x.next_attempt_at)), h('td', h('code', JSON.stringify(x.variables || {}))))))
            : empty(member ? 'No contact yet. Upload a CSV with a phone column (and any variables for the prompt) below.' : 'No contact yet.'));
    }

    main.append(h('div.pagehead', h('h1', 'Campaign ' + c.name), statusEl, h('a', { href: '#/campaigns' }, 'All campaigns')),
        h('section.card', h('h2', 'Progress'), progressEl, progressText, controls, counts),
        h('section.card', h('h2', 'Settings'), h('dl.kv', h('dt', 'Agent'), h('dd', names.get(c.agent_id) || c.agent_id || ''),
            h('dt', 'Concurrency'), h('dd', String(c.concurrency)),
            h('dt', 'Window'), h('dd', c.window ? (c.window.start + '–' + c.window.end + ' ' + (c.window.timezone || '') + ' ' + (c.window.days || []).join(',')) : ''),
            h('dt', 'Retry'), h('dd', c.retry ? c.retry.max_attempts + ' attempts, ' + c.retry.backoff_s + ' s apart, on ' + (c.retry.on || []).join(', ') : ''))));

    if (member && !['completed', 'canceled'].includes(c.status)) {
        const file = h('input', { type: 'file', accept: '.csv,text/csv', required: true });
        const upload = h('form.card', h('h2', 'Upload contacts'),
            h('p.hint', 'CSV with a header row: a phone column (E.164), optionally timezone, and any other column becomes a prompt variable.'),
            h('div.toolbar', field('Contacts CSV', file), h('button', { type: 'submit' }, 'Upload')), importResult);
        upload.addEventListener('submit', (e) => {
            e.preventDefault();
            guard(async () => {
                if (!file.files[0]) return;
                const r = await api.request('POST', base + '/contacts', { body: await file.files[0].text(), contentType: 'text/csv' });
                importResult.replaceChildren(h('p', r.added + ' added, ' + r.updated + ' updated, ' + r.duplicates + ' duplicates, ' + r.rejected + ' rejected'),
                    r.errors && r.errors.length ? h('ul', r.errors.map(x => h('li.field-error', String(x.message).startsWith('line ') ? x.message : 'line ' + x.line + ': ' + x.message))) : null);
                upload.reset();
                await drawProgress();
                await drawContacts();
            });
        });
        main.append(upload);
    }
    main.append(h('h2', 'Contacts'), contacts);

    drawControls();
    await guard(drawProgress);
    await guard(drawContacts);
    let pending = 0;
    const again = () => { clearTimeout(pending); pending = setTimeout(() => guard(async () => { await drawProgress(); await drawContacts(); }), 500); };
    const timer = setInterval(() => { if (c.status === 'running' || c.status === 'paused') guard(drawProgress); }, 2000);
    const off = events.on((e) => { if (e.type === 'call:ended' || e.type === 'call:analysis' || e.type === 'campaign:finished' || e.type === 'call:started') again(); });
    return () => { clearInterval(timer); clearTimeout(pending); off(); };
}
