// Several Host header lines. HAProxy answers 400 when their values differ and forwards one Host when
// they are the same (checked with HAProxy 2.6 and 3.2); the routes, the domain-fronting check and
// the app would otherwise each read a different one (Node keeps the first, a Go app the first,
// others the last).
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

export function duplicateHost(): Stage {
  return (ctx) => {
    const h = ctx.headers;
    let first = -1;
    let repeated = false;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i].length !== 4 || h[i].toLowerCase() !== 'host') continue;
      if (first < 0) first = i;
      else if (h[i + 1].trim() !== h[first + 1].trim()) return answered(ctx, 400, 'several Host headers with different values');
      else repeated = true;
    }
    if (!repeated) return true;
    const out: string[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) if (i === first || h[i].length !== 4 || h[i].toLowerCase() !== 'host') out.push(h[i], h[i + 1]);
    ctx.headers = out;
    return true;
  };
}
