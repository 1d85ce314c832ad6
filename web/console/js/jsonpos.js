// Where a JSON pointer (/tts/rate, /script/intents/2) points in a JSON text: [start, end) of the member's key (or the
// array element), found by a small scanner that follows the text's structure. Used to select a validation error's
// member in the agent editor. Returns null when the text is not parseable that far or the member is missing.
export function locatePointer(text, pointer) {
    const path = pointer.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let i = 0;
    const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
    const str = () => { const s = i; i++; while (i < text.length && text[i] !== '"') { if (text[i] === '\\') i++; i++; } i++; return [s, i]; };
    const skip = () => {
        ws();
        const c = text[i];
        if (c === '"') { str(); return; }
        if (c === '{' || c === '[') {
            let depth = 0;
            while (i < text.length) {
                const d = text[i];
                if (d === '"') { str(); continue; }
                if (d === '{' || d === '[') depth++;
                if (d === '}' || d === ']') { depth--; if (depth === 0) { i++; return; } }
                i++;
            }
            return;
        }
        while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
    };
    let found = null;
    for (const key of path) {
        ws();
        if (text[i] === '{') {
            i++;
            let hit = null;
            for (;;) {
                ws();
                if (text[i] !== '"') return found;
                const [ks, ke] = str();
                const name = safeParse(text.slice(ks, ke));
                ws(); i++; // colon
                if (name === key) { hit = [ks, ke]; break; }
                skip(); ws();
                if (text[i] === ',') { i++; continue; }
                return found;
            }
            found = hit;
        } else if (text[i] === '[') {
            i++;
            const n = Number(key);
            if (!Number.isInteger(n)) return found;
            for (let k = 0; k < n; k++) { skip(); ws(); if (text[i] !== ',') return found; i++; }
            ws();
            const s = i; skip();
            found = [s, i];
            i = s;
        } else return found;
    }
    return found;
}

function safeParse(s) { try { return JSON.parse(s); } catch { return null; } }
