// Numbers: the workspace's phone numbers (GET /api/v1/phones), each routed to an agent; admins add, reassign and
// remove them. The webhook URL is what to give the carrier for inbound calls.
import * as api from '../api.js';
import { h, field, guard, table, empty, fmtTime, toast } from '../ui.js';
import { agentNames } from '../agentnames.js';

export async function render(main) {
    const admin = api.can('admin');
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }
    const list = h('div');
    const agentSelect = (value, label) => {
        const s = h('select', { 'aria-label': label }, h('option', { value: '' }, '(no agent)'), [...names].map(([id, n]) => h('option', { value: id }, n)));
        s.value = value || '';
        return s;
    };

    async function load() {
        const page = await api.get('/api/v1/phones', { limit: 500 });
        if (!page.items.length) {
            list.replaceChildren(empty(admin ? 'No number yet. Add the E.164 number your Twilio or Exotel account owns below, then give its webhook URL to the carrier.'
                : 'No number yet. An admin adds numbers.'));
            return;
        }
        list.replaceChildren(table(['Number', 'Provider', 'Agent', 'Label', 'Webhook URL', 'Updated', ''], page.items.map(p => {
            const agentCell = admin ? agentSelect(p.agent_id, 'Agent for ' + p.number) : (names.get(p.agent_id) || p.agent_id || '(none)');
            if (admin) agentCell.addEventListener('change', () => guard(async () => {
                await api.patch('/api/v1/phones/' + encodeURIComponent(p.id), { agent_id: agentCell.value || null });
                toast(p.number + ' now goes to ' + (names.get(agentCell.value) || 'no agent'));
            }));
            return h('tr', h('td', p.number), h('td', p.provider), h('td', agentCell), h('td', p.label || ''),
                h('td', h('code', p.webhook_url || '')), h('td', fmtTime(p.updated_at)),
                h('td', admin ? h('button.danger', { type: 'button', 'aria-label': 'Remove ' + p.number, onclick: () => guard(async () => {
                    if (!confirm('Remove ' + p.number + '?')) return;
                    await api.del('/api/v1/phones/' + encodeURIComponent(p.id));
                    await load();
                }) }, 'Remove') : ''));
        })));
    }

    main.append(h('div.pagehead', h('h1', 'Numbers')), list);
    if (admin) {
        const number = h('input', { type: 'tel', required: true, placeholder: '+15551234567', pattern: '\\+[1-9][0-9]{7,14}' });
        const provider = h('select', h('option', { value: 'twilio' }, 'twilio'), h('option', { value: 'exotel' }, 'exotel'));
        const agent = agentSelect('', 'Agent');
        const label = h('input', { type: 'text', maxlength: 128 });
        const form = h('form.card', h('h2', 'Add a number'),
            h('div.toolbar', field('Number (E.164)', number), field('Carrier', provider), field('Agent', agent), field('Label', label),
                h('button', { type: 'submit' }, 'Add')));
        form.addEventListener('submit', (e) => {
            e.preventDefault();
            guard(async () => {
                const body = { number: number.value.trim(), provider: provider.value };
                if (agent.value) body.agent_id = agent.value;
                if (label.value.trim()) body.label = label.value.trim();
                await api.post('/api/v1/phones', body);
                form.reset();
                toast('Number added');
                await load();
            });
        });
        main.append(form);
    }
    await guard(load);
}
