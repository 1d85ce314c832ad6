// Agent id -> name for tables (one list request, cached for a minute).
import * as api from './api.js';

let cache = null;
let at = 0;
export async function agentNames() {
    if (cache && Date.now() - at < 60000) return cache;
    const page = await api.get('/api/v1/agents', { limit: 500 });
    cache = new Map(page.items.map(a => [a.id, a.name]));
    at = Date.now();
    return cache;
}
export function forgetAgents() { cache = null; }
