// Too many header lines. HAProxy's HTTP/1 parser refuses a request whose head has more lines than
// tune.http.maxhdr (default 101), the request line included: 100 header lines pass, 101 get its
// 400 page and the connection closes, before any rule runs or the server is contacted (measured
// with HAProxy 2.6 and 3.2, test/parity/headerCount.test.ts). The HTTP servers keep
// MAX_HEADER_LINES + 1 headers (edge.ts, maxHeadersCount), enough to see one too many; Node drops
// the rest silently, so without this check the app got the first ~1,000 of them.
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

/** HAProxy's default tune.http.maxhdr (101) less the request line it counts: the header lines a request may have. */
export const MAX_HEADER_LINES = 100;

export function headerCount(): Stage {
  return (ctx) => {
    // The client's own list (Node keeps at least MAX_HEADER_LINES + 1 of them), not what earlier stages made of it.
    if (ctx.req.rawHeaders.length / 2 <= MAX_HEADER_LINES) return true;
    // HAProxy closes the connection after this 400, as after any request its parser refuses.
    ctx.res.shouldKeepAlive = false;
    return answered(ctx, 400, `more than ${MAX_HEADER_LINES} header lines (HAProxy's tune.http.maxhdr ${MAX_HEADER_LINES + 1} counts the request line)`);
  };
}
