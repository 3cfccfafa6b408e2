// Connection-level headers out (RFC 9110 §7.6.1), including every name the client lists in
// `Connection`. This runs BEFORE the client-certificate rules: a token such as
// `Connection: X-SSL-Client-Subject-CN` may only remove the client's own copy, never the header the
// edge sets afterwards (HAProxy does not act on such tokens at all, so its own headers always reach
// the upstream). The upstream hop sets its own connection headers.
import { HOP_BY_HOP_REQUEST_HEADERS } from '../hopByHop.js';
import type { Stage } from '../requestContext.js';

// Tokens that name the connection itself, and Host, which the route and the upstream need (a token
// cannot take the request's target away; Go's reverse proxy cannot remove it either).
const NOT_REMOVABLE_BY_TOKEN = new Set(['close', 'keep-alive', 'upgrade', 'host']);
// Most header names can be passed by length alone, which spares a toLowerCase per header per request.
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP_REQUEST_HEADERS].map((n) => n.length));

/** Names listed in Connection headers, lower-cased, or null when there are none. */
function connectionTokens(h: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (h[i].length === 10 && h[i].toLowerCase() === 'connection') {
      for (const t of h[i + 1].split(',')) {
        const name = t.trim().toLowerCase();
        if (name && !NOT_REMOVABLE_BY_TOKEN.has(name)) (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/**
 * `keepUpgrade`: an Upgrade request keeps its `Upgrade` and `Connection` headers (the upstream
 * must see what is asked of it); the names the Connection header lists still go.
 */
export function hopByHopHeaders(opts: { keepUpgrade: boolean }): Stage {
  const removed = (name: string, listed: Set<string> | null): boolean => {
    if (listed === null && !HOP_BY_HOP_LENGTHS.has(name.length)) return false;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_REQUEST_HEADERS.has(lower) && !(opts.keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) return true;
    return listed?.has(lower) === true;
  };
  return (ctx) => {
    const h = ctx.headers;
    const listed = connectionTokens(h);
    // Most requests carry no hop-by-hop header: their list is kept as it is, not copied.
    let first = 0;
    while (first + 1 < h.length && !removed(h[first], listed)) first += 2;
    if (first + 1 >= h.length) return true;
    const out = h.slice(0, first);
    for (let i = first + 2; i + 1 < h.length; i += 2) if (!removed(h[i], listed)) out.push(h[i], h[i + 1]);
    ctx.headers = out;
    return true;
  };
}
