// Empty lines dripped after an answer on a keep-alive connection (review 12): each CRLF restarted
// Node's keep-alive idle timer and none started its headers timeout, so "\r\n" once a second kept
// the connection (and its place under the caps) open for good. As HAProxy 2.6 and 3.2 do
// (measured; test/parity/keepAliveWait.test.ts compares with them): the first byte after an answer
// starts timeouts.request_headers, and a head not complete by then gets the 408 page and the close;
// with nothing sent the connection closes silently at timeouts.keep_alive. On both listeners.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

const KEEP_ALIVE_MS = 3000;
const HEADERS_MS = 2000;
/** Node's own check interval for headersTimeout, and the edge's for the wait (request_headers / 4), plus a loaded machine's slack. */
const MARGIN_MS = 500 + 700;
const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hostile: empty lines dripped between keep-alive requests', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    // The reviewer's timeouts: client and request longer than keep_alive, so only the wait's own deadline can end it.
    t = await startTestEdge({}, 'timeouts: { keep_alive: 3, request_headers: 2, client: 4, request: 6 }\nroutes:\n  - upstream: echo\n');
  });
  after(async () => {
    await t?.close();
  });

  /** A connection on one listener that has had one answer; `answeredAt` is when its answer arrived. */
  async function afterOneAnswer(listener: 'tls' | 'tcp'): Promise<{ socket: net.Socket; reader: ResponseReader; answeredAt: number }> {
    const socket: net.Socket = listener === 'tls' ? await tlsConnect(t.httpsPort, { identity: valid }) : await tcpConnect(t.httpPort);
    const reader = new ResponseReader(socket);
    socket.write(GET);
    expect((await reader.next(5000)).status).to.equal(200);
    return { socket, reader, answeredAt: Date.now() };
  }

  /** Writes CRLF every `everyMs` until the connection closes; stops the drip. */
  function drip(socket: net.Socket, everyMs: number): () => void {
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write('\r\n');
    }, everyMs);
    return () => clearInterval(timer);
  }

  const both = (run: (listener: 'tls' | 'tcp') => Promise<void>): Promise<unknown> => Promise.all([run('tls'), run('tcp')]);

  it('CRLF once a second: 408 and close at request_headers from the first CRLF (HAProxy: 3.0 s after the answer)', () =>
    both(async (listener) => {
      const { socket, reader, answeredAt } = await afterOneAnswer(listener);
      const stop = drip(socket, 1000);
      try {
        const r = await reader.next(KEEP_ALIVE_MS + MARGIN_MS + 2000);
        const after = Date.now() - answeredAt;
        expect(r.status, listener).to.equal(408);
        await reader.untilClosed(2000);
        expect(reader.closed, `${listener}: closed`).to.equal(true);
        expect(after, `${listener}: 408 after ${after} ms`).to.be.within(1000 + HEADERS_MS - 100, KEEP_ALIVE_MS + MARGIN_MS);
      } finally {
        stop();
        socket.destroy();
      }
    }));

  it('CRLF every 300 ms: the first one starts the deadline, keep_alive does not (HAProxy: 2.3 s)', () =>
    both(async (listener) => {
      const { socket, reader, answeredAt } = await afterOneAnswer(listener);
      const stop = drip(socket, 300);
      try {
        const r = await reader.next(KEEP_ALIVE_MS + MARGIN_MS + 2000);
        const after = Date.now() - answeredAt;
        expect(r.status, listener).to.equal(408);
        expect(after, `${listener}: 408 after ${after} ms`).to.be.within(300 + HEADERS_MS - 100, 300 + HEADERS_MS + MARGIN_MS);
        await reader.untilClosed(2000);
      } finally {
        stop();
        socket.destroy();
      }
    }));

  it('nothing sent: closed silently at keep_alive', () =>
    both(async (listener) => {
      const { socket, reader, answeredAt } = await afterOneAnswer(listener);
      try {
        const rest = await reader.untilClosed(KEEP_ALIVE_MS + MARGIN_MS + 2000);
        const after = Date.now() - answeredAt;
        expect(reader.closed, `${listener}: closed`).to.equal(true);
        expect(rest.length, `${listener}: no answer`).to.equal(0);
        expect(after, `${listener}: closed after ${after} ms`).to.be.within(KEEP_ALIVE_MS - 100, KEEP_ALIVE_MS + MARGIN_MS);
      } finally {
        socket.destroy();
      }
    }));

  it('a client that sends its next request in time is served, after empty lines or after a quiet wait', () =>
    both(async (listener) => {
      const { socket, reader } = await afterOneAnswer(listener);
      try {
        // Two CRLFs, then the request 1.5 s after the first: inside request_headers (HAProxy: 200).
        await sleep(1000);
        socket.write('\r\n');
        await sleep(1000);
        socket.write('\r\n');
        await sleep(500);
        socket.write(GET);
        expect((await reader.next(5000)).status, `${listener}: after empty lines`).to.equal(200);
        // A quiet wait of several check intervals, inside keep_alive.
        await sleep(KEEP_ALIVE_MS - 800);
        socket.write(GET);
        expect((await reader.next(5000)).status, `${listener}: after a quiet wait`).to.equal(200);
        // Each answer starts a new wait: a drip after the third answer is timed from its own first CRLF.
        const answeredAt = Date.now();
        const stop = drip(socket, 1000);
        try {
          expect((await reader.next(KEEP_ALIVE_MS + MARGIN_MS + 2000)).status, `${listener}: drip after the third answer`).to.equal(408);
          expect(Date.now() - answeredAt).to.be.below(KEEP_ALIVE_MS + MARGIN_MS);
        } finally {
          stop();
        }
      } finally {
        socket.destroy();
      }
    }));
  it('a WebSocket Upgrade pipelined behind an answer: its tunnel bytes are not taken for a next request (no 408)', () =>
    both(async (listener) => {
      const socket: net.Socket = listener === 'tls' ? await tlsConnect(t.httpsPort, { identity: valid }) : await tcpConnect(t.httpPort);
      let seen = '';
      socket.on('data', (d: Buffer) => (seen += d.toString('latin1')));
      try {
        const upgrade = ['GET /ws HTTP/1.1', 'Host: localhost', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');
        // The answer to the GET ends after the Upgrade was handed over: no wait for a next request may start then.
        socket.write(GET + upgrade);
        for (let i = 0; i < 8; i++) {
          await sleep(500);
          // A masked text frame (mask 0): the echo sends it back.
          const text = Buffer.from(`ping-${i}`);
          socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), text]));
        }
        await sleep(300);
        expect(seen, listener).to.include('101 Switching Protocols');
        expect(seen, listener).to.not.include('408');
        expect(seen, listener).to.include('ping-7');
        expect(socket.destroyed, `${listener}: tunnel still open`).to.equal(false);
      } finally {
        socket.destroy();
      }
    }));
});

