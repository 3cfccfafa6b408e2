// X-Forwarded-Proto (only if the client sent none) and one X-Forwarded-For line with the client
// address (HAProxy's `option forwardfor`), in that order, at the end of the header list.
import type { Stage } from '../requestContext.js';

export function forwardedHeaders(): Stage {
  return (ctx) => {
    // Appends in place, except to the client's own list (req.rawHeaders stays as received).
    const h = ctx.headers === ctx.req.rawHeaders ? [...ctx.headers] : ctx.headers;
    let hasProto = false;
    for (let i = 0; i + 1 < h.length; i += 2) {
      if (h[i].length === 17 && h[i].toLowerCase() === 'x-forwarded-proto') {
        hasProto = true;
        break;
      }
    }
    if (!hasProto) h.push('X-Forwarded-Proto', ctx.listener);
    h.push('X-Forwarded-For', ctx.clientAddress);
    ctx.headers = h;
    return true;
  };
}
