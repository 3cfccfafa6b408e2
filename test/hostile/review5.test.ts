// Hostile review 5: timeouts.client as HAProxy's `timeout client` (edge.ts onClientTimeout), the SNI
// connector of an https upstream without a route tls block, HAProxy's reason phrases. Real edges on
// loopback, raw clients; every server and socket is closed in finally blocks.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';
import { waitFor, requestEvents, connectPlain } from '../support/waits.js';

/** Sends bytes and collects everything until the edge closes, `until` matches, or `ms` pass. */
async function exchange(port: number, bytes: string, ms: number, until?: (out: string) => boolean): Promise<string> {
  const s = await connectPlain(port);
  s.on('error', () => undefined);
  let out = '';
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  s.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    if (until?.(out)) done();
  });
  s.once('close', () => done());
  s.write(bytes);
  const timer = setTimeout(done, ms);
  await finished;
  clearTimeout(timer);
  s.destroy();
  return out;
}

/** Writes `count` chunks as fast as the socket takes them; stops early if it closes. */
async function upload(s: net.Socket, count: number, chunk: Buffer): Promise<void> {
  for (let i = 0; i < count && !s.destroyed; i++) {
    if (s.write(chunk)) continue;
    await new Promise<void>((r) => {
      const done = (): void => {
        s.removeListener('drain', done);
        s.removeListener('close', done);
        r();
      };
      s.once('drain', done);
      s.once('close', done);
    });
  }
}

async function slowUpstream(): Promise<LoopbackServer & { uploads: number[] }> {
  const uploads: number[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/slow-reader') {
      // An app that looks at an upload only after 2 s (it checks something first), then reads it all.
      req.pause();
      setTimeout(() => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => {
          uploads.push(n);
          res.end(String(n));
        });
        req.resume();
      }, 2_000).unref();
      return;
    }
    if (req.url === '/never-reads') return; // reads no upload and never answers
    req.resume();
    if (req.url === '/big') {
      // 32 MiB in 1 MiB chunks, as fast as the edge takes them.
      let sent = 0;
      const more = (): void => {
        while (sent < 32 && res.write(Buffer.alloc(1024 * 1024, 0x62))) sent++;
        if (sent >= 32) res.end();
        else {
          sent++;
          res.once('drain', more);
        }
      };
      res.writeHead(200, { 'content-length': String(32 * 1024 * 1024) });
      more();
      return;
    }
    if (req.url === '/slow') {
      setTimeout(() => res.end('slow-done'), 2_500).unref();
      return;
    }
    res.end('ok');
  });
  return Object.assign(await listenOnLoopback(server), { uploads });
}

