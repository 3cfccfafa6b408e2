// Hostile review of the upstream hop on Pool.dispatch (UpstreamExchange) and the cancellation of a
// client's upstream request when it leaves (cancelUpstream). Real edges on loopback, raw clients.
// HAProxy's behaviour quoted here was checked with HAProxy 2.6 on loopback (timeout client 1s).
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { recordUpstreamHeads } from '../../src/edge/upstreamHead.js';
import type { RequestEvent } from '../../src/observe/events.js';
import { countOpenConnections, writeMiB } from './upstreamProbes.js';
import { waitFor, requestEvents, connectPlain } from '../support/waits.js';
import { resetConnection } from '../support/rawHttp.js';

/** Sends bytes, optionally half-closes, and collects everything until the edge closes or `ms` pass. */
async function exchange(port: number, bytes: string | Buffer, opts: { ms?: number } = {}): Promise<string> {
  const s = await connectPlain(port);
  s.on('error', () => undefined);
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.write(bytes);
  await Promise.race([closed, new Promise((r) => setTimeout(r, opts.ms ?? 5_000))]);
  s.destroy();
  return out;
}

interface Up {
  port: number;
  open: () => number;
  held: () => number;
  uploads: number[];
  close: () => Promise<void>;
}

async function upstream(): Promise<Up> {
  let held = 0;
  const uploads: number[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      held++;
      res.once('close', () => held--);
      req.on('end', () => {
        uploads.push(n);
        res.end(String(n));
      });
      return;
    }
    if (url === '/early413') {
      // Refuses an upload at once, as an app checking auth or size first does, and reads the rest
      // away: closing with upload bytes unread would make the kernel reset the connection, and
      // undici may then fail the request before it reads the 413 (a race outside the edge).
      req.resume();
      res.writeHead(413, { 'content-length': '8' });
      res.end('too big!');
      return;
    }
    if (url === '/reset-upload') {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > 50_000) req.socket.resetAndDestroy();
      });
      return;
    }
    req.resume();
    if (url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      setTimeout(() => res.end('after hints'), 50);
      return;
    }
    if (url === '/slow') {
      setTimeout(() => res.end('slow'), 300);
      return;
    }
    if (url.startsWith('/after/')) {
      setTimeout(() => res.end('late'), Number(url.slice(7)));
      return;
    }
    if (url === '/pause') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      setTimeout(() => res.end('last'), 2_000);
      return;
    }
    if (url === '/hang') {
      held++;
      res.once('close', () => held--);
      return;
    }
    if (url === '/head') {
      res.writeHead(200, { 'content-length': '5', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
      return;
    }
    if (url === '/204') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url === '/304') {
      res.writeHead(304, { etag: '"x"' });
      res.end();
      return;
    }
    if (url === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part1-');
      res.write('part2');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end();
      return;
    }
    if (url === '/midclose') {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('x'.repeat(1000));
      setTimeout(() => res.socket?.destroy(), 100);
      return;
    }
    if (url === '/stall') {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('x'.repeat(1000));
      held++;
      res.once('close', () => held--);
      return;
    }
    if (url === '/big') {
      held++;
      res.once('close', () => held--);
      writeMiB(res, 32);
      return;
    }
    res.end('ok');
  });
  const open = countOpenConnections(server);
  const { port, close } = await listenOnLoopback(server);
  return { port, open, held: () => held, uploads, close };
}

