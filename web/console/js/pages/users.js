// Users and API keys (admins): GET/POST/PATCH/DELETE /api/v1/users and GET/POST/DELETE /api/v1/api-keys. A new
// key is shown once. Roles offered are those at or below the signed-in role (the API refuses higher ones anyway).
import * as api from '../api.js';
import { h, field, guard, table, empty, fmtTime, toast } from '../ui.js';

const ROLES = ['viewer', 'member', 'admin', 'owner'];

export async function render(main) {
    const roles = ROLES.filter(r => api.can(r));
    const roleSelect = (value, label) => {
        const s = h('select', { 'aria-label': label }, ROLES.map(r => h('option', { value: r, disabled: !roles.includes(r), selected: r === value }, r)));
        s.value = value;
        return s;
    };
    const users = h('div');
    const keys = h('div');
    const keyBox = h('div');

    async function loadUsers() {
        const page = await api.get('/api/v1/users', { limit: 500 });
        users.replaceChildren(table(['Email', 'Name', 'Role', 'Status', 'Created', ''], page.items.map(u => {
            const role = roleSelect(u.role, 'Role of ' + u.email);
            role.addEventListener('change', () => guard(async () => { await api.patch('/api/v1/users/' + encodeURIComponent(u.id), { role: role.value }); toast(u.email + ' is now ' + role.value); }).then(loadUsers));
            return h('tr', h('td', u.email), h('td', u.name || ''), h('td', role), h('td', u.disabled ? 'disabled' : 'active'), h('td', fmtTime(u.created_at)),
                h('td', h('button.secondary', { type: 'button', onclick: () => guard(async () => {
                    await api.patch('/api/v1/users/' + encodeURIComponent(u.id), { disabled: !u.disabled });
                    await loadUsers();
                }) }, u.disabled ? 'Enable' : 'Disable'), ' ',
                h('button.danger', { type: 'button', 'aria-label': 'Delete ' + u.email, onclick: () => guard(async () => {
                    if (!confirm('Delete ' + u.email + '? Their sessions and API keys stop working.')) return;
                    await api.del('/api/v1/users/' + encodeURIComponent(u.id));
                    await loadUsers();
                }) }, 'Delete')));
        })));
    }

    async function loadKeys() {
        const page = await api.get('/api/v1/api-keys', { limit: 500 });
        keys.replaceChildren(page.items.length ? table(['Name', 'Role', 'Prefix', 'Created', 'Last used', 'Revoked', ''], page.items.map(k => h('tr',
            h('td', k.name), h('td', k.role), h('td', h('code', k.prefix || '')), h('td', fmtTime(k.created_at)), h('td', fmtTime(k.last_used_at)),
            h('td', fmtTime(k.revoked_at)),
            h('td', k.revoked_at ? '' : h('button.danger', { type: 'button', 'aria-label': 'Revoke ' + k.name, onclick: () => guard(async () => {
                if (!confirm('Revoke key ' + k.name + '? Scripts using it stop working at once.')) return;
                await api.del('/api/v1/api-keys/' + encodeURIComponent(k.id));
                await loadKeys();
            }) }, 'Revoke')))))
            : empty('No API key. Create one below for scripts and CI.'));
    }

    const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
    const name = h('input', { type: 'text', maxlength: 128 });
    const password = h('input', { type: 'password', required: true, autocomplete: 'new-password', minlength: 8 });
    const newRole = roleSelect('member', 'Role');
    const userForm = h('form.card', h('h2', 'Add a user'), h('div.toolbar', field('Email', email), field('Name', name), field('Password', password),
        h('div.field', h('label', { for: 'new-user-role' }, 'Role'), newRole), h('button', { type: 'submit' }, 'Add user')));
    newRole.id = 'new-user-role';
    userForm.addEventListener('submit', (e) => {
        e.preventDefault();
        guard(async () => {
            const body = { email: email.value.trim(), password: password.value, role: newRole.value };
            if (name.value.trim()) body.name = name.value.trim();
            await api.post('/api/v1/users', body);
            userForm.reset();
            toast('User added');
            await loadUsers();
        });
    });

    const keyName = h('input', { type: 'text', required: true, maxlength: 64 });
    const keyRole = roleSelect(api.role(), 'Key role');
    keyRole.id = 'new-key-role';
    const keyForm = h('form.card', h('h2', 'Create an API key'), h('div.toolbar', field('Name', keyName),
        h('div.field', h('label', { for: 'new-key-role' }, 'Role'), keyRole), h('button', { type: 'submit' }, 'Create key')));
    keyForm.addEventListener('submit', (e) => {
        e.preventDefault();
        guard(async () => {
            const answer = await api.post('/api/v1/api-keys', { name: keyName.value.trim(), role: keyRole.value });
            keyForm.reset();
            keyBox.replaceChildren(h('div.secret', { role: 'status' }, h('strong', 'New key ' + answer.api_key.name + ' (shown only now; copy it): '), h('code', answer.key)));
            await loadKeys();
        });
    });

    main.append(h('div.pagehead', h('h1', 'Users & API keys')), h('h2', 'Users'), users, userForm, h('h2', 'API keys'), keyBox, keys, keyForm);
    await guard(loadUsers);
    await guard(loadKeys);
}
