// Analytics: GET /api/v1/analytics/summary (per agent and UTC day) for a date range, drawn with Chart.js (Debian's
// libjs-chart.js, served by the daemon at /vendor/chart.min.js and loaded on first use; its tooltips show the numbers
// on hover): calls per day, outcomes, answer rate per day, average duration and voice-to-voice latency p50/p95 per
// agent; the same numbers in a table below for keyboard and screen-reader users.
import * as api from '../api.js';
import { h, field, guard, table, empty } from '../ui.js';
import { agentNames } from '../agentnames.js';

let chartLoading = null;
function loadChart() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartLoading) chartLoading = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = new URL('vendor/chart.min.js', document.baseURI).pathname;
        s.onload = () => resolve(window.Chart);
        s.onerror = () => { chartLoading = null; reject(new Error('the chart library (/vendor/chart.min.js) could not be loaded')); };
        document.head.append(s);
    });
    return chartLoading;
}

const day = (d) => d.toISOString().slice(0, 10);
const COLOURS = ['#1f5fbf', '#1b7a3a', '#b3261e', '#9a6700', '#6b3fa0', '#00838f', '#c2185b', '#5f6b7a'];

export async function render(main) {
    let names = new Map();
    try { names = await agentNames(); } catch { /* cosmetic */ }
    const today = new Date();
    const since = h('input', { type: 'date', value: day(new Date(today.getTime() - 29 * 86400000)) });
    const until = h('input', { type: 'date', value: day(today) });
    const agent = h('select', h('option', { value: '' }, 'all agents'), [...names].map(([id, n]) => h('option', { value: id }, n)));
    const form = h('form.toolbar', { 'aria-label': 'Date range' }, field('From (UTC day)', since), field('To (UTC day)', until), field('Agent', agent),
        h('button', { type: 'submit' }, 'Show'));
    const out = h('div');
    main.append(h('div.pagehead', h('h1', 'Analytics')), form, out);
    let charts = [];
    const destroy = () => { charts.forEach(c => c.destroy()); charts = []; };

    async function load() {
        const data = await api.get('/api/v1/analytics/summary', { since: since.value, until: until.value, agent_id: agent.value });
        destroy();
        if (!data.items.length) {
            out.replaceChildren(empty('No finished call between ' + data.since + ' and ' + data.until + '. Calls are counted a moment after they end; widen the range or make a test call from an agent\'s page.'));
            return;
        }
        const Chart = await loadChart();
        const items = data.items;
        const days = [...new Set(items.map(i => i.day))].sort();
        const agents = [...new Set(items.map(i => i.agent_id))];
        const label = (id) => names.get(id) || id;
        const per = (id, d) => items.find(i => i.agent_id === id && i.day === d);

        // Per agent over the whole range: weighted by calls (durations by answered calls).
        const totals = agents.map(id => {
            const rows = items.filter(i => i.agent_id === id);
            const calls = rows.reduce((n, r) => n + r.calls, 0);
            const answered = rows.reduce((n, r) => n + r.answered, 0);
            const w = (f, by) => { const n = rows.reduce((s, r) => s + (r[by] || 0), 0); return n ? rows.reduce((s, r) => s + (r[f] || 0) * (r[by] || 0), 0) / n : 0; };
            return { id, calls, answered, answer_rate: calls ? answered / calls : 0, duration: w('duration_avg_s', 'answered'),
                p50: Math.max(...rows.map(r => r.v2v_p50_ms || 0)), p95: Math.max(...rows.map(r => r.v2v_p95_ms || 0)) };
        });
        const outcomes = {};
        for (const i of items) for (const [k, v] of Object.entries(i.outcomes || {})) outcomes[k] = (outcomes[k] || 0) + v;

        const box = (name, title) => {
            const canvas = h('canvas', { testid: 'analytics-chart-' + name, role: 'img', 'aria-label': title });
            return [h('section', h('h2', title), h('div.chart-box', canvas)), canvas];
        };
        const [callsBox, callsCanvas] = box('calls', 'Calls per day');
        const [outBox, outCanvas] = box('outcomes', 'Outcomes');
        const [rateBox, rateCanvas] = box('answer-rate', 'Answer rate per day');
        const [durBox, durCanvas] = box('duration', 'Average duration per agent (s)');
        const [latBox, latCanvas] = box('latency', 'Voice-to-voice latency per agent (ms)');
        out.replaceChildren(h('div.charts', callsBox, outBox, rateBox, durBox, latBox),
            h('h2', 'Per agent'), table(['Agent', 'Calls', 'Answered', 'Answer rate', 'Avg duration (s)', 'Latency p50 (ms, worst day)', 'Latency p95 (ms, worst day)'],
                totals.map(t => h('tr', h('td', label(t.id)), h('td.num', String(t.calls)), h('td.num', String(t.answered)),
                    h('td.num', Math.round(t.answer_rate * 100) + '%'), h('td.num', t.duration.toFixed(1)), h('td.num', String(Math.round(t.p50))), h('td.num', String(Math.round(t.p95)))))));

        const common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false } };
        charts.push(new Chart(callsCanvas, { type: 'bar', data: { labels: days, datasets: agents.map((id, k) => ({ label: label(id), data: days.map(d => (per(id, d) || {}).calls || 0), backgroundColor: COLOURS[k % COLOURS.length] })) },
            options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }) }));
        charts.push(new Chart(outCanvas, { type: 'doughnut', data: { labels: Object.keys(outcomes), datasets: [{ data: Object.values(outcomes), backgroundColor: Object.keys(outcomes).map((_, k) => COLOURS[k % COLOURS.length]) }] },
            options: { responsive: true, maintainAspectRatio: false, animation: false } }));
        charts.push(new Chart(rateCanvas, { type: 'line', data: { labels: days, datasets: agents.map((id, k) => ({ label: label(id), data: days.map(d => { const r = per(id, d); return r ? Math.round(r.answer_rate * 1000) / 10 : null; }), borderColor: COLOURS[k % COLOURS.length], backgroundColor: COLOURS[k % COLOURS.length], pointRadius: 4, spanGaps: true })) },
            options: Object.assign({}, common, { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: '%' } } } }) }));
        charts.push(new Chart(durCanvas, { type: 'bar', data: { labels: totals.map(t => label(t.id)), datasets: [{ label: 'average duration (s)', data: totals.map(t => Math.round(t.duration * 10) / 10), backgroundColor: COLOURS[0] }] },
            options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }) }));
        charts.push(new Chart(latCanvas, { type: 'bar', data: { labels: totals.map(t => label(t.id)), datasets: [
            { label: 'p50 (ms)', data: totals.map(t => Math.round(t.p50)), backgroundColor: COLOURS[1] },
            { label: 'p95 (ms)', data: totals.map(t => Math.round(t.p95)), backgroundColor: COLOURS[3] }] },
            options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }) }));
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); guard(load); });
    await guard(load);
    return destroy;
}
