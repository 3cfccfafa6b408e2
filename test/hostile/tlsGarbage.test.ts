// Garbage at the TLS port: random bytes, records that look like TLS, truncated and corrupted real
// ClientHellos, plain HTTP, oversized hellos. The edge must drop such connections without crashing
// and serve the next valid request.
import { expect } from 'chai';
import fc from 'fast-check';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { HandshakeRejectedEvent } from '../../src/observe/events.js';
import { EAGER_TLS_LIMIT } from '../../src/tls/tlsFront.js';
import { clientIdentity, eventually, httpsRequest, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect } from '../support/rawHttp.js';

const RUNS = 50;

/** A real ClientHello as Node's TLS client sends it (captured on a plain TCP server). */
async function captureClientHello(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ClientHello captured')), 5_000);
      server.once('connection', (s) => {
        s.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk);
          s.destroy();
        });
      });
      const c = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost' });
      c.on('error', () => c.destroy());
    });
  } finally {
    server.close();
  }
}

// Both ways into a handshake (src/tls/tlsFront.ts): with one TLS configuration the TLS socket reads
// the stream at once; with strict SNI the front peeks the ClientHello first.
const FRONT_PATHS = [
  { name: 'one TLS configuration: no SNI peek', yaml: 'timeouts: { request_headers: 1 }\n' },
  { name: 'strict SNI: ClientHello peeked first', yaml: 'strict_sni: true\ntimeouts: { request_headers: 1 }\n' },
] as const;

for (const frontPath of FRONT_PATHS) describe(`hostile: garbage and truncated ClientHellos at the TLS port (${frontPath.name})`, function () {
  this.timeout(120_000);
  let t: TestEdge;
  let valid: ClientIdentity;
  let hello: Buffer;

  before(async () => {
    valid = await clientIdentity('valid');
    hello = await captureClientHello();
    t = await startTestEdge({}, frontPath.yaml);
  });
  after(async () => t?.close());

  /** Writes bytes, half-closes, waits (bounded) for the edge to close, then makes sure it is gone. */
  async function throwAt(bytes: Buffer, halfClose = true): Promise<Buffer> {
    const socket = await tcpConnect(t.httpsPort);
    try {
      const reader = new ResponseReader(socket);
      socket.write(bytes);
      if (halfClose) socket.end();
      return await reader.untilClosed(5_000).catch(() => Buffer.alloc(0));
    } finally {
      socket.destroy();
    }
  }

  async function stillServes(): Promise<void> {
    const r = await httpsRequest(t.httpsPort, { identity: valid });
    expect(r.status, 'the edge still serves a valid request').to.equal(200);
  }

  it('the captured ClientHello is a TLS handshake record (sanity)', () => {
    expect(hello[0]).to.equal(0x16);
    expect(hello.length).to.be.greaterThan(100);
  });

  it(`random bytes (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        await throwAt(Buffer.from(bytes));
      }),
      { numRuns: RUNS },
    );
    await stillServes();
  });

  it(`random bytes behind a TLS handshake record header (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ minLength: 0, maxLength: 1024 }), async (len, body) => {
        const head = Buffer.from([0x16, 0x03, 0x01, len >> 8, len & 0xff]);
        await throwAt(Buffer.concat([head, Buffer.from(body)]));
      }),
      { numRuns: RUNS },
    );
    await stillServes();
  });

  it(`real ClientHello truncated at a random point (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), async (n) => {
        await throwAt(hello.subarray(0, Math.min(n, hello.length - 1)));
      }),
      { numRuns: RUNS },
    );
    await stillServes();
  });

  it(`real ClientHello with corrupted bytes (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), async (flips) => {
        const copy = Buffer.from(hello);
        for (const [pos, x] of flips) copy[pos % copy.length]! ^= x;
        await throwAt(copy);
      }),
      { numRuns: RUNS },
    );
    await stillServes();
  });

  it('a truncated ClientHello left open is dropped by the handshake timeout (1 s)', async () => {
    const before = t.events.length;
    const socket = await tcpConnect(t.httpsPort);
    try {
      const reader = new ResponseReader(socket);
      socket.write(hello.subarray(0, 20));
      await reader.untilClosed(10_000);
      expect(reader.closed, 'the edge closed the connection').to.equal(true);
    } finally {
      socket.destroy();
    }
    await eventually(() => t.events.slice(before).some((e) => e.kind === 'handshake-rejected'));
    const ev = t.events.slice(before).find((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected')!;
    expect(ev.reason).to.match(/handshake timeout/);
    await stillServes();
  });

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /** Rejections other than the handshake timeouts of connections a test left idle on purpose. */
  const rejectionsSince = (index: number): HandshakeRejectedEvent[] =>
    t.events.slice(index).filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected' && !/handshake timeout/.test(e.reason));

  /** Connects, gives the edge time to accept (and make its TLS socket), then resets without a byte. */
  async function resetWithoutData(): Promise<void> {
    const socket = await tcpConnect(t.httpsPort);
    await sleep(100);
    socket.resetAndDestroy();
    await sleep(300);
  }

  it('connect, then RST without sending a byte → closed, nothing reported', async () => {
    const before = t.events.length;
    await resetWithoutData();
    expect(rejectionsSince(before)).to.deep.equal([]);
    await stillServes();
  });

  it(`connect, then RST without a byte while ${EAGER_TLS_LIMIT} handshakes are pending (TLS socket only at the first bytes) → nothing reported`, async () => {
    // EAGER_TLS_LIMIT idle connections keep that many handshakes pending, so the next connection
    // takes the connect-flood path; they are closed well before the 1 s handshake timeout.
    const idle = await Promise.all(Array.from({ length: EAGER_TLS_LIMIT }, () => tcpConnect(t.httpsPort)));
    try {
      await sleep(100);
      const before = t.events.length;
      await resetWithoutData();
      expect(rejectionsSince(before)).to.deep.equal([]);
    } finally {
      for (const s of idle) s.destroy();
    }
    await stillServes();
  });

  it('plain HTTP at the TLS port → closed, reported as such', async () => {
    const before = t.events.length;
    await throwAt(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), false);
    await eventually(() => t.events.slice(before).some((e) => e.kind === 'handshake-rejected'));
    const ev = t.events.slice(before).find((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected')!;
    expect(ev.reason).to.match(/plain HTTP/i);
    await stillServes();
  });

  it('an oversized ClientHello stream (64 KiB of handshake records) is dropped', async () => {
    const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(0x4000, 0x01)]);
    await throwAt(Buffer.concat([record, record, record, record]));
    await stillServes();
  });

  it('a ClientHello sent one byte at a time still completes a handshake', async () => {
    // Not hostile as such, but the SNI peek must cope with arbitrary fragmentation.
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect({ host: '127.0.0.1', port: t.httpsPort });
      outbound.on('error', () => inbound.destroy());
      inbound.on('error', () => outbound.destroy());
      let first = true;
      inbound.on('data', (chunk: Buffer) => {
        if (!first) {
          outbound.write(chunk);
          return;
        }
        first = false;
        inbound.pause();
        let i = 0;
        const drip = (): void => {
          if (i >= chunk.length) {
            inbound.resume();
            return;
          }
          outbound.write(chunk.subarray(i, i + 1));
          i++;
          setImmediate(drip);
        };
        drip();
      });
      outbound.pipe(inbound);
      inbound.on('close', () => outbound.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const r = await httpsRequest((proxy.address() as AddressInfo).port, { identity: valid });
      expect(r.status).to.equal(200);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