// Empty lines before a connection's first request: Node's headersTimeout counts from the connection's
// start and skips them, so a CRLF at 1 s and the request at 2.5 s got a 408 at 2 s. HAProxy 2.6 and
// 3.2 (measured; test/parity/firstRequestWait.test.ts) start `timeout http-request` again at the first
// byte: that request is served, and a lone CRLF at 1 s gets its 408 at 3 s. On both listeners.
describe('hostile: empty lines before the first request', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    t = await startTestEdge({}, 'timeouts: { keep_alive: 3, request_headers: 2, client: 10 }\nroutes:\n  - upstream: echo\n');
  });
  after(async () => {
    await t?.close();
  });

  const connect = (listener: 'tls' | 'tcp'): Promise<net.Socket> => (listener === 'tls' ? tlsConnect(t.httpsPort, { identity: valid }) : tcpConnect(t.httpPort));
  const both = (run: (listener: 'tls' | 'tcp') => Promise<void>): Promise<unknown> => Promise.all([run('tls'), run('tcp')]);

  it('a CRLF at 1 s and the request at 2.5 s: served (HAProxy: 200)', () =>
    both(async (listener) => {
      const socket = await connect(listener);
      const reader = new ResponseReader(socket);
      try {
        await sleep(1000);
        socket.write('\r\n');
        await sleep(1500);
        socket.write(GET);
        expect((await reader.next(5000)).status, listener).to.equal(200);
      } finally {
        socket.destroy();
      }
    }));

  it('one CRLF at 1 s: 408 and close at request_headers from it (HAProxy: 3.0 s after the start)', () =>
    both(async (listener) => {
      const socket = await connect(listener);
      const start = Date.now();
      const reader = new ResponseReader(socket);
      try {
        await sleep(1000);
        socket.write('\r\n');
        expect((await reader.next(HEADERS_MS + MARGIN_MS + 2000)).status, listener).to.equal(408);
        const after = Date.now() - start;
        expect(after, `${listener}: 408 after ${after} ms`).to.be.within(1000 + HEADERS_MS - 100, 1000 + HEADERS_MS + MARGIN_MS);
        await reader.untilClosed(2000);
        expect(reader.closed, `${listener}: closed`).to.equal(true);
      } finally {
        socket.destroy();
      }
    }));

  it('nothing sent: 408 and close at request_headers from the start (HAProxy: 2.0 s)', () =>
    both(async (listener) => {
      const socket = await connect(listener);
      const start = Date.now();
      const reader = new ResponseReader(socket);
      try {
        expect((await reader.next(HEADERS_MS + MARGIN_MS + 2000)).status, listener).to.equal(408);
        const after = Date.now() - start;
        expect(after, `${listener}: 408 after ${after} ms`).to.be.within(HEADERS_MS - 100, HEADERS_MS + MARGIN_MS);
      } finally {
        socket.destroy();
      }
    }));
});

