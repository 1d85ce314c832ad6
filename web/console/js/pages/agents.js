// Agents: the list, and one agent's JSON definition in a textarea (create with POST, save with PUT), the schema's
// validation errors (400/422 details, JSON pointers) listed under the editor each with data-field = the pointer and
// a button that selects that member in the text, the agent's kept versions (one loads read-only into the editor;
// saving it PUTs it back as a new version), and "Try it" (text chat, voice call).
import * as api from '../api.js';
import { h, field, guard, table, empty, fmtTime, toast, showError, hideError } from '../ui.js';
import { chatPanel } from '../chat.js';
import { voicePanel } from '../voice.js';
import { locatePointer } from '../jsonpos.js';
import { forgetAgents } from '../agentnames.js';

const TEMPLATE = {
    name: 'my-agent',
    description: 'What this agent is for',
    language: 'en-US',
    first_message: 'Hello! How can I help you?',
    system_prompt: 'You are a helpful assistant. Keep answers short.',
    stt: { provider: 'pocketsphinx', language: 'en-us', phrases: ['hello', 'what are your hours', 'goodbye'] },
    llm: { provider: 'scripted' },
    tts: { provider: 'espeak-ng', voice: 'en-us', rate: 170 },
    script: {
        intents: [
            { name: 'hours', keywords: ['hours', 'open'], reply: 'We are open from nine to five, Monday to Friday.' },
            { name: 'bye', keywords: ['goodbye', 'bye'], reply: 'Goodbye!', tool: { name: 'end_call' } },
        ],
        fallback: 'Sorry, I can tell you our opening hours.',
    },
};

export async function render(main, params) {
    if (params[0] === 'new') return editor(main, null);
    if (params[0]) return editor(main, params[0]);
    return list(main);
}

async function list(main) {
    const head = h('div.pagehead', h('h1', 'Agents'),
        api.can('member') ? h('a.button-link', { href: '#/agents/new' }, h('span', 'New agent')) : null);
    main.append(head);
    const page = await api.get('/api/v1/agents', { limit: 500 });
    if (!page.items.length) {
        main.append(empty(api.can('member')
            ? 'No agent yet. Create one with "New agent" (a working offline template is filled in), or run `vactl agents apply -f examples/agents/receptionist.json`.'
            : 'No agent yet. Ask a member or admin to create one.'));
        return;
    }
    main.append(table(['Name', 'Version', 'Description', 'Updated'], page.items.map(a => h('tr',
        h('td', h('a', { href: '#/agents/' + encodeURIComponent(a.id) }, a.name)),
        h('td.num', String(a.version)),
        h('td', (a.definition && a.definition.description) || ''),
        h('td', fmtTime(a.updated_at))))));
}

