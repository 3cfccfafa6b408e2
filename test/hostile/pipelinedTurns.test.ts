// A connection's pipelined requests reach the app one at a time, as HAProxy 2.6 takes them (checked
// on loopback: 30 pipelined requests and a FIN, at most one at the app at once, all answered).
// Before, the edge forwarded every pipelined request at once: one connection could put hundreds of
// requests (and upstream connections) at the app, past every connection cap (review7).
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { resetConnection, tlsConnect } from '../support/rawHttp.js';
import { connectPlain, stopStarted, waitFor } from '../support/waits.js';

describe('hostile: pipelined requests reach the app one at a time (HAProxy)', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  let now = 0;
  let peak = 0;
  let seen: string[] = [];
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  /** An app that answers each request after `ms`, counting how many it holds at once. */
  async function start(ms: number): Promise<TestEdge> {
    now = 0;
    peak = 0;
    seen = [];
    up = http.createServer((req, res) => {
      now++;
      peak = Math.max(peak, now);
      seen.push(req.url ?? '');
      req.resume();
      res.on('close', () => now--);
      setTimeout(() => res.end(`answer ${req.url}`), ms).unref();
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `max_connections: 4\nroutes:\n  - upstream: http://127.0.0.1:${port}\n`);
    return t;
  }

  const connections: { name: string; connect: (e: TestEdge) => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: (e) => connectPlain(e.httpPort) },
    { name: 'mTLS', connect: async (e) => tlsConnect(e.httpsPort, { identity: await clientIdentity('valid') }) },
  ];
  for (const c of connections) {
    it(`${c.name}: 300 pipelined requests and a FIN → at most one at the app, all 300 answered in order`, async () => {
      const e = await start(2);
      const s = await c.connect(e);
      clients.push(s);
      s.on('error', () => undefined);
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.end(Array.from({ length: 300 }, (_, i) => `GET /p${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`).join(''));
      expect(await waitFor(() => s.readableEnded, 20_000), 'the edge closed after the last answer').to.equal(true);
      const answers = [...text.matchAll(/answer (\/p\d+)/g)].map((m) => m[1]);
      expect({ answers: answers.length, peak }).to.deep.equal({ answers: 300, peak: 1 });
      expect(answers).to.deep.equal(Array.from({ length: 300 }, (_, i) => `/p${i}`));
      expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
    });
  }

  it('a client that resets while requests wait for their turn: the waiting ones never reach the app, nothing stays in flight', async () => {
    const e = await start(400);
    const s = await connectPlain(e.httpPort);
    clients.push(s);
    s.on('error', () => undefined);
    s.write(Array.from({ length: 20 }, (_, i) => `GET /w${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`).join(''));
    expect(await waitFor(() => seen.length === 1, 3_000)).to.equal(true);
    resetConnection(s);
    expect(await waitFor(() => e.edge.inFlight() === 0, 3_000), `in flight: ${e.edge.inFlight()}`).to.equal(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(seen).to.deep.equal(['/w0']);
  });
});
