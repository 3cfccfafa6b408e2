// A client that leaves (its connection reset or broken) before its response is complete cancels the
// upstream request: the edge closes that upstream connection at once. A client's FIN alone is a
// half-close and still gets its answer, as from HAProxy (halfClose.test.ts). Without it, a client could send requests to a slow
// path and leave, again and again, and the edge would hold an upstream connection for each until
// the app answered or timeouts.server passed: upstream sockets beyond every connection cap.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { clientIdentity, httpsRequest, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { resetConnection, tlsConnect } from '../support/rawHttp.js';
import { countOpenConnections, writeMiB } from './upstreamProbes.js';
import { waitFor, requestEvents } from '../support/waits.js';

/**
 * An upstream that holds /hang requests without answering; it counts its open connections and the
 * held requests whose connection is still open.
 */
async function holdingUpstream(): Promise<{ port: number; open: () => number; held: () => number; requests: () => number; bigSent: () => number; close: () => Promise<void> }> {
  let bigSent = 0;
  let held = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (req.url === '/hang') {
      held++;
      res.once('close', () => held--);
      return;
    }
    if (req.url === '/slow') {
      setTimeout(() => res.end('slow'), 300).unref();
      return;
    }
    // 32 MiB as fast as the edge takes them: how far the upstream got shows the edge's buffering.
    // Slower than a 1 s client timeout, then 32 MiB at once.
    if (req.url === '/late-big') {
      held++;
      res.once('close', () => held--);
      setTimeout(() => writeMiB(res, 32), 1_500).unref();
      return;
    }
    if (req.url === '/big') {
      writeMiB(res, 32, (sent) => (bigSent = sent));
      return;
    }
    // A long body of which only the start is sent: the client leaves half way through.
    if (req.url === '/long') {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('x'.repeat(1000));
      held++;
      res.once('close', () => held--);
      return;
    }
    res.end('ok');
  });
  const open = countOpenConnections(server);
  const { port, close } = await listenOnLoopback(server);
  return {
    port,
    open,
    held: () => held,
    requests: () => requests,
    bigSent: () => bigSent,
    close: async () => {
      server.closeAllConnections();
      await close();
    },
  };
}