describe('hostile review 5', function () {
  this.timeout(30_000);

  describe('timeouts.client while the app is due', () => {
    let up: Awaited<ReturnType<typeof slowUpstream>>;
    before(async () => {
      up = await slowUpstream();
    });
    after(async () => {
      await up.close();
    });

    it('an upload the app reads only after 2 s is not cut by timeouts.client 1 s (the app is due, as in HAProxy: timeout server decides)', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 1, server: 30, request: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      const s = await connectPlain(t.httpPort);
      try {
        s.on('error', () => undefined);
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString('latin1')));
        // Far more than the socket buffers between client and app hold, so the edge must stop reading.
        const size = 64 * 1024 * 1024;
        s.write(`POST /slow-reader HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${size}\r\n\r\n`);
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        await upload(s, size / chunk.length, chunk);
        expect(await waitFor(() => out.includes('\r\n\r\n') || s.destroyed, 15_000)).to.equal(true);
        expect(out.split('\r\n')[0], `events: ${JSON.stringify(requestEvents(t, '/slow-reader').map((e) => [e.status, e.error]))}`).to.equal('HTTP/1.1 200 OK');
      } finally {
        s.destroy();
        await t.close();
      }
    });

    it('a pipelined request still arriving (past request_headers) does not take the answer owed to the complete one before it', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 30, server: 30, request_headers: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      try {
        const out = await exchange(t.httpPort, 'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /next HTTP/1.1\r\nHo', 6_000, (o) => o.includes('slow-done'));
        expect(out.split('\r\n')[0], out.slice(0, 200)).to.equal('HTTP/1.1 200 OK');
        expect(out).to.include('slow-done');
        // Then HAProxy's 408 for the request that did not arrive in time, and the connection ends.
        expect(await waitFor(() => requestEvents(t, '/slow').length === 1, 2_000)).to.equal(true);
        expect(requestEvents(t, '/slow')[0]?.status).to.equal(200);
      } finally {
        await t.close();
      }
    });

    it('the 408 for that pipelined request follows the owed answer, then the connection ends', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 30, server: 30, request_headers: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      try {
        const started = Date.now();
        const out = await exchange(t.httpPort, 'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /next HTTP/1.1\r\nHo', 8_000);
        expect(Date.now() - started, 'closed by the edge').to.be.below(6_000);
        expect(out.indexOf('slow-done')).to.be.greaterThan(0);
        expect(out.indexOf('HTTP/1.1 408 Request Time-out')).to.be.greaterThan(out.indexOf('slow-done'));
      } finally {
        await t.close();
      }
    });

    it('an upload the client stops sending is still cut at timeouts.client while the app reads', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 1, server: 30, request: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      const s = await connectPlain(t.httpPort);
      try {
        s.on('error', () => undefined);
        const closed = new Promise<void>((r) => s.once('close', () => r()));
        s.write('POST /slow-reader HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n');
        await upload(s, 1, Buffer.alloc(10_000, 0x61));
        const started = Date.now();
        // The app reads everything from 2 s on; the client sends nothing more.
        await Promise.race([closed, new Promise((r) => setTimeout(r, 8_000))]);
        expect(s.destroyed || s.readableEnded, 'the edge closed the connection').to.equal(true);
        expect(Date.now() - started).to.be.below(5_000);
      } finally {
        s.destroy();
        await t.close();
      }
    });

    it('an upload stuck at an app that never reads is bounded by timeouts.server (504, its upstream request ends)', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 1, server: 2, request: 60 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      const s = await connectPlain(t.httpPort);
      try {
        s.on('error', () => undefined);
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString('latin1')));
        const started = Date.now();
        s.write(`POST /never-reads HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
        void upload(s, 64, Buffer.alloc(1024 * 1024, 0x61));
        expect(await waitFor(() => requestEvents(t, '/never-reads').length === 1, 8_000)).to.equal(true);
        expect(Date.now() - started).to.be.below(5_000);
        expect(requestEvents(t, '/never-reads')[0]?.status).to.equal(504);
        expect(await waitFor(() => out.startsWith('HTTP/1.1 504 Gateway Time-out'), 2_000), out.slice(0, 100)).to.equal(true);
      } finally {
        s.destroy();
        await t.close();
      }
    });

    it('an Upgrade pipelined behind a large download does not stall that download for a client that reads it all', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 1, server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      const s = await connectPlain(t.httpPort);
      try {
        s.on('error', () => undefined);
        let got = 0;
        s.on('data', (d: Buffer) => (got += d.length));
        s.write('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
        expect(await waitFor(() => got > 32 * 1024 * 1024, 10_000), `received ${got} bytes`).to.equal(true);
      } finally {
        s.destroy();
        await t.close();
      }
    });

    it('an Upgrade pipelined behind a slow answer does not cut that answer at timeouts.client', async () => {
      const t = await startTestEdge({}, `timeouts: { client: 1, server: 30 }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
      try {
        const out = await exchange(
          t.httpPort,
          'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          6_000,
          (o) => o.includes('slow-done'),
        );
        expect(out.split('\r\n')[0], out.slice(0, 200)).to.equal('HTTP/1.1 200 OK');
        expect(out).to.include('slow-done');
      } finally {
        await t.close();
      }
    });
  });

  describe('https upstream without a route tls block', () => {
    async function tlsUpstream(t: TestEdge, host: string, handshake: boolean): Promise<{ port: number; snis: string[]; close: () => Promise<void> }> {
      const snis: string[] = [];
      const sockets = new Set<net.Socket>();
      const opts = { cert: readFileSync(t.pki.server.chain), key: readFileSync(t.pki.server.key) };
      const server = handshake
        ? tls.createServer({ ...opts, SNICallback: (name, cb) => { snis.push(name); cb(null, tls.createSecureContext(opts)); } }, (s) => {
            s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
          })
        : net.createServer((s) => s.on('error', () => undefined));
      server.on('connection', (s: net.Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      await new Promise<void>((r) => server.listen(0, host, () => r()));
      return {
        port: (server.address() as AddressInfo).port,
        snis,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      };
    }

    for (const [label, host, origin] of [['an IPv6 literal', '::1', '[::1]'], ['a host name', '127.0.0.1', 'localhost']] as const) {
      it(`${label}: the certificate is still verified (untrusted CA: 502), SNI ${origin === 'localhost' ? 'is the host name' : 'is absent'}`, async () => {
        const t = await startTestEdge({}, 'routes: []\n');
        const u = await tlsUpstream(t, host, true);
        const t2 = await startTestEdge({}, `routes:\n  - upstream: https://${origin}:${u.port}\n`);
        try {
          const out = await exchange(t2.httpPort, 'GET /v HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 5_000);
          expect(out.split('\r\n')[0]).to.equal('HTTP/1.1 502 Bad Gateway');
          const [e] = requestEvents(t2, '/v');
          expect(e?.error).to.match(/UNABLE_TO_GET_ISSUER_CERT|self.signed|unable to (get|verify)|CERT/i);
          expect(u.snis).to.deep.equal(origin === 'localhost' ? ['localhost'] : []);
        } finally {
          await t2.close();
          await u.close();
          await t.close();
        }
      });
    }

    it('timeouts.connect covers the upstream TLS handshake (a server that accepts and says nothing: 503 within about 1 s)', async () => {
      const t = await startTestEdge({}, 'routes: []\n');
      const u = await tlsUpstream(t, '127.0.0.1', false);
      const t2 = await startTestEdge({}, `timeouts: { connect: 1 }\nroutes:\n  - upstream: https://localhost:${u.port}\n`);
      try {
        const started = Date.now();
        const out = await exchange(t2.httpPort, 'GET /c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 8_000);
        expect(out.split('\r\n')[0]).to.equal('HTTP/1.1 503 Service Unavailable');
        expect(Date.now() - started).to.be.within(800, 4_000);
      } finally {
        await t2.close();
        await u.close();
        await t.close();
      }
    });
  });
});
