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
    const email = wrap.querySelector('[data-testid=signin-email]');
    if (email) email.focus();
}

function firstStart(status) {
    const origin = location.origin.startsWith('http') ? location.origin : 'http://127.0.0.1:8700';
    return h('section.card.first-start', { 'aria-labelledby': 'first-start-title' },
        h('h1', { id: 'first-start-title' }, 'Welcome: create the first user'),
        h('p', 'This daemon has no user yet. Create the first one (the owner) from the machine the daemon runs on. ' +
            'On its first start the daemon wrote an owner API key to admin.key in its data directory; vactl uses it:'),
        h('pre', h('code', 'vactl users add you@example.com --role owner')),
        h('p', status.bootstrap_from_loopback
            ? 'Or, while no user and no API key exists, bootstrap an owner from the daemon\'s own machine (loopback only):'
            : 'Bootstrap (when every key was revoked) is accepted only from the daemon\'s own machine:'),
        h('pre', h('code', 'curl -X POST ' + (origin.includes('127.0.0.1') || origin.includes('localhost') ? origin : 'http://127.0.0.1:8700') +
            '/api/v1/auth/bootstrap \\\n  -H \'Content-Type: application/json\' \\\n  -d \'{"email": "you@example.com", "password": "a long password"}\'')),
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
