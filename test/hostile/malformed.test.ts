// Malformed and hostile HTTP over raw TLS and TCP sockets: bad request lines, invalid header bytes,
// request smuggling attempts (CL+TE, double Content-Length, obfuscated TE), oversized headers,
// slowloris headers and slow bodies. Each case: the edge answers (or closes) as HAProxy would,
// nothing smuggled reaches the upstream, and the edge still serves a valid request afterwards.
import { expect } from 'chai';
import type net from 'node:net';
import { clientIdentity, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect, tlsConnect, type RawResponse } from '../support/rawHttp.js';
import { recordingUpstream, type RecordingUpstream } from './recordingUpstream.js';

describe('hostile: malformed requests, smuggling, oversized and slow clients', function () {
  this.timeout(60_000);
  let up: RecordingUpstream;
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    up = await recordingUpstream();
    t = await startTestEdge({}, `timeouts: { request_headers: 1, client: 2 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
  });
  after(async () => {
    await t?.close();
    await up?.close();
  });

  async function connect(listener: 'tls' | 'tcp'): Promise<net.Socket> {
    return listener === 'tls' ? tlsConnect(t.httpsPort, { identity: valid }) : tcpConnect(t.httpPort);
  }

  /** Sends raw bytes; returns the first response, or null when the edge closed without one. */
  async function exchange(listener: 'tls' | 'tcp', bytes: string): Promise<{ first: RawResponse | null; rest: Buffer }> {
    const socket = await connect(listener);
    try {
      const reader = new ResponseReader(socket);
      socket.write(Buffer.from(bytes, 'latin1'));
      let first: RawResponse | null = null;
      try {
        first = await reader.next(10_000);
      } catch (e) {
        if ((e as { code?: string }).code !== 'CLOSED') throw e;
      }
      // Whatever else comes back before the edge closes (a smuggled second response would show here).
      socket.end();
      const rest = await reader.untilClosed(5_000).catch(() => Buffer.alloc(0));
      return { first, rest };
    } finally {
      socket.destroy();
    }
  }

  afterEach(async () => {
    for (const listener of ['tls', 'tcp'] as const) {
      const { first } = await exchange(listener, 'GET /still-alive HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(first?.status, `the edge still serves on ${listener}`).to.equal(200);
    }
  });

  const smuggledReached = (): string[] => up.seen.filter((r) => r.url.includes('smuggled')).map((r) => `${r.method} ${r.url}`);

  const BAD_REQUESTS: readonly { name: string; bytes: string }[] = [
    { name: 'not HTTP at all', bytes: 'HELLO THERE\r\n\r\n' },
    { name: 'HTTP/0.9 request line (no version)', bytes: 'GET /\r\nHost: localhost\r\n\r\n' },
    { name: 'unknown HTTP version', bytes: 'GET / HTTP/7.1\r\nHost: localhost\r\n\r\n' },
    { name: 'space inside the target', bytes: 'GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { name: 'control byte in the target', bytes: 'GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { name: 'invalid method token', bytes: 'G(T / HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { name: 'header line without a colon', bytes: 'GET / HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n' },
    { name: 'space in a header name', bytes: 'GET / HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n' },
    { name: 'DEL byte in a header name', bytes: 'GET / HTTP/1.1\r\nHost: localhost\r\nX-\x7fA: x\r\n\r\n' },
    { name: 'NUL byte in a header value', bytes: 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00b\r\n\r\n' },
    { name: 'obs-fold continuation line', bytes: 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n' },
    { name: 'bare LF line endings mixed with CRLF', bytes: 'GET / HTTP/1.1\r\nHost: localhost\nX-A: a\r\n\r\n' },
    { name: 'negative Content-Length', bytes: 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n' },
    { name: 'non-numeric Content-Length', bytes: 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1x\r\n\r\n' },
  ];
  for (const c of BAD_REQUESTS) {
    for (const listener of ['tls', 'tcp'] as const) {
      it(`${listener}: ${c.name} → 400, nothing reaches the upstream`, async () => {
        const before = up.seen.length;
        const { first } = await exchange(listener, c.bytes);
        expect(first?.status).to.equal(400);
        expect(up.seen.length).to.equal(before);
      });
    }
  }

  const SMUGGLING: readonly { name: string; bytes: string }[] = [
    {
      name: 'CL.TE: Content-Length and Transfer-Encoding: chunked',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nContent-Length: 49\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n',
    },
    {
      name: 'TE.CL: chunked first, Content-Length after',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n2c\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n\r\n0\r\n\r\n',
    },
    {
      name: 'two different Content-Length headers',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n',
    },
    {
      name: 'Content-Length list "0, 44"',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0, 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n',
    },
    {
      name: 'obfuscated Transfer-Encoding (" chunked" folded)',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nContent-Length: 49\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n',
    },
    {
      name: 'Transfer-Encoding: chunked, identity with Content-Length',
      bytes: 'POST /front HTTP/1.1\r\nHost: localhost\r\nContent-Length: 49\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n',
    },
  ];
  for (const c of SMUGGLING) {
    for (const listener of ['tls', 'tcp'] as const) {
      it(`${listener}: smuggling — ${c.name} → 400, no smuggled request upstream`, async () => {
        const { first, rest } = await exchange(listener, c.bytes);
        expect(first?.status).to.equal(400);
        expect(rest.toString('latin1'), 'no second response on the connection').to.not.match(/HTTP\/1\.1 \d{3}/);
        expect(smuggledReached()).to.deep.equal([]);
      });
    }
  }

  for (const listener of ['tls', 'tcp'] as const) {
    it(`${listener}: smuggling — invalid chunk size after valid headers → connection closed (or 400), nothing smuggled`, async () => {
      // The headers were valid, so the request is already streaming to the upstream when the body
      // turns out malformed: the edge drops the connection (HAProxy may answer 400 here instead).
      const { first, rest } = await exchange(listener, 'POST /front HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(first === null || first.status === 400 || first.status === 502, `got ${first?.statusLine}`).to.equal(true);
      expect(rest.toString('latin1')).to.not.match(/HTTP\/1\.1 \d{3}/);
      expect(smuggledReached()).to.deep.equal([]);
      const front = up.seen.filter((r) => r.url === '/front').at(-1);
      if (front) expect(front.complete, 'the upstream never saw a complete body').to.equal(false);
    });
  }

  it('a valid chunked body is forwarded whole (the smuggling checks are not over-eager)', async () => {
    const { first } = await exchange('tls', 'POST /chunked-ok HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(first?.status).to.equal(200);
    expect(JSON.parse(first!.body.toString())).to.deep.equal({ url: '/chunked-ok', bodyBytes: 5 });
  });

  for (const listener of ['tls', 'tcp'] as const) {
    it(`${listener}: oversized headers → 431 (one huge line), many lines → 400 on plain HTTP, 431 over TLS`, async () => {
      const before = up.seen.length;
      const huge = await exchange(listener, `GET / HTTP/1.1\r\nHost: localhost\r\nX-Huge: ${'h'.repeat(64 * 1024)}\r\n\r\n`);
      expect(huge.first?.status).to.equal(431);
      const many = Array.from({ length: 400 }, (_, i) => `X-Many-${i}: ${'m'.repeat(40)}`).join('\r\n');
      const lots = await exchange(listener, `GET / HTTP/1.1\r\nHost: localhost\r\n${many}\r\n\r\n`);
      // Over tune.http.maxhdr too: HAProxy's 400, as its count runs out first; over TLS Node reports the
      // overflow in a later record, whose lines the edge cannot count: 431 (docs/parity.md#header-lines).
      expect(lots.first?.status).to.equal(listener === 'tcp' ? 400 : 431);
      expect(up.seen.length).to.equal(before);
    });

    it(`${listener}: slowloris headers (a line every 200 ms) → closed by the request-header timeout (1 s), 408`, async () => {
      const socket = await connect(listener);
      let timer: NodeJS.Timeout | undefined;
      try {
        const reader = new ResponseReader(socket);
        socket.write('GET /slowloris HTTP/1.1\r\nHost: localhost\r\n');
        let i = 0;
        timer = setInterval(() => {
          if (!socket.destroyed && i++ < 100) socket.write(`X-Slow-${i}: x\r\n`);
        }, 200);
        const out = await reader.untilClosed(15_000);
        expect(reader.closed, 'the edge closed the connection').to.equal(true);
        expect(out.toString('latin1')).to.match(/^HTTP\/1\.1 408 /);
        expect(up.seen.some((r) => r.url === '/slowloris')).to.equal(false);
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
    });

    it(`${listener}: slow body (Content-Length 1000, 10 bytes then silence) → closed by the client timeout`, async () => {
      const socket = await connect(listener);
      try {
        const reader = new ResponseReader(socket);
        socket.write('POST /slow-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n0123456789');
        await reader.untilClosed(15_000);
        expect(reader.closed, 'the edge closed the connection').to.equal(true);
        const rec = up.seen.filter((r) => r.url === '/slow-body').at(-1);
        if (rec) expect(rec.complete, 'the upstream never got a complete body').to.equal(false);
      } finally {
        socket.destroy();
      }
    });
  }

  it('idle connection that never sends anything is closed (headers timeout)', async () => {
    const socket = await connect('tls');
    try {
      const reader = new ResponseReader(socket);
      await reader.untilClosed(15_000);
      expect(reader.closed).to.equal(true);
    } finally {
      socket.destroy();
    }
  });
});
