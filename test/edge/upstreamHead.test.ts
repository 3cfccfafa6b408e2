// The app lane's header list is what the upstream received, byte for byte in names, values and
// order: undici writes Host first in lower case, its own Connection header and the body framing, so
// the edge records the head undici wrote (edge/upstreamHead.ts) and the request event carries it.
import { expect } from 'chai';
import { recordUpstreamHeads } from '../../src/edge/upstreamHead.js';
import type { RequestEvent } from '../../src/observe/events.js';
import { clientIdentity, eventually, httpRequest, httpsRequest, startTestEdge, type EchoReply, type RequestOptions, type TestEdge } from '../support/edgeHarness.js';

const pairs = (flat: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

describe('edge/upstreamHead: the header list the upstream received', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let stop: () => void;

  before(async () => {
    stop = recordUpstreamHeads();
    t = await startTestEdge();
  });
  after(async () => {
    stop();
    await t?.close();
  });

  async function eventOf(send: () => Promise<EchoReply>, path: string): Promise<{ reply: EchoReply; event: RequestEvent }> {
    const reply = await send();
    await eventually(() => t.events.some((e) => e.kind === 'request' && e.path === path));
    return { reply, event: t.events.find((e): e is RequestEvent => e.kind === 'request' && e.path === path)! };
  }

  const cases: { name: string; path: string; opts: RequestOptions; tls?: boolean }[] = [
    { name: 'GET with a certificate (Host not first, mixed case)', path: '/h/get', tls: true, opts: { headers: [['X-First', 'a'], ['Host', 'localhost'], ['X-SSL-Client-Subject-CN', 'YWRtaW4=']] } },
    { name: 'HEAD (undici closes after it)', path: '/h/head', opts: { method: 'HEAD', headers: [['Host', 'localhost'], ['Accept', '*/*']] } },
    { name: 'POST with Content-Length', path: '/h/post', opts: { method: 'POST', headers: [['Host', 'localhost'], ['Content-Type', 'text/plain'], ['Content-Length', '5'], ['X-After', 'z']], body: 'hello' } },
    { name: 'POST with Content-Length 0', path: '/h/post0', opts: { method: 'POST', headers: [['Host', 'localhost'], ['Content-Length', '0']] } },
    { name: 'POST without a body or length', path: '/h/post-none', opts: { method: 'POST', headers: [['Host', 'localhost']] } },
    { name: 'chunked POST', path: '/h/chunked', opts: { method: 'POST', headers: [['Host', 'localhost'], ['Transfer-Encoding', 'chunked']], body: 'x'.repeat(100_000) } },
    { name: 'DELETE with a body', path: '/h/delete', opts: { method: 'DELETE', headers: [['Host', 'localhost'], ['Content-Length', '3']], body: 'abc' } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const identity = c.tls ? await clientIdentity('valid') : undefined;
      const { reply, event } = await eventOf(() => (c.tls ? httpsRequest(t.httpsPort, { ...c.opts, path: c.path, identity }) : httpRequest(t.httpPort, { ...c.opts, path: c.path })), c.path);
      expect(event.forwardedAsSent).to.equal(true);
      // HEAD has no body to echo: the echo's report is read from a GET of the same shape instead.
      if (c.opts.method === 'HEAD') {
        expect(pairs(event.forwarded!)).to.deep.equal([['host', 'localhost'], ['connection', 'close'], ['Accept', '*/*'], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-For', '127.0.0.1']]);
        return;
      }
      expect(pairs(event.forwarded!)).to.deep.equal(reply.echo!.headers);
    });
  }
});
