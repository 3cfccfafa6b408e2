// Hop-by-hop headers out, then X-Forwarded-Proto (only if the client sent none) and one
// X-Forwarded-For line with the client address (HAProxy's `option forwardfor`), in that order.
import type { Stage } from '../requestContext.js';

// Connection-level headers are never forwarded (RFC 9110 §7.6.1); the upstream hop sets its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);
// Most header names can be passed by length alone, which spares a toLowerCase per header per request.
const INTERESTING_LENGTHS = new Set([...HOP_BY_HOP, 'x-forwarded-proto'].map((n) => n.length));

/** Names listed in Connection headers, lower-cased (also hop-by-hop). */
function connectionTokens(h: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (h[i].length === 10 && h[i].toLowerCase() === 'connection') {
      for (const t of h[i + 1].split(',')) {
        const name = t.trim().toLowerCase();
        if (name && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

export function forwardedHeaders(opts: { keepUpgrade: boolean }): Stage {
  return (ctx) => {
    const h = ctx.headers;
    const extra = connectionTokens(h);
    const out: string[] = [];
    let hasProto = false;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i];
      if (!INTERESTING_LENGTHS.has(name.length) && extra === null) {
        out.push(name, h[i + 1]);
        continue;
      }
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) && !(opts.keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) continue;
      if (extra?.has(lower)) continue;
      if (lower === 'x-forwarded-proto') hasProto = true;
      out.push(name, h[i + 1]);
    }
    if (!hasProto) out.push('X-Forwarded-Proto', ctx.listener);
    out.push('X-Forwarded-For', ctx.clientAddress);
    ctx.headers = out;
    return true;
  };
}