describe('hostile: a client that leaves cancels its upstream request', function () {
  this.timeout(60_000);
  let up: Awaited<ReturnType<typeof holdingUpstream>>;
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    up = await holdingUpstream();
    // timeouts.server 30 s: only the cancellation can free the held upstream connections in time.
    t = await startTestEdge({}, `timeouts: { server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
  });
  after(async () => {
    await t?.close();
    await up?.close();
  });

  afterEach(async () => {
    expect(await waitFor(() => t.edge.inFlight() === 0, 5_000), `in flight: ${t.edge.inFlight()}`).to.equal(true);
  });

  const cases: { name: string; connect: () => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: () => new Promise((resolve, reject) => { const s = net.connect(t.httpPort, '127.0.0.1', () => resolve(s)); s.once('error', reject); }) },
    { name: 'mTLS', connect: () => tlsConnect(t.httpsPort, { identity: valid }) },
  ];
  for (const c of cases) {
    it(`${c.name}: 3 rounds of 30 clients that send a request the app holds and leave → every held request is cancelled`, async () => {
      for (let round = 0; round < 3; round++) {
        const before = up.requests();
        const sockets = await Promise.all(Array.from({ length: 30 }, () => c.connect()));
        for (const s of sockets) {
          s.on('error', () => undefined);
          s.write('GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n');
        }
        expect(await waitFor(() => up.requests() - before === 30, 5_000), 'the app got all 30 requests').to.equal(true);
        expect(up.held()).to.equal(30);
        // Gone (a reset), not half-closed: a FIN alone still gets its answer (halfClose.test.ts).
        for (const s of sockets) resetConnection(s);
        expect(await waitFor(() => up.held() === 0, 3_000), `held requests still connected 3 s after their clients left: ${up.held()}`).to.equal(true);
      }
      // undici opens a replacement connection for each cancelled request and keeps it for reuse
      // (nodejs/undici#5845), so up to one round's worth stays open: bounded by how many clients
      // leave at once, not growing with every client that leaves.
      expect(up.open(), 'upstream connections after 90 cancelled requests').to.be.at.most(31);
      expect(await waitFor(() => requestEvents(t, '/hang').length >= 90, 3_000)).to.equal(true);
      for (const e of requestEvents(t, '/hang')) {
        expect(e.status, 'logged as the client closing (499, as nginx logs it), not as an upstream failure').to.equal(499);
        expect(e.error).to.match(/client connection closed before the response was complete/);
      }
      t.events.length = 0;
    });
  }

  it('a client that leaves half way through a response body: the upstream connection closes too, the event keeps the upstream status', async () => {
    const s = await tlsConnect(t.httpsPort, { identity: valid });
    s.on('error', () => undefined);
    s.write('GET /long HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise<void>((resolve) => s.once('data', () => resolve()));
    expect(up.held()).to.equal(1);
    resetConnection(s);
    expect(await waitFor(() => up.held() === 0, 3_000), 'the upstream response is cancelled').to.equal(true);
    expect(await waitFor(() => requestEvents(t, '/long').length === 1, 3_000)).to.equal(true);
    const [e] = requestEvents(t, '/long');
    expect(e!.status).to.equal(200);
    expect(e!.error).to.match(/client connection closed before the response was complete/);
    t.events.length = 0;
  });

  it('a client that reads slowly: the upstream is held back (no 32 MiB buffered in the edge), and every byte arrives', async () => {
    const s = await tlsConnect(t.httpsPort, { identity: valid });
    s.on('error', () => undefined);
    s.pause();
    s.write('GET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(up.bigSent(), 'MiB the upstream could write while the client read nothing').to.be.below(16);
    let bytes = 0;
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.resume();
    await new Promise<void>((resolve) => s.once('end', () => resolve()));
    expect(bytes).to.be.above(32 << 20);
    expect(await waitFor(() => requestEvents(t, '/big').length === 1, 3_000)).to.equal(true);
    expect(requestEvents(t, '/big')[0]!.status).to.equal(200);
    expect(requestEvents(t, '/big')[0]!.error).to.equal(null);
    t.events.length = 0;
  });

  it('timeouts.client: kept while the app works (1.5 s > 1 s), then ends the connection of a client that reads none of the answer', async () => {
    const own = await startTestEdge({}, `timeouts: { client: 1, server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    try {
      const s = await tlsConnect(own.httpsPort, { identity: valid });
      s.on('error', () => undefined);
      // A paused client reads nothing (it would not even see the edge close): what the edge did shows
      // in the request event and at the upstream.
      s.pause();
      const events = (): ReturnType<typeof requestEvents> => requestEvents(own, '/late-big');
      const sent = Date.now();
      s.write('GET /late-big HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await waitFor(() => events().length === 1, 8_000), 'the edge ended the request').to.equal(true);
      // Not at the first client timeout (the app was still working), but once bytes waited for the client.
      expect(Date.now() - sent).to.be.within(2_000, 6_000);
      expect(await waitFor(() => up.held() === 0, 3_000), 'the upstream answer is cancelled').to.equal(true);
      const [e] = events();
      s.destroy();
      expect(e?.status).to.equal(200);
      expect(e?.error).to.match(/client connection closed before the response was complete/);
    } finally {
      await own.close();
    }
  });

  it('a client that waits gets its slow answer and the upstream connection is kept for reuse', async () => {
    const r = await httpsRequest(t.httpsPort, { identity: valid, path: '/slow' });
    expect(r.status).to.equal(200);
    expect(r.body).to.equal('slow');
    expect(up.held()).to.equal(0);
    const [e] = requestEvents(t, '/slow');
    expect(e!.status).to.equal(200);
    expect(e!.error).to.equal(null);
  });
});
