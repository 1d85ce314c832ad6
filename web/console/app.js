// The console's entry module (loaded by index.html; no inline script, the Content-Security-Policy forbids it):
// restores the session through the refresh cookie, draws the navigation for the signed-in role and routes on
// location.hash (#/agents, #/calls/ID, ...) to page modules. Each page's render(main, params) may return a cleanup
// function, called before the next page is drawn (to drop event listeners, timers, sockets).
import * as api from './js/api.js';
import * as events from './js/events.js';
import { h, clear, hideError, showError } from './js/ui.js';

// name, title, minimum role, loader; the order is the navigation's.
const PAGES = [
    ['live', 'Live calls', 'viewer', () => import('./js/pages/live.js')],
    ['calls', 'Calls', 'viewer', () => import('./js/pages/calls.js')],
    ['agents', 'Agents', 'viewer', () => import('./js/pages/agents.js')],
    ['numbers', 'Numbers', 'viewer', () => import('./js/pages/numbers.js')],
    ['campaigns', 'Campaigns', 'viewer', () => import('./js/pages/campaigns.js')],
    ['webhooks', 'Webhooks', 'viewer', () => import('./js/pages/webhooks.js')],
    ['users', 'Users & keys', 'admin', () => import('./js/pages/users.js')],
    ['analytics', 'Analytics', 'viewer', () => import('./js/pages/analytics.js')],
];

let cleanup = null;
let renderSeq = 0;

function parseHash() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    return { page: parts[0] || '', rest: parts.slice(1) };
}

function drawNav() {
    const nav = document.getElementById('nav');
    clear(nav);
    const signed = api.signedIn();
    nav.hidden = !signed;
    document.getElementById('nav-toggle').hidden = !signed;
    document.getElementById('signout').hidden = !signed;
    document.getElementById('ws-status').hidden = !signed;
    const who = document.getElementById('whoami');
    who.textContent = '';
    if (!signed) return;
    const me = api.me() || {};
    const name = me.user ? (me.user.name || me.user.email) : me.api_key ? 'key ' + me.api_key.name : '';
    who.textContent = name + (me.role ? ' (' + me.role + ')' : '');
    const current = parseHash().page;
    nav.append(h('ul', PAGES.filter(p => api.can(p[2])).map(([name, title]) =>
        h('li', h('a', { href: '#/' + name, testid: 'nav-' + name, 'aria-current': current === name ? 'page' : null }, title)))));
}

async function route() {
    const seq = ++renderSeq;
    if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
    hideError();
    closeNavOnPhone();
    const main = document.getElementById('main');
    const { page, rest } = parseHash();
    if (!api.signedIn()) {
        const mod = await import('./js/pages/signin.js');
        if (seq !== renderSeq) return;
        clear(main);
        cleanup = (await mod.render(main, rest)) || null;
        drawNav();
        return;
    }
    const entry = PAGES.find(p => p[0] === page);
    if (!entry || page === 'signin') { location.replace('#/live'); return; }
    drawNav();
    if (!api.can(entry[2])) {
        clear(main).append(h('h1', entry[1]), h('p.empty', 'Your role (' + api.role() + ') cannot open this page; ask an admin.'));
        return;
    }
    let mod;
    try { mod = await entry[3](); } catch (e) { showError(e); return; }
    if (seq !== renderSeq) return;
    clear(main);
    try {
        cleanup = (await mod.render(main, rest)) || null;
    } catch (e) { showError(e); }
    if (seq !== renderSeq && cleanup) { cleanup(); cleanup = null; }
}

function closeNavOnPhone() {
    document.body.classList.remove('nav-open');
    document.getElementById('nav-toggle').setAttribute('aria-expanded', 'false');
}

async function main() {
    document.getElementById('nav-toggle').addEventListener('click', () => {
        const open = document.body.classList.toggle('nav-open');
        document.getElementById('nav-toggle').setAttribute('aria-expanded', String(open));
    });
    document.getElementById('signout').addEventListener('click', async () => {
        await api.logout();
        location.hash = '#/signin';
    });
    api.onSession((signed) => {
        if (signed) events.start(); else events.stop();
        if (!signed) location.hash = '#/signin';
        route();
    });
    window.addEventListener('hashchange', route);
    await api.restore();
    if (api.signedIn()) events.start();
    route();
}

main();
