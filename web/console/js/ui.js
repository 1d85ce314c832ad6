// DOM helpers shared by the pages: element building without innerHTML (API text is never parsed as HTML), the
// error banner, formatting. Single-threaded like every page script.

// h('div.card', {attrs}, children...): attrs with on* keys become listeners, `dataset`/`testid` set data-*.
export function h(tag, attrs, ...children) {
    const [name, ...classes] = tag.split('.');
    const el = document.createElement(name || 'div');
    if (classes.length) el.className = classes.join(' ');
    if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
        children.unshift(attrs);
        attrs = null;
    }
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'testid') el.dataset.testid = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
        else if (k === 'value') el.value = v;
        else if (k === 'text') el.textContent = v;
        else if (v === true) el.setAttribute(k, '');
        else el.setAttribute(k, String(v));
    }
    append(el, children);
    return el;
}

function append(el, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        if (Array.isArray(c)) append(el, c);
        else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// A labelled form field: the label wraps nothing so it can sit above the control; `for` ties them.
let fieldSeq = 0;
export function field(labelText, control, hint) {
    if (!control.id) control.id = 'f' + (++fieldSeq);
    return h('div.field', h('label', { for: control.id }, labelText), control, hint ? h('small.hint', hint) : null);
}

// The page-wide error banner: one API error's message (and its details), dismissable.
export function showError(err) {
    const banner = document.getElementById('error-banner');
    if (!banner) return;
    clear(banner);
    const message = err && err.message ? err.message : String(err);
    banner.append(h('span.msg', message));
    // Details that the message does not already say (the API's message often quotes the first one).
    const details = err && Array.isArray(err.details) ? err.details.filter(d => !(d.reason && message.includes(d.reason))) : [];
    if (details.length) {
        banner.append(h('ul', details.map(d => h('li', (d.field ? d.field + ': ' : '') + (d.reason || JSON.stringify(d))))));
    }
    banner.append(h('button.link', { type: 'button', 'aria-label': 'Dismiss the error', onclick: hideError }, '×'));
    banner.hidden = false;
}
export function hideError() {
    const banner = document.getElementById('error-banner');
    if (banner) { banner.hidden = true; clear(banner); }
}
let toastTimer = 0;
export function toast(text) {
    const t = document.getElementById('toast');
    if (!t) return;
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3000);
}

// Runs an async action, showing any error in the banner; returns its result or undefined.
export async function guard(fn) {
    try { hideError(); return await fn(); } catch (e) { showError(e); return undefined; }
}

export function fmtTime(s) {
    if (!s) return '';
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString();
}
export function fmtDuration(sec) {
    if (sec === null || sec === undefined || sec === '') return '';
    sec = Math.max(0, Math.round(Number(sec)));
    const m = Math.floor(sec / 60), s = sec % 60;
    return m + ':' + String(s).padStart(2, '0');
}
export function fmtMs(ms) { return ms === null || ms === undefined ? '' : Math.round(ms) + ' ms'; }

export function badge(status) { return h('span.badge', { class: 'st-' + String(status || '').replace(/[^a-z-]/g, '') }, status || ''); }

// An empty state that says what to do next.
export function empty(text, action) { return h('div.empty', h('p', text), action || null); }

export function table(headers, rows, attrs) {
    return h('div.table-wrap', h('table', attrs || {},
        h('thead', h('tr', headers.map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', rows)));
}

export function button(text, onclick, attrs) { return h('button', Object.assign({ type: 'button', onclick }, attrs || {}), text); }
export function link(text, href, attrs) { return h('a', Object.assign({ href }, attrs || {}), text); }
