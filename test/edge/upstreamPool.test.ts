// The upstream hop's pools (src/edge/upstreams.ts) on undici's public Pool: requests stream over
// real loopback connections, kept alive and reused, plain and over TLS with the route's settings;
// a reload's retain() closes the pools no route uses any more.
import { expect } from 'chai';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Pool } from 'undici';
import { Upstreams } from '../../src/edge/upstreams.js';
import { testPki } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

function get(pool: Pool, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pool.stream(
      { path, method: 'GET' },
      () => new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk); cb(); } }),
      (err) => (err ? reject(err) : resolve(Buffer.concat(chunks).toString())),
    );
  });
}

describe('edge: upstream pools (undici Pool)', function () {
  this.timeout(20_000);
  const timeouts = { connectMs: 5_000, serverMs: 5_000, keepAliveMs: 5_000 };
  let plain: LoopbackServer;
  let secure: LoopbackServer;
  let plainConnections = 0;
  let ca: Buffer;

  before(async () => {
    const { pki } = await testPki();
    ca = readFileSync(pki.rootCa.cert);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void res.end(`${req.method} ${req.url}`);
    const plainServer = http.createServer(handler);
    plainServer.on('connection', () => plainConnections++);
    plain = await listenOnLoopback(plainServer);
    secure = await listenOnLoopback(https.createServer({ cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key) }, handler));
  });
  after(async () => {
    await plain?.close();
    await secure?.close();
  });

  it('streams sequential requests over one kept-alive loopback connection', async () => {
    const upstreams = new Upstreams(timeouts);
    try {
      const before = plainConnections;
      const pool = upstreams.pool(`http://127.0.0.1:${plain.port}`, undefined);
      for (let i = 0; i < 5; i++) {
        expect(await get(pool, `/${i}`)).to.equal(`GET /${i}`);
        // stream()'s callback can run before the connection is back in the pool's idle list.
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(plainConnections - before).to.equal(1);
      expect(upstreams.pool(`http://127.0.0.1:${plain.port}`, undefined), 'the same origin and TLS settings share a pool').to.equal(pool);
    } finally {
      await upstreams.close();
    }
  });

  it('connects over TLS with the route’s CA and servername, and refuses an untrusted upstream', async () => {
    const upstreams = new Upstreams(timeouts);
    try {
      const trusted = upstreams.pool(`https://127.0.0.1:${secure.port}`, { ca: [ca], servername: 'localhost', rejectUnauthorized: true });
      expect(await get(trusted, '/tls')).to.equal('GET /tls');
      const untrusted = upstreams.pool(`https://127.0.0.1:${secure.port}`, { servername: 'localhost', rejectUnauthorized: true });
      const err = await get(untrusted, '/tls').then(() => null, (e: Error & { code?: string }) => e);
      expect(err?.code).to.match(/UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
    } finally {
      await upstreams.close();
    }
  });

  it('retain() closes the pools no current target uses', async () => {
    const upstreams = new Upstreams(timeouts);
    try {
      const keptOrigin = `http://127.0.0.1:${plain.port}`;
      upstreams.pool(keptOrigin, undefined);
      upstreams.pool(`http://localhost:${plain.port}`, undefined);
      expect(upstreams.size).to.equal(2);
      upstreams.retain([{ origin: keptOrigin, route: {} }]);
      expect(upstreams.size).to.equal(1);
    } finally {
      await upstreams.close();
    }
  });
});