// Review 13: an app that answers before the upload is in (an early 401 or 413) left the rest of the
// body arriving after the answer; those bytes were taken for the start of a next request, so
// request_headers later the client got a 408 behind its 200 and the upload was cut.
describe('hostile: an upload still arriving after an early answer', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let app: LoopbackServer;

  before(async () => {
    // Answers at once, without reading the body (Node's server then reads it away itself).
    app = await listenOnLoopback(http.createServer((_req, res) => res.end('early')));
    t = await startTestEdge({}, `timeouts: { keep_alive: 3, request_headers: 2, client: 10, request: 20 }\nroutes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
  });
  after(async () => {
    await t?.close();
    await app?.close();
  });

  it('the body dripped for longer than request_headers after the 200: no 408 behind the answer', async () => {
    const socket = await tcpConnect(t.httpPort);
    let seen = '';
    socket.on('data', (d: Buffer) => (seen += d.toString('latin1')));
    try {
      // 3 s of body at 10 bytes a second: past request_headers (2 s, where the 408 came).
      const BODY = 30;
      socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${BODY}\r\n\r\n`);
      for (let i = 0; i < BODY && !socket.destroyed; i++) {
        await sleep(100);
        socket.write('x');
      }
      await sleep(300);
      expect(seen).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(seen, 'nothing after the one answer').to.not.include('408');
      expect(seen.split('HTTP/1.1 ').length - 1, 'one answer').to.equal(1);
    } finally {
      socket.destroy();
    }
  });

  // undici destroyed the body it stopped sending, which stopped the socket's reading: Node reset the
  // connection at keep_alive + 1 s. HAProxy 3.2 (test/parity/earlyAnswer.test.ts) drains the rest.
  it('an upload longer than keep_alive + 1 s after the answer: the rest read, the next request served', () =>
    Promise.all((['tls', 'tcp'] as const).map(async (listener) => {
      const socket: net.Socket = listener === 'tls' ? await tlsConnect(t.httpsPort, { identity: await clientIdentity('valid') }) : await tcpConnect(t.httpPort);
      const reader = new ResponseReader(socket);
      try {
        // 1.5 MB over ~4.8 s: the kernel's buffers cannot hold what is not read.
        const CHUNK = 64 * 1024;
        const BODY = 24 * CHUNK;
        // The app answers at once; the edge sends it the head with the first body bytes (undici).
        socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${BODY}\r\n\r\n`);
        for (let sent = 0; sent < BODY && !socket.destroyed; sent += CHUNK) {
          await new Promise<void>((resolve, reject) => socket.write(Buffer.alloc(CHUNK, 0x78), (err) => (err ? reject(err) : resolve())));
          await sleep(200);
        }
        expect((await reader.next(5000)).status, `${listener}: the early answer`).to.equal(200);
        socket.write(GET);
        const next = await reader.next(5000);
        expect(next.status, `${listener}: the next request`).to.equal(200);
      } finally {
        socket.destroy();
      }
    })));

  it('the rest of the body past timeouts.request: closed without a page (no 408 after the answer)', async () => {
    const short = await startTestEdge({}, `timeouts: { keep_alive: 3, request_headers: 2, client: 10, request: 3 }\nroutes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
    const socket = await tcpConnect(short.httpPort);
    let seen = '';
    let closedAt = 0;
    const start = Date.now();
    socket.on('data', (d: Buffer) => (seen += d.toString('latin1')));
    socket.on('close', () => (closedAt = Date.now() - start));
    try {
      socket.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n');
      for (let i = 0; i < 50 && !socket.destroyed; i++) {
        socket.write('x');
        await sleep(100);
      }
      await sleep(300);
      expect(seen).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(seen, 'nothing after the one answer').to.not.include('408');
      expect(closedAt, 'closed at timeouts.request').to.be.within(3000 - 100, 3000 + 1500);
    } finally {
      socket.destroy();
      await short.close();
    }
  });
});
