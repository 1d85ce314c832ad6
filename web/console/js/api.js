// The API client: the access token lives in this module's memory only (never in storage); the refresh token is an
// HttpOnly cookie the page cannot read ("cookie mode", X-Voiceagent-Console: 1). A 401 or an access token about to
// expire triggers one refresh through the cookie (one in flight at a time, shared by every caller). Errors are
// thrown as ApiError {status, code, message, details} with the API's own message.

const ROLE_RANK = { viewer: 1, member: 2, admin: 3, owner: 4 };

// Development only: ?api=http://127.0.0.1:PORT in the page's address points the client at another origin (a daemon
// with that origin in server.cors_origins). The default is the page's own origin.
const base = (() => {
    const p = new URLSearchParams(location.search).get('api');
    return p && /^https?:\/\/[^/]+$/.test(p) ? p : '';
})();
// Cookie mode only on the daemon's own origin (the cookie is SameSite=Strict and the CSRF check wants that origin);
// against another origin the daemon answers the refresh token in the body, which then stays in memory only.
const CONSOLE_HEADER = base ? {} : { 'X-Voiceagent-Console': '1' };

const state = {
    token: null,        // access token or API key
    kind: null,         // 'session' (signed in with a password) or 'key' (an API key pasted in)
    expiresAt: 0,       // ms since epoch; 0 for API keys
    refreshToken: null, // only when a daemon without cookie mode returned one in the body; memory only
    me: null,           // {role, user?, api_key?, workspace?}
    refreshing: null,   // the refresh in flight
    timer: 0,
};
const listeners = new Set();

export class ApiError extends Error {
    constructor(status, code, message, details) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details || [];
    }
}

// True in the development set-up (another origin): headers the daemon's CORS list does not allow are left out.
export const crossOrigin = !!base;
export function apiUrl(path) { return base + path; }
export function wsUrl(path) {
    const origin = base || location.origin;
    return origin.replace(/^http/, 'ws') + path;
}
export function token() { return state.token; }
export function me() { return state.me; }
export function role() { return state.me ? state.me.role : null; }
export function can(minRole) { return (ROLE_RANK[role()] || 0) >= (ROLE_RANK[minRole] || 99); }
export function signedIn() { return !!state.token; }
// fn(signedIn) whenever the session starts or ends.
export function onSession(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function emit() { for (const fn of listeners) fn(!!state.token); }

async function toError(res) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    const e = body && body.error ? body.error : {};
    return new ApiError(res.status, e.code || 'http_' + res.status, e.message || res.statusText || ('HTTP ' + res.status), e.details);
}

function networkError(err) {
    return new ApiError(0, 'network', 'cannot reach the daemon: ' + (err && err.message ? err.message : err), []);
}

