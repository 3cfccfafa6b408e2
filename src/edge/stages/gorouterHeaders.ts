// Optional Gorouter layer (docs/edge-behaviour.md §7.2): X-Request-Start if absent, a fresh X-Vcap-Request-Id, and the
// X-CF-* instance headers a client must not be able to choose.
import { randomUUID } from 'node:crypto';
import type { Stage } from '../requestContext.js';

const STRIPPED = new Set(['x-cf-applicationid', 'x-cf-instanceindex', 'x-cf-instanceid', 'x-vcap-request-id']);

export function gorouterHeaders(enabled: boolean): Stage {
  if (!enabled) return () => true;
  return (ctx) => {
    const out: string[] = [];
    let hasRequestStart = false;
    const h = ctx.headers;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const lower = h[i].toLowerCase();
      if (STRIPPED.has(lower)) continue;
      if (lower === 'x-request-start') hasRequestStart = true;
      out.push(h[i], h[i + 1]);
    }
    if (!hasRequestStart) out.push('X-Request-Start', String(ctx.startedAt));
    out.push('X-Vcap-Request-Id', randomUUID());
    ctx.headers = out;
    return true;
  };
}
