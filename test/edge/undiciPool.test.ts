import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool as IndexPool } from 'undici';
import { Pool } from '../../src/edge/undiciPool.js';

const undiciPoolModule = fileURLToPath(new URL('../../src/edge/undiciPool.js', import.meta.url));

// Runs in a fresh process, so undici's index (which this test file itself loads) cannot help.
const script = `import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const { Pool } = await import(${JSON.stringify(undiciPoolModule)});
const server = createServer((req, res) => res.end(req.method + ' ' + req.url));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pool = new Pool('http://127.0.0.1:' + server.address().port, { connections: 1 });
const chunks = [];
const { Writable } = await import('node:stream');
const status = await new Promise((resolve, reject) =>
  pool.stream({ path: '/pool', method: 'GET' }, ({ statusCode }) => new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }), (err) => (err ? reject(err) : resolve(200))));
await pool.close();
server.close();
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/undici/'));
console.log(JSON.stringify({ status, body: Buffer.concat(chunks).toString(), loaded }));`;

describe('edge: undici Pool loaded without undici’s index', () => {
  it('is the class undici exports', () => {
    expect(Pool).to.equal(IndexPool);
  });

  it('streams a request over a real loopback connection and leaves the index (fetch, WebSocket, caches) unloaded', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
    );
    const { status, body, loaded } = JSON.parse(out) as { status: number; body: string; loaded: string[] };
    expect([status, body]).to.deep.equal([200, 'GET /pool']);
    expect(loaded.some((f) => f.endsWith('/undici/lib/dispatcher/pool.js'))).to.equal(true);
    expect(loaded.filter((f) => f.endsWith('/undici/index.js') || f.includes('/undici/lib/web/'))).to.deep.equal([]);
  });
});
