// Clients and upstreams that misbehave in numbers: 200 and 1,000 concurrent mTLS connections, clients that
// abort mid-upload or vanish while the upstream is slow, upstreams that reset mid-response or never
// answer. After each case the edge has no request left in flight and serves a valid request.
import { expect } from 'chai';
import { clientIdentity, eventually, httpsRequest, received, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { rawExchange, ResponseReader, tlsConnect } from '../support/rawHttp.js';
import { recordingUpstream, type RecordingUpstream } from './recordingUpstream.js';

describe('hostile: misbehaving clients and upstreams under concurrency', function () {
  this.timeout(120_000);
  let up: RecordingUpstream;
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    up = await recordingUpstream();
    t = await startTestEdge(
      {},
      // request_headers 60 s: the 1,000 held connections wait longer than the default 5 s for their request.
      `timeouts: { server: 1, request_headers: 60 }\nroutes:\n  - host: echo.localhost\n    upstream: echo\n  - upstream: http://127.0.0.1:${up.port}\n`,
    );
  });
  after(async () => {
    await t?.close();
    await up?.close();
  });

  afterEach(async () => {
    await eventually(() => t.edge.inFlight() === 0, 10_000);
    const r = await httpsRequest(t.httpsPort, { identity: valid, headers: { host: 'echo.localhost' } });
    expect(r.status, 'the edge still serves a valid request').to.equal(200);
  });

  it('200 concurrent mTLS connections, one request each: all answered with their own session', async () => {
    const N = 200;
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => httpsRequest(t.httpsPort, { identity: valid, headers: { host: 'echo.localhost' }, path: `/c/${i}` })));
    expect(replies.map((r) => r.status)).to.deep.equal(Array(N).fill(200));
    expect(replies.map((r) => r.echo?.path)).to.deep.equal(Array.from({ length: N }, (_, i) => `/c/${i}`));
    for (const r of replies) expect(received(r, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    const sessions = new Set(replies.map((r) => received(r, 'X-SSL-Client-Session-ID')[0]));
    expect(sessions.size, 'one session ID per connection').to.equal(N);
  });

  it('1,000 concurrent mTLS connections held open at once, then one request on each: all answered', async function () {
    this.timeout(180_000);
    const N = 1000;
    // Its own edge with a long upstream timeout: answering 1,000 requests sent at once takes about
    // 2 s here (clients, edge and echo share one process), longer than the file's 1 s timeouts.server.
    const held = await startTestEdge({}, 'timeouts: { server: 30, request_headers: 60 }\nroutes:\n  - upstream: echo\n');
    const sockets: Awaited<ReturnType<typeof tlsConnect>>[] = [];
    try {
      // Opened in waves of 100 so the client side (same process) does not time its own handshakes out.
      for (let wave = 0; wave < N / 100; wave++) {
        sockets.push(...(await Promise.all(Array.from({ length: 100 }, () => tlsConnect(held.httpsPort, { identity: valid, timeoutMs: 60_000 })))));
      }
      expect(sockets.length).to.equal(N);
      const replies = await Promise.all(
        sockets.map((s, i) => rawExchange(s, `GET /held/${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 60_000)),
      );
      const statuses = new Map<number, number>();
      for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect(replies.filter((r) => r.status === 200).length, `statuses: ${JSON.stringify([...statuses])}`).to.equal(N);
      expect(new Set(replies.map((r) => r.echo?.path)).size).to.equal(N);
    } finally {
      for (const s of sockets) s.destroy();
      await held.close();
    }
  });

  it('20 clients abort mid-upload (64 KiB of a declared 1 MiB): no complete body reaches the upstream', async () => {
    const before = up.seen.length;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const socket = await tlsConnect(t.httpsPort, { identity: valid });
        try {
          socket.write(`POST /upload/${i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${1024 * 1024}\r\n\r\n`);
          socket.write(Buffer.alloc(64 * 1024, 0x61));
          // Let the edge start streaming to the upstream before vanishing.
          await eventually(() => up.seen.some((r) => r.url === `/upload/${i}`), 5_000).catch(() => undefined);
        } finally {
          socket.destroy();
        }
      }),
    );
    const uploads = up.seen.slice(before).filter((r) => r.url.startsWith('/upload/'));
    await eventually(() => uploads.every((r) => r.aborted || r.complete), 5_000).catch(() => undefined);
    for (const r of uploads) expect(r.complete, `${r.url} must not look complete upstream`).to.equal(false);
  });

  it('20 clients vanish while the upstream is still thinking', async () => {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = await tlsConnect(t.httpsPort, { identity: valid });
        try {
          socket.write('GET /never HTTP/1.1\r\nHost: localhost\r\n\r\n');
          await new Promise((r) => setTimeout(r, 100));
        } finally {
          socket.destroy();
        }
      }),
    );
  });

  it('20 concurrent requests to an upstream that never answers → 504 each (timeouts.server 1 s)', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => httpsRequest(t.httpsPort, { identity: valid, path: '/never' })));
    expect(replies.map((r) => r.status)).to.deep.equal(Array(20).fill(504));
  });

  it('20 concurrent responses reset mid-body by the upstream → every client sees a broken response', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = await tlsConnect(t.httpsPort, { identity: valid });
        try {
          const reader = new ResponseReader(socket);
          socket.write('GET /reset-mid HTTP/1.1\r\nHost: localhost\r\n\r\n');
          const r = await reader.next(10_000);
          return `complete ${r.status} ${r.body.length}`;
        } catch (e) {
          return `broken: ${(e as Error).message}`;
        } finally {
          socket.destroy();
        }
      }),
    );
    for (const o of outcomes) expect(o).to.match(/^broken: /);
  });

  it('a keep-alive connection survives an upstream failure on one of its requests', async () => {
    const socket = await tlsConnect(t.httpsPort, { identity: valid });
    try {
      const reader = new ResponseReader(socket);
      socket.write('GET /never HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect((await reader.next(10_000)).status).to.equal(504);
      socket.write('GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const r = await reader.next(10_000);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body.toString()).url).to.equal('/after');
    } finally {
      socket.destroy();
    }
  });
});