async function raw(method, path, { body, headers, contentType, auth = true } = {}) {
    const init = { method, headers: Object.assign({}, headers || {}), credentials: base ? 'omit' : 'same-origin' };
    if (auth && state.token) init.headers.Authorization = 'Bearer ' + state.token;
    if (body !== undefined) {
        if (contentType) { init.headers['Content-Type'] = contentType; init.body = body; }
        else { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    }
    try { return await fetch(apiUrl(path), init); } catch (err) { throw networkError(err); }
}

function adopt(answer, kind) {
    state.token = answer.access_token;
    state.kind = kind;
    state.expiresAt = Date.now() + (Number(answer.expires_in) || 900) * 1000;
    if (answer.refresh_token) state.refreshToken = answer.refresh_token;
    clearTimeout(state.timer);
    // Refresh a minute before expiry (or at 80% of a short lifetime).
    const life = state.expiresAt - Date.now();
    const lead = Math.min(60000, life * 0.2);
    state.timer = setTimeout(() => { refresh().catch(() => {}); }, Math.max(5000, life - lead));
}

async function loadMe() {
    const res = await raw('GET', '/api/v1/auth/me');
    if (!res.ok) throw await toError(res);
    state.me = await res.json();
}

// One refresh at a time: concurrent callers share the same promise.
export function refresh() {
    if (state.kind === 'key') return Promise.resolve(false);
    if (base && !state.refreshToken) return Promise.resolve(false);  // no cookie across origins
    if (state.refreshing) return state.refreshing;
    state.refreshing = (async () => {
        try {
            const body = state.refreshToken ? { refresh_token: state.refreshToken } : {};
            const headers = state.refreshToken ? {} : CONSOLE_HEADER;
            const res = await raw('POST', '/api/v1/auth/refresh', { body, headers, auth: false });
            if (!res.ok) {
                const hadSession = !!state.token;
                dropSession();
                if (hadSession) emit();
                return false;
            }
            const answer = await res.json();
            const first = !state.token;
            adopt(answer, 'session');
            if (answer.user) state.me = Object.assign({}, state.me || {}, { kind: 'user', role: answer.user.role, user: answer.user });
            if (first || !state.me || !state.me.workspace) await loadMe().catch(() => {});
            if (first) emit();
            return true;
        } finally {
            state.refreshing = null;
        }
    })();
    return state.refreshing;
}

function dropSession() {
    clearTimeout(state.timer);
    state.token = null; state.kind = null; state.expiresAt = 0; state.me = null; state.refreshToken = null;
}

// At start (and after a reload): the cookie, if any, restores the session. The daemon sets a readable marker
// (va_session) beside its HttpOnly refresh cookie, so a signed-out start asks nothing that is bound to fail.
export async function restore() {
    if (!base && !document.cookie.split(';').some(c => c.trim().startsWith('va_session=1'))) return false;
    try { return await refresh(); } catch { return false; }
}

export async function login(email, password) {
    const res = await raw('POST', '/api/v1/auth/login', { body: { email, password }, headers: CONSOLE_HEADER, auth: false });
    if (!res.ok) throw await toError(res);
    const answer = await res.json();
    adopt(answer, 'session');
    state.me = { kind: 'user', role: answer.user && answer.user.role, user: answer.user };
    await loadMe().catch(() => {});
    emit();
}

// Signing in with an API key pasted in: the key is the bearer token, kept in memory for this tab only.
export async function loginWithKey(key) {
    state.token = key; state.kind = 'key'; state.expiresAt = 0;
    try { await loadMe(); } catch (e) { dropSession(); throw e; }
    emit();
}

export async function logout() {
    if (state.kind === 'session') {
        const body = state.refreshToken ? { refresh_token: state.refreshToken } : {};
        const headers = state.refreshToken ? {} : CONSOLE_HEADER;
        try { await raw('POST', '/api/v1/auth/logout', { body, headers, auth: false }); } catch { /* signed out anyway */ }
    }
    dropSession();
    emit();
}

export async function authStatus() {
    const res = await raw('GET', '/api/v1/auth/status', { auth: false });
    if (!res.ok) throw await toError(res);
    return res.json();
}

// A valid access token, refreshed first when it is about to expire (for WebSockets and blob fetches).
export async function freshToken() {
    if (state.kind === 'session' && state.expiresAt - Date.now() < 30000) await refresh();
    return state.token;
}

// request('GET', '/api/v1/agents', {query, body, contentType, headers, as: 'json'|'blob'|'text'|'response'})
export async function request(method, path, opts = {}) {
    if (opts.query) {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
        const s = q.toString();
        if (s) path += (path.includes('?') ? '&' : '?') + s;
    }
    if (state.kind === 'session' && state.expiresAt - Date.now() < 10000) await refresh();
    let res = await raw(method, path, opts);
    if (res.status === 401 && state.kind === 'session') {
        if (await refresh()) res = await raw(method, path, opts);
    }
    if (!res.ok) throw await toError(res);
    if (opts.as === 'response') return res;
    if (opts.as === 'blob') return res.blob();
    if (opts.as === 'text') return res.text();
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, body, opts) => request('POST', path, Object.assign({ body }, opts || {}));
export const put = (path, body) => request('PUT', path, { body });
export const patch = (path, body) => request('PATCH', path, { body });
export const del = (path) => request('DELETE', path);