/** An upstream that speaks raw bytes: whatever `answer` returns for the request line. */
async function rawUpstream(answer: (line: string) => string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const line = buf.slice(0, buf.indexOf('\r\n'));
      buf = buf.slice(end + 4);
      s.write(answer(line));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('hostile review 4: the upstream hop on Pool.dispatch and cancelled requests', function () {
  this.timeout(30_000);
  let up: Up;
  let t: TestEdge;
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };

  before(async () => {
    process.on('warning', onWarning);
    up = await upstream();
    t = await startTestEdge({}, `timeouts: { server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
  });
  after(async () => {
    process.removeListener('warning', onWarning);
    await t?.close();
    await up?.close();
  });
  afterEach(async () => {
    expect(await waitFor(() => t.edge.inFlight() === 0, 5_000), `in flight: ${t.edge.inFlight()}`).to.equal(true);
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).to.deep.equal([]);
  });

  it('103 Early Hints, then 200: the client gets the 200 and its body', async () => {
    const out = await exchange(t.httpPort, 'GET /hints HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).to.match(/HTTP\/1\.1 200 OK[\s\S]*after hints$/);
    expect(requestEvents(t, '/hints').map((e) => e.status)).to.deep.equal([200]);
  });

  it('HEAD, then GET on the same connection; 204; 304', async () => {
    const out = await exchange(t.httpPort, 'HEAD /head HTTP/1.1\r\nHost: localhost\r\n\r\nGET /204 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /304 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /head HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).to.deep.equal(['200', '204', '304', '200']);
    expect(out.endsWith('hello')).to.equal(true);
  });

  it('a chunked response with trailers arrives whole', async () => {
    const out = await exchange(t.httpPort, 'GET /trailers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).to.include('part1-');
    expect(out).to.include('part2');
    expect(out).to.match(/0\r\n/);
  });

  it('an upload of 1 MiB arrives whole; Expect: 100-continue is answered', async () => {
    const body = Buffer.alloc(1 << 20, 0x62);
    const s = await connectPlain(t.httpPort);
    try {
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
      expect(await waitFor(() => out.includes('100 Continue'), 3_000), 'the 100 Continue').to.equal(true);
      s.write(body);
      await new Promise<void>((r) => s.once('close', () => r()));
      expect(out).to.match(/200 OK[\s\S]*\r\n\r\n1048576$/);
    } finally {
      s.destroy();
    }
  });

  it('an upstream that closes mid-body: the client sees a broken response, the event an upstream failure (not 499)', async () => {
    const out = await exchange(t.httpPort, 'GET /midclose HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 200/);
    expect(out.length).to.be.below(100000);
    expect(await waitFor(() => requestEvents(t, '/midclose').length === 1, 3_000)).to.equal(true);
    const [e] = requestEvents(t, '/midclose');
    expect(e!.status).to.equal(200);
    expect(e!.error).to.match(/upstream failed mid-response/);
  });

  it('a client that leaves while its upload is still being sent: the upstream request is cancelled, one 499 event', async () => {
    const before = up.uploads.length;
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    s.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${1 << 20}\r\n\r\n`);
    s.write(Buffer.alloc(100_000, 0x63));
    expect(await waitFor(() => up.held() === 1, 3_000), 'the upstream got the request').to.equal(true);
    s.destroy();
    expect(await waitFor(() => up.held() === 0, 3_000), 'the upstream request ends').to.equal(true);
    expect(await waitFor(() => requestEvents(t, '/upload').length >= 2, 3_000)).to.equal(true);
    await new Promise((r) => setTimeout(r, 200));
    const events = requestEvents(t, '/upload');
    expect(events.length).to.equal(2);
    expect(events[1]!.status).to.equal(499);
    expect(up.uploads.length).to.equal(before);
  });

  /** Sends `request`, reads nothing, leaves once the app holds one answer; that answer must be cancelled upstream. */
  const sendUnreadAndLeave = async (request: string): Promise<void> => {
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    s.pause();
    s.write(request);
    expect(await waitFor(() => up.held() === 1, 3_000)).to.equal(true);
    await new Promise((r) => setTimeout(r, 800));
    resetConnection(s);
    expect(await waitFor(() => up.held() === 0, 3_000), 'the held answer is cancelled upstream').to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
  };

  it('pipelined: the client leaves while its second request waits behind the first; both end once', async () => {
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    s.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await waitFor(() => up.held() === 1, 3_000)).to.equal(true);
    resetConnection(s);
    expect(await waitFor(() => up.held() === 0, 3_000), 'the queued request is cancelled upstream').to.equal(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(requestEvents(t, '/hang').map((e) => e.status)).to.deep.equal([499]);
    expect(requestEvents(t, '/slow').length).to.equal(1);
  });

  it('pipelined: a 32 MiB response queued behind a slow one, then the client leaves: the upstream download is cancelled', async () => {
    await sendUnreadAndLeave('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /big HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(requestEvents(t, '/big').length).to.equal(1);
  });

  it('pipelined: a 32 MiB response queued behind a slow one, read whole: both arrive', async () => {
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    let bytes = 0;
    s.on('data', (d: Buffer) => (bytes += d.length));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    s.destroy();
    expect(bytes).to.be.above((32 << 20) + 4);
    expect(requestEvents(t, '/big').at(-1)!.error).to.equal(null);
  });

  it('a client that reads nothing of 32 MiB (undici paused) and then leaves: upstream cancelled, one event, no listener left', async () => {
    const before = requestEvents(t, '/big').length;
    await sendUnreadAndLeave('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const events = requestEvents(t, '/big').slice(before);
    expect(events.length).to.equal(1);
    expect(events[0]!.status).to.equal(200);
    expect(events[0]!.error).to.match(/client connection closed/);
  });

  it('the flow page head (sentHeaders) matches its own request under concurrency with 1xx in between', async () => {
    const stop = recordUpstreamHeads();
    try {
      const n = 20;
      await Promise.all(
        Array.from({ length: n }, (_, i) => exchange(t.httpPort, `GET ${i % 2 ? '/hints' : '/slow'}?i=${i} HTTP/1.1\r\nHost: localhost\r\nX-Index: ${i}\r\nConnection: close\r\n\r\n`)),
      );
      await new Promise((r) => setTimeout(r, 200));
      const events = t.events.filter((e): e is RequestEvent => e.kind === 'request' && /\?i=/.test(e.path));
      expect(events.length).to.equal(n);
      for (const e of events) {
        expect(e.forwardedAsSent, e.path).to.equal(true);
        const idx = (e.forwarded ?? []).findIndex((v, k) => k % 2 === 0 && v.toLowerCase() === 'x-index');
        expect(e.forwarded![idx + 1], e.path).to.equal(/\?i=(\d+)/.exec(e.path)![1]);
      }
    } finally {
      stop();
    }
  });
});

describe('hostile review 4: timeouts and weird upstreams', function () {
  this.timeout(30_000);
  let up: Up;
  const edges: TestEdge[] = [];
  const raws: { close: () => Promise<void> }[] = [];
  before(async () => {
    up = await upstream();
  });
  afterEach(async () => {
    for (const e of edges.splice(0)) {
      expect(await waitFor(() => e.edge.inFlight() === 0, 5_000), `in flight: ${e.edge.inFlight()}`).to.equal(true);
      await e.close();
    }
    for (const r of raws.splice(0)) await r.close();
  });
  after(async () => {
    await up?.close();
  });

  it('timeouts.server: no response head → 504; a stalled body → broken response, upstream failure', async () => {
    const t = await startTestEdge({}, `timeouts: { server: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    edges.push(t);
    const a = await exchange(t.httpPort, 'GET /after/3000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(a).to.match(/^HTTP\/1\.1 504/);
    const b = await exchange(t.httpPort, 'GET /stall HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(b).to.match(/^HTTP\/1\.1 200/);
    expect(requestEvents(t, '/stall')[0]!.error).to.match(/upstream failed mid-response/);
  });

  it('an upstream that sends a body after its 204: the client gets the 204', async () => {
    const raw = await rawUpstream(() => 'HTTP/1.1 204 No Content\r\n\r\nhello');
    raws.push(raw);
    const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${raw.port}\n`);
    edges.push(t);
    const out = await exchange(t.httpPort, 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 204/);
  });

  it('an upstream response header Node refuses to write (DEL in a value): 502 for the client and the event', async () => {
    const raw = await rawUpstream(() => 'HTTP/1.1 200 OK\r\nX-Bad: a\x7fb\r\nContent-Length: 2\r\n\r\nok');
    raws.push(raw);
    const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${raw.port}\n`);
    edges.push(t);
    const out = await exchange(t.httpPort, 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await waitFor(() => requestEvents(t, '/x').length === 1, 3_000);
    expect({ head: out.split('\r\n')[0], status: requestEvents(t, '/x').map((e) => e.status) }).to.deep.equal({ head: 'HTTP/1.1 502 Bad Gateway', status: [502] });
  });

  // HAProxy passes the app's status line on as it came; Node would write its own reason for the code.
  const REASONS: readonly { sent: string; expected: string }[] = [
    { sent: 'HTTP/1.1 200 Custom Reason', expected: 'HTTP/1.1 200 Custom Reason' },
    { sent: 'HTTP/1.1 599 Whatever', expected: 'HTTP/1.1 599 Whatever' },
    { sent: 'HTTP/1.1 404 Not Found', expected: 'HTTP/1.1 404 Not Found' },
    { sent: 'HTTP/1.1 201 ', expected: 'HTTP/1.1 201 ' },
  ];
  for (const row of REASONS) {
    it(`the app's status line "${row.sent}" reaches the client as "${row.expected}"`, async () => {
      const raw = await rawUpstream(() => `${row.sent}\r\nContent-Length: 2\r\n\r\nok`);
      raws.push(raw);
      const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${raw.port}\n`);
      edges.push(t);
      const out = await exchange(t.httpPort, 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(out.split('\r\n')[0]).to.equal(row.expected);
    });
  }

  it('an upstream that answers with Connection: close: the next request gets a new connection', async () => {
    const raw = await rawUpstream(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    raws.push(raw);
    const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${raw.port}\n`);
    edges.push(t);
    for (let i = 0; i < 3; i++) {
      const out = await exchange(t.httpPort, 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(out).to.match(/^HTTP\/1\.1 200[\s\S]*ok$/);
    }
  });

  it('timeouts.client shorter than the app takes to answer: the client that waits gets the answer (HAProxy arms timeout client only while it expects the client to send or read), not a 499 "client closed"', async () => {
    const t = await startTestEdge({}, `timeouts: { client: 1, server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    edges.push(t);
    const out = await exchange(t.httpPort, 'GET /after/2000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await waitFor(() => requestEvents(t, '/after/2000').length === 1, 3_000);
    const e = requestEvents(t, '/after/2000')[0];
    expect({ out, status: e?.status, error: e?.error }).to.deep.equal({ out: out.startsWith('HTTP/1.1 200') ? out : 'an answer', status: 200, error: null });
  });

  it('timeouts.client equal to timeouts.server (30 s and 30 s by default), an app slower than both: HAProxy\'s 504, not a dropped connection logged as 499', async () => {
    const t = await startTestEdge({}, `timeouts: { client: 1, server: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    edges.push(t);
    const out = await exchange(t.httpPort, 'GET /after/4000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await waitFor(() => requestEvents(t, '/after/4000').length === 1, 3_000);
    const e = requestEvents(t, '/after/4000')[0];
    expect({ head: out.split('\r\n')[0]!.slice(0, 12), status: e?.status }).to.deep.equal({ head: 'HTTP/1.1 504', status: 504 });
  });

  it('timeouts.client shorter than a pause in the app\'s body: the client that reads gets all of it (HAProxy 2.6 does)', async () => {
    const t = await startTestEdge({}, `timeouts: { client: 1, server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    edges.push(t);
    const out = await exchange(t.httpPort, 'GET /pause HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 200 OK[\s\S]*first;[\s\S]*last\r\n0\r\n\r\n$/);
  });

  /** An edge of its own, and a client that declares `declared` bytes and sends `chunks` of `chunkBytes`, 20 ms apart. */
  const uploadTo = async (path: string, declared: number, chunks: number, chunkBytes: number): Promise<{ t: TestEdge; s: net.Socket; out: () => string }> => {
    const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    edges.push(t);
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${declared}\r\n\r\n`);
    for (let i = 0; i < chunks && !s.destroyed; i++) {
      s.write(Buffer.alloc(chunkBytes, 0x61));
      await new Promise((r) => setTimeout(r, 20));
    }
    return { t, s, out: () => out };
  };

  it('an app that answers 413 at once to an upload still being sent: the client gets the 413', async () => {
    const { t, s, out } = await uploadTo('/early413', 4 << 20, 20, 64 << 10);
    await new Promise((r) => setTimeout(r, 300));
    s.destroy();
    await waitFor(() => requestEvents(t, '/early413').length === 1, 3_000);
    expect({ head: out().split('\r\n')[0], status: requestEvents(t, '/early413')[0]?.status }).to.deep.equal({ head: 'HTTP/1.1 413 Payload Too Large', status: 413 });
  });

  it('an app that resets its connection during an upload: 502 for the client and the event, not 499', async () => {
    const { t, s, out } = await uploadTo('/reset-upload', 1 << 20, 10, 16 << 10);
    await waitFor(() => requestEvents(t, '/reset-upload').length === 1, 3_000);
    s.destroy();
    const e = requestEvents(t, '/reset-upload')[0];
    expect({ head: out().split('\r\n')[0], status: e?.status }).to.deep.equal({ head: 'HTTP/1.1 502 Bad Gateway', status: 502 });
  });

  it('the edge stops with a request in flight: the event does not blame the client', async () => {
    const t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    s.write('GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await waitFor(() => up.held() === 1, 3_000)).to.equal(true);
    await t.close();
    s.destroy();
    await waitFor(() => requestEvents(t, '/hang').length === 1, 3_000);
    const [e] = requestEvents(t, '/hang');
    expect(e?.error ?? '').to.not.match(/client connection closed/);
  });

  it('a client that leaves while the upstream connection is still being made: one 499, nothing in flight', async () => {
    // A TLS upstream that accepts TCP and never answers the ClientHello: undici is "connecting".
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      // Reads (and drops) the ClientHello: a socket with unread data never sees the peer's FIN.
      s.resume();
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    raws.push({ close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); silent.close(() => r()); }) });
    const port = (silent.address() as net.AddressInfo).port;
    const t = await startTestEdge({}, `timeouts: { connect: 1 }\nroutes:\n  - upstream: https://127.0.0.1:${port}\n`);
    edges.push(t);
    const s = await connectPlain(t.httpPort);
    s.on('error', () => undefined);
    s.write('GET /c HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await waitFor(() => sockets.size === 1, 3_000)).to.equal(true);
    resetConnection(s);
    expect(await waitFor(() => requestEvents(t, '/c').length === 1, 4_000)).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(requestEvents(t, '/c').map((e) => e.status)).to.deep.equal([499]);
    expect(sockets.size).to.equal(0);
  });
});
