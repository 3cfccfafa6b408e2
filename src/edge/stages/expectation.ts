// An `Expect` other than 100-continue. HAProxy forwards it; the Gorouter behind it (Go's HTTP server)
// answers 417 Expectation Failed with `Connection: close` and no body. HAProxy relays that answer as
// any from its server (checked with 2.6 and 3.2): its set-header lines apply (HSTS), the server's
// `Connection: close` stays on the server side and the client's connection stays open for its next
// request. The edge answers so, after HAProxy's own refusals and routing (the last stage). Without
// a `checkExpectation` listener Node would answer 417 itself, bypassing every stage (no request
// event, no log line). `Expect: 100-continue` is answered by Node with a 100 and then dropped (the
// upstream client cannot send it: hopByHop.ts).
import type { Stage } from '../requestContext.js';

/** Node's test for the 100-continue token (Node has sent the 100 already when it matches). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** `set`: the headers HAProxy's `http-response set-header` lines put on the relayed 417 (setResponseHeaders.ts). */
export function expectation(set: readonly string[]): Stage {
  return (ctx) => {
    const expect = ctx.req.headers.expect;
    // Go reads an empty Expect as none.
    if (!expect || CONTINUE.test(expect)) return true;
    ctx.res.writeHead(417, ['content-length', '0', ...set]);
    ctx.res.end();
    ctx.answeredWith = { status: 417, error: `Expect: ${expect} is not supported (Gorouter answers 417; HAProxy alone forwards it)` };
    return false;
  };
}