async function editor(main, id) {
    const agent = id ? await api.get('/api/v1/agents/' + encodeURIComponent(id)) : null;
    const canWrite = api.can('member');
    const text = JSON.stringify(agent ? agent.definition : TEMPLATE, null, 2);
    const area = h('textarea.code', { testid: 'agent-editor', spellcheck: 'false', readonly: !canWrite, rows: 24 });
    area.value = text;
    const errors = h('div.errors', { 'aria-live': 'polite' });
    const save = h('button', { type: 'button', testid: 'agent-save', hidden: !canWrite }, agent ? 'Save' : 'Create');
    const remove = agent && canWrite ? h('button.danger', { type: 'button' }, 'Delete') : null;
    const versions = h('div', { testid: 'agent-versions' });
    const previewNote = h('p.hint', { testid: 'version-preview', 'aria-live': 'polite', hidden: true });
    const backToEdit = h('button', { type: 'button', hidden: true }, 'Back to editing');
    // While an old version is previewed the editor is read-only and Save restores it; `draft` keeps what was being
    // edited before, so "Back to editing" loses nothing.
    let previewing = null;
    let draft = text;
    const setPreview = (v) => {
        previewing = v;
        area.readOnly = !canWrite || v !== null;
        previewNote.hidden = v === null;
        previewNote.textContent = v ? 'Previewing version ' + v.version + ' of ' + fmtTime(v.updated_at) + ' (read-only).'
            + (canWrite ? ' Save to make it the current definition, as a new version.' : '') : '';
        backToEdit.hidden = v === null;
        save.textContent = v ? 'Save as new version' : (agent ? 'Save' : 'Create');
    };
    const loadVersion = (v) => {
        if (previewing === null) draft = area.value;
        errors.replaceChildren();
        if (v.version === agent.version) {
            area.value = draft;
            setPreview(null);
            return;
        }
        area.value = JSON.stringify(v.definition, null, 2);
        setPreview(v);
    };
    backToEdit.addEventListener('click', () => { area.value = draft; setPreview(null); area.focus(); });
    const loadVersions = async () => {
        const page = await api.get('/api/v1/agents/' + encodeURIComponent(agent.id) + '/versions', { limit: 50 });
        versions.replaceChildren(page.items.length ? table(['Version', 'Saved', 'Editor'], page.items.map(v => h('tr', { testid: 'agent-version', dataset: { version: String(v.version) } },
            h('td.num', String(v.version) + (v.version === agent.version ? ' (current)' : '')),
            h('td', fmtTime(v.updated_at)),
            h('td', h('button.link', { type: 'button', testid: 'version-load', 'aria-label': 'Load version ' + v.version + ' into the editor', onclick: () => loadVersion(v) },
                v.version === agent.version ? 'Edit' : 'Load'))))) : empty('No version kept yet: saving the agent keeps one.'));
    };
    const meta = h('p.hint', agent ? 'Version ' + agent.version + ', updated ' + fmtTime(agent.updated_at) + ' (' + agent.id + ')'
        : 'Edit the JSON definition (see docs/agents.md), then create it.');

    const showFieldErrors = (details) => {
        errors.replaceChildren(...details.map(d => h('div.field-error', { testid: 'field-error', dataset: { field: d.field || '' }, role: 'alert' },
            h('button.link', { type: 'button', 'aria-label': 'Show ' + (d.field || 'the document') + ' in the editor', onclick: () => jump(d.field) }, h('code', d.field || '(document)')),
            ' ' + (d.reason || ''))));
    };
    const jump = (pointer) => {
        const range = locatePointer(area.value, pointer || '');
        area.focus();
        if (range) {
            area.setSelectionRange(range[0], range[1]);
            // Scroll the selection into view: approximate by line number.
            const line = area.value.slice(0, range[0]).split('\n').length;
            area.scrollTop = Math.max(0, (line - 5) * 18);
        }
    };

    save.addEventListener('click', async () => {
        hideError();
        let def;
        try { def = JSON.parse(area.value); } catch (e) {
            showFieldErrors([{ field: '', reason: 'not valid JSON: ' + e.message }]);
            return;
        }
        save.disabled = true;
        try {
            const saved = agent ? await api.put('/api/v1/agents/' + encodeURIComponent(agent.id), def) : await api.post('/api/v1/agents', def);
            errors.replaceChildren();
            forgetAgents();
            toast('Agent ' + saved.name + (agent ? ' saved (version ' + saved.version + ')' : ' created'));
            if (!agent) location.hash = '#/agents/' + encodeURIComponent(saved.id);
            else {
                agent.version = saved.version; agent.updated_at = saved.updated_at;
                meta.textContent = 'Version ' + saved.version + ', updated ' + fmtTime(saved.updated_at) + ' (' + saved.id + ')';
                draft = area.value;
                setPreview(null);
                guard(loadVersions);
            }
        } catch (e) {
            if ((e.status === 400 || e.status === 422) && e.details && e.details.length) {
                // Pointers from the schema (/tts/rate); plain member names (name) from the body checks.
                showFieldErrors(e.details.map(d => ({ field: d.field && !d.field.startsWith('/') && d.field !== 'body' ? '/' + d.field : d.field, reason: d.reason })));
                showError({ message: e.message });
            } else {
                errors.replaceChildren();
                showError(e);
            }
        } finally { save.disabled = false; }
    });
    if (remove) remove.addEventListener('click', () => guard(async () => {
        if (!confirm('Delete agent ' + agent.name + '?')) return;
        await api.del('/api/v1/agents/' + encodeURIComponent(agent.id));
        forgetAgents();
        toast('Agent deleted');
        location.hash = '#/agents';
    }));

    main.append(h('div.pagehead', h('h1', agent ? 'Agent ' + agent.name : 'New agent'), h('a', { href: '#/agents' }, 'All agents')));
    const editorCard = h('section.card', errors, previewNote, field('Definition (JSON)', area), h('div.actions', save, backToEdit, remove), meta);
    const left = agent ? h('div', editorCard, h('section.card', h('h2', 'Versions'), versions)) : editorCard;
    if (agent) await loadVersions();
    const panels = [];
    if (agent && canWrite) panels.push(chatPanel(agent), voicePanel(agent));
    else if (agent) panels.push(h('p.empty', 'Trying an agent needs the member role.'));
    main.append(h('div.grid2', left, h('div', panels)));
    return () => panels.forEach(p => p.dispose && p.dispose());
}
