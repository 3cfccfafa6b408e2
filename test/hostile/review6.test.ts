// Hostile review 6: Upgrade connections the edge answered itself (or relayed a refusal on), and
// answers of upstream apps. Real edges on loopback (real TLS on the HTTPS port), raw clients; every
// server and socket is closed in afterEach.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { startTestEdge, clientIdentity, httpRequest, httpsRequest, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { stopStarted, waitFor } from '../support/waits.js';

type Listener = 'https' | 'http';

/** A connection that never closes its side (allowHalfOpen), as a client that just stops. */
async function halfOpenClient(t: TestEdge, listener: Listener): Promise<net.Socket> {
  if (listener === 'http') {
    const s = net.connect({ host: '127.0.0.1', port: t.httpPort, allowHalfOpen: true });
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    return s;
  }
  const id = await clientIdentity('valid');
  const tcp = net.connect({ host: '127.0.0.1', port: t.httpsPort, allowHalfOpen: true });
  tcp.on('error', () => undefined);
  const s = tls.connect({ socket: tcp, servername: 'localhost', rejectUnauthorized: false, cert: id.cert, key: id.key });
  s.on('error', () => undefined);
  await new Promise((r) => s.once('secureConnect', r));
  return s;
}

describe('hostile review 6', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  // The edge ended its side after the answer and read on until the client closed its own; Node's
  // server timeout no longer watches a socket handed to 'upgrade', so a client that never closed
  // held the connection, and its max_connections slot, for good. HAProxy 2.6 closes such a
  // connection at its http-keep-alive timeout (checked on loopback).
  describe('a refused Upgrade whose client never closes its side', () => {
    const cases = [
      { name: 'the app answers 401', request: 'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', status: 'HTTP/1.1 401 Unauthorized' },
      { name: 'an Upgrade with a body (400 by the edge)', request: 'POST /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 3\r\n\r\nabc', status: 'HTTP/1.1 400 Bad request' },
    ];
    for (const listener of ['https', 'http'] as const) {
      for (const c of cases) {
        it(`${listener}, ${c.name}: the connection is ended by timeouts.client (1 s), its slot serves the next client`, async () => {
          up = http.createServer((_req, res) => res.end('ok'));
          up.on('upgrade', (_req, s: net.Socket) => s.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno'));
          const { port } = await listenOnLoopback(up);
          t = await startTestEdge({}, `max_connections: 1\ntimeouts: { client: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${port}\n`);
          const s = await halfOpenClient(t, listener);
          clients.push(s);
          let out = '';
          s.on('data', (d: Buffer) => (out += d.toString('latin1')));
          s.write(c.request);
          expect(await waitFor(() => s.readableEnded, 3000), `answer: ${out.slice(0, 80)}`).to.equal(true);
          expect(out.split('\r\n')[0]).to.equal(c.status);
          // Past timeouts.client: the slot must be free again.
          await new Promise((r) => setTimeout(r, 2000));
          const next = listener === 'https' ? await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') }).catch((e: Error) => e) : await httpRequest(t.httpPort).catch((e: Error) => e);
          expect(next instanceof Error ? next.message : next.status).to.equal(200);
        });
      }
    }
  });

  // undici counts a 304's Content-Length (the size of the representation, RFC 9110 §8.6) as body
  // bytes still owed, and fails the response at its end: the edge destroyed the client connection
  // with the 304's head unsent, the client got no answer at all. HAProxy 2.6 relays the 304 with its
  // Content-Length and keeps the connection (checked on loopback).
  it('an app\'s 304 with a Content-Length (RFC 9110 §8.6 allows it) reaches the client, and the connection serves the next request', async () => {
    const app = net.createServer((s) => {
      s.on('error', () => undefined);
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        const path = /^\S+ (\S+)/.exec(buf)?.[1];
        buf = '';
        s.write(path === '/cached' ? 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 100\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    const { port } = app.address() as net.AddressInfo;
    try {
      t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`);
      const s = net.connect({ host: '127.0.0.1', port: t.httpPort });
      clients.push(s);
      s.on('error', () => undefined);
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.write('GET /cached HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: "v1"\r\n\r\n');
      expect(await waitFor(() => out.includes('\r\n\r\n') || s.destroyed, 3000), 'an answer').to.equal(true);
      s.write('GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await waitFor(() => out.endsWith('next') || s.destroyed, 3000);
      const events = t.events.filter((e) => e.kind === 'request').map((e) => (e.kind === 'request' ? [e.path, e.status, e.error] : []));
      expect({ first: out.split('\r\n')[0], contentLength: /\r\ncontent-length: 100\r\n/i.test(out), next: out.endsWith('next'), events }).to.deep.equal({
        first: 'HTTP/1.1 304 Not Modified',
        contentLength: true,
        next: true,
        events: [
          ['/cached', 304, null],
          ['/next', 200, null],
        ],
      });
    } finally {
      app.close();
    }
  });

  // The client's close destroyed the upstream request, whose 'error' (socket hang up) was then
  // reported as the upstream's failure: a 502 blaming the app in the log, the access log and the
  // metrics, where the plain-request path says 499 (the client left), as nginx logs it.
  it('a client that resets while its Upgrade waits for the app: one 499 event, not an upstream 502', async () => {
    up = http.createServer();
    up.on('upgrade', (_req, s: net.Socket) => {
      s.on('error', () => undefined);
      setTimeout(() => s.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'), 600).unref();
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`);
    const s = net.connect({ host: '127.0.0.1', port: t.httpPort });
    clients.push(s);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await new Promise((r) => setTimeout(r, 150));
    s.resetAndDestroy();
    const events = (): (string | number | null)[][] => t!.events.flatMap((e) => (e.kind === 'request' ? [[e.status, e.error]] : []));
    await waitFor(() => events().length > 0, 3000);
    await new Promise((r) => setTimeout(r, 800));
    expect(events().map(([status]) => status)).to.deep.equal([499]);
  });
});
