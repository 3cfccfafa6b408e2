// HAProxy rewrites a request inside its one buffer (tune.bufsize, 16,384 bytes): a request head is
// read into bufsize - maxrewrite (15,360, the edge's max_header_size) and the http-request rules may
// grow it up to bufsize. A set-header that does not fit fails, and HAProxy (strict-mode, the default)
// answers 500 without contacting the server: measured with 2.6 and 3.2 for a client certificate with
// an ~8 KB subject, whose X-SSL-Client-Subject-DN and X-Forwarded-Client-Cert (base64) add ~22 KB.
// The edge answers the same instead of handing the upstream a head HAProxy would never send.
// The size counts what HAProxy's HTX stores: the request line, and per header its name, value and
// an 8-byte block; HTX's own small fixed overhead is left out (the edge errs toward forwarding).
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

/** HAProxy's default tune.maxrewrite: the part of the buffer kept free for rewriting. */
export const MAX_REWRITE = 1024;
/** The block HAProxy's HTX stores per header (and per start line) besides its bytes. */
export const HTX_BLOCK = 8;

function rewrittenHeadSize(method: string, url: string, version: string, headers: readonly string[]): number {
  let size = HTX_BLOCK + method.length + url.length + version.length;
  for (let i = 0; i + 1 < headers.length; i += 2) size += HTX_BLOCK + headers[i]!.length + headers[i + 1]!.length;
  return size;
}

/** @param bufferBytes HAProxy's tune.bufsize: the edge's max_header_size + MAX_REWRITE. */
export function rewriteBudget(bufferBytes: number): Stage {
  return (ctx) => {
    const { req } = ctx;
    const size = rewrittenHeadSize(req.method ?? '', req.url ?? '/', `HTTP/${req.httpVersion}`, ctx.headers);
    if (size <= bufferBytes) return true;
    return answered(ctx, 500, `request head after the header rules is ${size} bytes, above HAProxy's ${bufferBytes}-byte buffer (a failed rewrite)`);
  };
}
