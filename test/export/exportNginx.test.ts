// `mtls-edge export nginx` run in real nginx (Debian's package; skipped with the reason when there
// is none): the exported nginx.conf starts, routes by host and path, and sets nginx's four
// client-certificate headers, replacing the client's copies; and the edge itself, with `dialect:
// nginx` and the same configuration, sends the app the same four headers, byte for byte.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { EventBus } from '../../src/observe/events.js';
import { clientIdentity, httpRequest, httpsRequest, testPki } from '../support/edgeHarness.js';
import { canConnect, freePort } from '../parity/haproxy.js';

function findNginx(): string | null {
  for (const p of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(p, ['-v'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return p;
  }
  return null;
}

describe('mtls-edge export nginx, run in real nginx', function () {
  this.timeout(60_000);
  const bin = findNginx();
  let dir = '';
  let echo: EchoServer | null = null;
  let nginx: ChildProcess | null = null;
  let output = '';
  let ports = { https: 0, http: 0 };
  let edge: RunningEdge | null = null;

  before(async function () {
    if (!bin) {
      console.log('    skipped: no nginx on PATH or in /usr/sbin; install it, e.g. `apt-get install -y nginx`');
      this.skip();
    }
    const { pki } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-export-nginx-'));
    echo = await startEchoServer();
    ports = { https: await freePort(), http: await freePort() };
    const config = join(dir, 'edge.yaml');
    writeFileSync(config, JSON.stringify({
      bind: '127.0.0.1', https_port: ports.https, http_port: ports.http, max_connections: 1000,
      tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert }],
      routes: [{ host: 'localhost', path: '/app', upstream: echo.origin }],
    }));
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/mtls-edge.js'), 'export', 'nginx', '--config', config, '--out', join(dir, 'nginx')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).to.not.match(/PRIVATE KEY/);
    // The edge with the nginx dialect and the same settings, on ports of its own.
    const edgeConfig = join(dir, 'edge-nginx-dialect.yaml');
    writeFileSync(edgeConfig, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')) as object, https_port: 0, http_port: 0, admin: false, dialect: 'nginx' }));
    const loaded = await loadConfig({ file: edgeConfig });
    edge = await startEdge(loaded.config, loaded.resolved, new EventBus());
    const child = spawn(bin!, ['-c', join(dir, 'nginx', 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx = child;
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    for (let i = 0; i < 200 && !(await canConnect(ports.https)); i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
      await new Promise((res) => setTimeout(res, 25));
    }
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      const t = setTimeout(() => nginx?.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await edge?.close(1000);
    await echo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const header = (pairs: [string, string][] | undefined, name: string): string[] => (pairs ?? []).filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

  it('a verified client certificate: SUCCESS, the DNs, the escaped PEM of the leaf; the client\'s copies replaced', async () => {
    const identity = await clientIdentity('valid');
    const r = await httpsRequest(ports.https, { identity, path: '/app/x', headers: [['Host', 'localhost'], ['X-SSL-Client-Verify', 'SUCCESS-spoofed'], ['X-SSL-Client-S-DN', 'CN=admin']] });
    expect(r.status, output).to.equal(200);
    const h = r.echo?.headers;
    expect(header(h, 'X-SSL-Client-Verify')).to.deep.equal(['SUCCESS']);
    const leaf = new X509Certificate(decodeURIComponent(header(h, 'X-SSL-Client-Cert')[0] ?? ''));
    expect(leaf.fingerprint256).to.equal(new X509Certificate(readFileSync((await testPki()).pki.client.cert)).fingerprint256);
    expect(header(h, 'X-SSL-Client-S-DN')).to.have.length(1);
    expect(header(h, 'X-SSL-Client-S-DN')[0]).to.match(/^CN=dev-client,/);
    expect(header(h, 'X-SSL-Client-I-DN')[0]).to.match(/^CN=/);
  });

  it('no certificate: X-SSL-Client-Verify NONE and no certificate headers; plain HTTP the same; no route: 503', async () => {
    const r = await httpsRequest(ports.https, { path: '/app', headers: [['Host', 'localhost'], ['X-SSL-Client-Cert', 'spoofed']] });
    expect(r.status).to.equal(200);
    expect(header(r.echo?.headers, 'X-SSL-Client-Verify')).to.deep.equal(['NONE']);
    expect(header(r.echo?.headers, 'X-SSL-Client-Cert')).to.deep.equal([]);
    expect(header(r.echo?.headers, 'X-Forwarded-Proto')).to.deep.equal(['https']);
    const plain = await httpRequest(ports.http, { path: '/app', headers: [['Host', 'localhost'], ['X-SSL-Client-Verify', 'SUCCESS']] });
    expect(header(plain.echo?.headers, 'X-SSL-Client-Verify')).to.deep.equal([]);
    expect(header(plain.echo?.headers, 'X-Forwarded-Proto')).to.deep.equal(['http']);
    expect((await httpsRequest(ports.https, { path: '/other', headers: [['Host', 'localhost']] })).status).to.equal(503);
  });

  it('the edge with dialect nginx sends the app the same four headers as nginx, byte for byte', async () => {
    const identity = await clientIdentity('valid');
    const cases: { name: string; identity?: typeof identity; forged: [string, string][] }[] = [
      { name: 'verified certificate, forged copies', identity, forged: [['X-SSL-Client-Verify', 'SUCCESS-spoofed'], ['X-SSL-Client-S-DN', 'CN=admin']] },
      { name: 'no certificate, forged copies', forged: [['X-SSL-Client-Cert', 'spoofed'], ['X-SSL-Client-Verify', 'SUCCESS']] },
    ];
    const names = ['X-SSL-Client-Cert', 'X-SSL-Client-Verify', 'X-SSL-Client-S-DN', 'X-SSL-Client-I-DN'];
    for (const c of cases) {
      const send = (port: number) => httpsRequest(port, { ...(c.identity ? { identity: c.identity } : {}), path: '/app/x', headers: [['Host', 'localhost'], ...c.forged] });
      const [fromNginx, fromEdge] = [await send(ports.https), await send(edge!.httpsPort)];
      expect([fromNginx.status, fromEdge.status], c.name).to.deep.equal([200, 200]);
      for (const n of names) expect(header(fromEdge.echo?.headers, n), `${c.name}: ${n}`).to.deep.equal(header(fromNginx.echo?.headers, n));
    }
  });
});
