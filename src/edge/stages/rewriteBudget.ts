// HAProxy rewrites a request inside its one buffer (tune.bufsize, 16,384 bytes): a request head is
// read into bufsize - maxrewrite (15,360, the edge's max_header_size) and the http-request rules may
// grow it up to bufsize. An add or set-header that does not fit fails (http_action_set_header →
// fail_rewrite), and so does option forwardfor's X-Forwarded-For: HAProxy answers 500 without
// contacting the server. The size is what HAProxy's HTX area holds (include/haproxy/htx.h):
// a 48-byte struct htx, then per block 8 bytes of metadata and its payload, the start line (a 20-byte
// struct htx_sl and method, target, version), each header (name and value), the end of headers (1).
// Measured with 2.6 and 3.2 (X-Pad header grown byte by byte, test/parity/bigClientCert.test.ts):
// 200 while this sum, with X-Forwarded-Proto and X-Forwarded-For, is at most bufsize; 500 one byte above.
// A value too large for HAProxy's base64 converter is empty instead (src/headers/clientCertValues.ts).
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

/** HAProxy's default tune.maxrewrite: the part of the buffer kept free for rewriting. */
export const MAX_REWRITE = 1024;
/** The block HAProxy's HTX stores per header (and per start line) besides its bytes. */
export const HTX_BLOCK = 8;
/** struct htx, the start line's struct htx_sl and the end-of-headers block (8 + 1): measured 77 bytes in 2.6 and 3.2. */
const HTX_FIXED = 48 + 20 + HTX_BLOCK + 1;

/** The HTX bytes of a request head with these headers and the ones HAProxy adds after its rules. */
function rewrittenHeadSize(method: string, url: string, version: string, headers: readonly string[], listener: string, clientAddress: string): number {
  let size = HTX_FIXED + HTX_BLOCK + method.length + url.length + version.length;
  let hasProto = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    size += HTX_BLOCK + headers[i]!.length + headers[i + 1]!.length;
    if (headers[i]!.length === 17 && headers[i]!.toLowerCase() === 'x-forwarded-proto') hasProto = true;
  }
  // What the edge's forwardedHeaders stage adds later, HAProxy adds in its buffer: add-header
  // X-Forwarded-Proto when absent, then option forwardfor's X-Forwarded-For.
  if (!hasProto) size += HTX_BLOCK + 'x-forwarded-proto'.length + listener.length;
  return size + HTX_BLOCK + 'x-forwarded-for'.length + clientAddress.length;
}

/** @param bufferBytes HAProxy's tune.bufsize: the edge's max_header_size + MAX_REWRITE. */
export function rewriteBudget(bufferBytes: number): Stage {
  return (ctx) => {
    const { req } = ctx;
    const size = rewrittenHeadSize(req.method ?? '', req.url ?? '/', `HTTP/${req.httpVersion}`, ctx.headers, ctx.listener, ctx.clientAddress);
    if (size <= bufferBytes) return true;
    return answered(ctx, 500, `request head after the header rules is ${size} bytes, above HAProxy's ${bufferBytes}-byte buffer (a failed rewrite)`);
  };
}
