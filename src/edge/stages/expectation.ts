// An `Expect` other than 100-continue. HAProxy forwards it; the Gorouter behind it (Go's HTTP server)
// answers 417 Expectation Failed with `Connection: close` and no body, before routing. The edge
// answers as Gorouter, as Node's server would on its own (its automatic 417 bypassed every stage and
// left no request event or log line). `Expect: 100-continue` is answered by Node with a 100 and then
// dropped (the upstream client cannot send it: hopByHop.ts).
import type { Stage } from '../requestContext.js';

/** Node's and Go's test: the 100-continue token, any case. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export function expectation(): Stage {
  return (ctx) => {
    const expect = ctx.req.headers.expect;
    // Go reads an empty Expect as none.
    if (!expect || CONTINUE.test(expect)) return true;
    ctx.res.shouldKeepAlive = false;
    ctx.res.writeHead(417, ['content-length', '0']);
    ctx.res.end();
    ctx.answeredWith = { status: 417, error: `Expect: ${expect} is not supported (Gorouter answers 417; HAProxy alone forwards it)` };
    return false;
  };
}
