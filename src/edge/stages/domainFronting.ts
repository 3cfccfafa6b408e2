// Gorouter/HAProxy domain-fronting guard: with SNI present, the Host must name the same server.
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

export type DomainFrontingSetting = boolean | 'mtls_only';

const MISSING_HOST = '400 Bad Request: missing required Host header';

export function domainFronting(setting: DomainFrontingSetting): Stage {
  return (ctx) => {
    // Without the guard only HTTP/1.1 requires a Host (as Gorouter's Go server does); the answer is
    // this page rather than Node's bare 400 (the HTTP servers run with requireHostHeader: false).
    // No Host header at all (an empty one is a Host that names no server: 421 below, as HAProxy).
    if (ctx.req.headers.host === undefined && (setting !== false || ctx.req.httpVersion !== '1.0')) {
      ctx.res.writeHead(400, ['content-type', 'text/plain', 'content-length', String(MISSING_HOST.length)]);
      ctx.res.end(MISSING_HOST);
      ctx.answeredWith = { status: 400, error: 'missing Host header' };
      return false;
    }
    if (setting === false) return true;
    const sni = ctx.conn?.sni;
    // HAProxy compares the SNI (lower case) with the Host as sent, port removed: a trailing dot counts.
    if (!sni || sni.toLowerCase() === ctx.hostOnly) return true;
    if (setting === 'mtls_only' && !ctx.conn?.certUsed) return true;
    return answered(ctx, 421, `domain fronting: SNI "${sni}" but Host "${ctx.host}"`);
  };
}
