// Sign-in (email and password, or an API key) and the first-start screen shown while the daemon has no user.
import * as api from '../api.js';
import { h, field, guard } from '../ui.js';

export async function render(main) {
    let status = null;
    try { status = await api.authStatus(); } catch { /* an older daemon without auth/status: just sign in */ }
    const wrap = h('div.signin');
    main.append(wrap);
    if (status && status.has_users === false) wrap.append(firstStart(status));
    wrap.append(signinForm(), keyForm());
    // Focus the email field, unless the first-start screen should be read first.
    const email = wrap.querySelector('[data-testid=signin-email]');
    if (email && !(status && status.has_users === false)) email.focus();
}

function firstStart(status) {
    // The daemon's own address as the browser sees it; the commands run on the daemon's machine, where vactl finds
    // the owner key by itself (docs/vactl.md) and curl reads it from the data directory.
    const origin = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(location.origin) ? location.origin : 'http://127.0.0.1:8700';
    const body = '{"email": "you@example.com", "password": "a long password", "role": "owner"}';
    const steps = [
        h('p', 'This daemon has no user yet. Create the first one (the owner) on the machine the daemon runs on. ' +
            'On its first start the daemon wrote an owner API key to admin.key in its data directory, and vactl uses it there ' +
            'without signing in (it asks for the new user\'s password):'),
        h('pre', h('code', 'vactl users add you@example.com --role owner')),
        h('p', 'Or with curl and that key (DATA_DIR is the daemon\'s data directory, var/ with ./scripts/run):'),
        h('pre', h('code', 'curl -X POST ' + origin + '/api/v1/users \\\n  -H "Authorization: Bearer $(cat DATA_DIR/admin.key)" \\\n' +
            '  -H \'Content-Type: application/json\' \\\n  -d \'' + body + '\'')),
    ];
    if (status.bootstrap_from_loopback)
        steps.push(h('p', 'Every API key has been revoked, so the bootstrap route is open (only from the daemon\'s own machine):'),
            h('pre', h('code', 'curl -X POST ' + origin + '/api/v1/auth/bootstrap \\\n  -H \'Content-Type: application/json\' \\\n' +
                '  -d \'{"email": "you@example.com", "password": "a long password"}\'')));
    return h('section.card.first-start', { 'aria-labelledby': 'first-start-title' },
        h('h1', { id: 'first-start-title' }, 'Welcome: create the first user'), ...steps,
        h('p', 'Then sign in below with that email and password.'));
}

function signinForm() {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, testid: 'signin-email' });
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, testid: 'signin-password' });
    const submit = h('button', { type: 'submit', testid: 'signin-submit' }, 'Sign in');
    const form = h('form.card', { 'aria-labelledby': 'signin-title' },
        h('h1', { id: 'signin-title' }, 'Sign in'),
        field('Email', email), field('Password', password), h('div.actions', submit));
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        submit.disabled = true;
        await guard(() => api.login(email.value.trim(), password.value));
        submit.disabled = false;
        password.value = '';
    });
    return form;
}

function keyForm() {
    const key = h('input', { type: 'password', name: 'api_key', autocomplete: 'off', placeholder: 'vak_...', required: true, testid: 'signin-key' });
    const form = h('form', h('details.card',
        h('summary', 'Sign in with an API key instead'),
        h('p.hint', 'The key stays in this tab\'s memory only; reloading the page signs you out.'),
        field('API key', key), h('div.actions', h('button', { type: 'submit' }, 'Use key'))));
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        await guard(() => api.loginWithKey(key.value.trim()));
        key.value = '';
    });
    return form;
}
