import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool as IndexPool } from 'undici';
import { Pool } from '../../src/edge/undiciPool.js';
import { testPki } from '../support/edgeHarness.js';

const undiciPoolModule = fileURLToPath(new URL('../../src/edge/undiciPool.js', import.meta.url));

// Runs in a fresh process, so undici's index (which this test file itself loads) cannot help.
// argv: the server chain and key for the HTTP/2 part.
const script = `import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const [chain, key] = process.argv.slice(1);
const { Pool } = await import(${JSON.stringify(undiciPoolModule)});
const { Writable } = await import('node:stream');
const collect = (pool, path) => new Promise((resolve, reject) => {
  const chunks = [];
  pool.stream({ path, method: 'GET' }, () => new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }), (err) => (err ? reject(err) : resolve(Buffer.concat(chunks).toString())));
});
const server = createServer((req, res) => res.end(req.method + ' ' + req.url));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pool = new Pool('http://127.0.0.1:' + server.address().port, { connections: 1 });
const body = await collect(pool, '/pool');
await pool.close();
server.close();
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/undici/'));
const http2Loaded = process.moduleLoadList.some((m) => m.includes('http2'));
// A pool that does negotiate HTTP/2 still gets the real client-h2.js.
const http2 = await import('node:http2');
const h2 = http2.createSecureServer({ cert: readFileSync(chain), key: readFileSync(key), allowHTTP1: false }, (req, res) => res.end('h2 ' + req.httpVersion + ' ' + req.url));
await new Promise((r) => h2.listen(0, '127.0.0.1', r));
const h2Pool = new Pool('https://127.0.0.1:' + h2.address().port, { allowH2: true, connect: { rejectUnauthorized: false } });
const h2Body = await collect(h2Pool, '/over-h2');
await h2Pool.close();
h2.close();
console.log(JSON.stringify({ body, loaded, http2Loaded, h2Body }));`;

describe('edge: undici Pool loaded without undici’s index', () => {
  it('is the class undici exports', () => {
    expect(Pool).to.equal(IndexPool);
  });

  let run: { body: string; loaded: string[]; http2Loaded: boolean; h2Body: string };
  before(async function () {
    this.timeout(20_000);
    const { pki } = await testPki();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script, pki.server.chain, pki.server.key], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
    );
    run = JSON.parse(out) as typeof run;
  });

  it('streams a request over a real loopback connection and leaves the index (fetch, WebSocket, caches) unloaded', () => {
    expect(run.body).to.equal('GET /pool');
    expect(run.loaded.some((f) => f.endsWith('/undici/lib/dispatcher/pool.js'))).to.equal(true);
    expect(run.loaded.filter((f) => f.endsWith('/undici/index.js') || f.includes('/undici/lib/web/'))).to.deep.equal([]);
  });

  it('attaches only `stream` of the request APIs, and leaves node:http2 unloaded for an HTTP/1.1 pool', () => {
    expect(run.loaded.filter((f) => /\/undici\/lib\/api\/(api-request|api-pipeline|api-upgrade|api-connect|index)\.js$/.test(f))).to.deep.equal([]);
    expect(run.http2Loaded).to.equal(false);
  });

  it('loads the real HTTP/2 client at the first HTTP/2 connection of a pool created with allowH2', () => {
    expect(run.h2Body).to.equal('h2 2.0 /over-h2');
  });
});
