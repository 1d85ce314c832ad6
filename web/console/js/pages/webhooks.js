// Webhook endpoints: where call events are POSTed, signed (GET/POST/DELETE /api/v1/webhook-endpoints); the signing
// secret is shown once, at creation; each endpoint's delivery log (GET .../deliveries).
import * as api from '../api.js';
import { h, field, guard, table, empty, fmtTime, badge, toast } from '../ui.js';

const EVENTS = ['call:started', 'call:ended', 'call:analysis', 'campaign:finished'];

export async function render(main) {
    const admin = api.can('admin');
    const list = h('div');
    const deliveries = h('div');
    const secretBox = h('div');

    async function showDeliveries(ep) {
        const page = await api.get('/api/v1/webhook-endpoints/' + encodeURIComponent(ep.id) + '/deliveries', { limit: 100 });
        deliveries.replaceChildren(h('h2', 'Deliveries to ' + ep.url), page.items.length
            ? table(['Event', 'State', 'Attempts', 'Last status', 'Last error', 'Created', 'Delivered'], page.items.map(d => h('tr',
                h('td', d.event), h('td', badge(d.state)), h('td.num', String(d.attempts)), h('td.num', d.last_status ? String(d.last_status) : ''),
                h('td', d.last_error || ''), h('td', fmtTime(d.created_at)), h('td', fmtTime(d.delivered_at)))))
            : empty('Nothing delivered yet: deliveries appear when one of its events happens.'));
        deliveries.scrollIntoView({ block: 'nearest' });
    }

    async function load() {
        const page = await api.get('/api/v1/webhook-endpoints', { limit: 500 });
        if (!page.items.length) {
            list.replaceChildren(empty(admin ? 'No endpoint yet. Add the URL of a service that should receive call events below.' : 'No endpoint yet. An admin adds them.'));
            return;
        }
        list.replaceChildren(table(['URL', 'Events', 'Description', 'Created', ''], page.items.map(ep => h('tr',
            h('td', h('code', ep.url)), h('td', (ep.events || []).join(', ')), h('td', ep.description || ''), h('td', fmtTime(ep.created_at)),
            h('td', h('button.secondary', { type: 'button', onclick: () => guard(() => showDeliveries(ep)) }, 'Deliveries'), ' ',
                admin ? h('button.danger', { type: 'button', 'aria-label': 'Remove ' + ep.url, onclick: () => guard(async () => {
                    if (!confirm('Remove ' + ep.url + ' and its delivery log?')) return;
                    await api.del('/api/v1/webhook-endpoints/' + encodeURIComponent(ep.id));
                    deliveries.replaceChildren();
                    await load();
                }) }, 'Remove') : null)))));
    }

    main.append(h('div.pagehead', h('h1', 'Webhooks')), secretBox, list);
    if (admin) {
        const url = h('input', { type: 'url', required: true, placeholder: 'https://example.com/hooks/voiceagent', size: 40 });
        const boxes = EVENTS.map(ev => h('input', { type: 'checkbox', value: ev, checked: ev === 'call:ended', id: 'ev-' + ev.replace(':', '-') }));
        const description = h('input', { type: 'text', maxlength: 256 });
        const form = h('form.card', h('h2', 'Add an endpoint'), field('URL', url),
            h('fieldset', h('legend', 'Events'), boxes.map(b => h('label.check', b, ' ' + b.value))),
            field('Description', description), h('div.actions', h('button', { type: 'submit' }, 'Add')));
        form.addEventListener('submit', (e) => {
            e.preventDefault();
            guard(async () => {
                const body = { url: url.value.trim(), events: boxes.filter(b => b.checked).map(b => b.value) };
                if (description.value.trim()) body.description = description.value.trim();
                const ep = await api.post('/api/v1/webhook-endpoints', body);
                form.reset();
                secretBox.replaceChildren(h('div.secret', { role: 'status' }, h('strong', 'Signing secret for ' + ep.url + ' (shown only now; copy it): '), h('code', ep.secret || '')));
                toast('Endpoint added');
                await load();
            });
        });
        main.append(form);
    }
    main.append(deliveries);
    await guard(load);
}
