// `mtls-edge export nginx` run in real nginx (Debian's package; skipped with the reason when there
// is none): the exported nginx.conf starts, routes by host and path, and sets nginx's four
// client-certificate headers, replacing the client's copies; and the edge itself, with `dialect:
// nginx` and the same configuration, sends the app the same four headers, byte for byte. The
// files themselves (modes, no key in a readable file, what is rendered and what is noted) are
// checked without nginx.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { EventBus } from '../../src/observe/events.js';
import { clientIdentity, httpRequest, type ClientIdentity, httpsRequest, received, testPki } from '../support/edgeHarness.js';
import { canConnect, freePort } from '../parity/haproxy.js';

const cliPath = join(process.cwd(), 'bin/mtls-edge.js');

/** `mtls-edge export nginx --config FILE --out DIR [...more]`: exit code and everything printed. */
function exportNginx(config: string, out: string, more: string[] = []): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [cliPath, 'export', 'nginx', '--config', config, '--out', out, ...more], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

function findNginx(): string | null {
  for (const p of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(p, ['-v'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return p;
  }
  return null;
}

interface RunningNginx {
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/** nginx on an exported nginx.conf, once it accepts on `port` (at most 5 s); stop() ends it (SIGKILL after 3 s). */
async function startNginx(bin: string, conf: string, port: number): Promise<RunningNginx> {
  let output = '';
  const child: ChildProcess = spawn(bin, ['-c', conf, '-e', 'stderr'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
    await new Promise((res) => setTimeout(res, 25));
  }
  if (!(await canConnect(port))) {
    await stop();
    throw new Error(`nginx did not listen on ${port} within 5 s: ${output}`);
  }
  return { output: () => output, stop };
}

/** An echo upstream, a configuration from `settings`, its export, and nginx running it on a free port. */
interface ExportedNginx {
  /** The folder holding the configuration (edge.yaml) and the export (nginx/). */
  readonly dir: string;
  readonly port: number;
  readonly nginx: RunningNginx;
  readonly close: () => Promise<void>;
}

/**
 * In the calling describe: before its tests, runExportedNginx (or skip without nginx); after them,
 * stop it. The returned object is filled in by the before hook.
 */
function exportedNginxFor(name: string, settings: Parameters<typeof runExportedNginx>[2]): { dir: string; port: number; nginx: RunningNginx | null } {
  const bin = findNginx();
  const view = { dir: '', port: 0, nginx: null as RunningNginx | null };
  let exported: ExportedNginx | null = null;
  before(async function () {
    if (!bin) {
      console.log('    skipped: no nginx on PATH or in /usr/sbin; install it, e.g. `apt-get install -y nginx`');
      this.skip();
    }
    exported = await runExportedNginx(bin!, name, settings);
    Object.assign(view, { dir: exported.dir, port: exported.port, nginx: exported.nginx });
  });
  after(async () => exported?.close());
  return view;
}

async function runExportedNginx(bin: string, name: string, settings: (pki: Awaited<ReturnType<typeof testPki>>['pki'], echoOrigin: string) => object): Promise<ExportedNginx> {
  const { pki } = await testPki();
  const dir = mkdtempSync(join(tmpdir(), `mtls-edge-export-nginx-${name}-`));
  let echo: EchoServer | null = null;
  let nginx: RunningNginx | null = null;
  const close = async (): Promise<void> => {
    await nginx?.stop();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    echo = await startEchoServer();
    const port = await freePort();
    const config = join(dir, 'edge.yaml');
    writeFileSync(config, JSON.stringify({ bind: '127.0.0.1', https_port: port, http_port: false, max_connections: 1000, ...settings(pki, echo.origin) }));
    const r = exportNginx(config, join(dir, 'nginx'));
    expect(r.code, r.out).to.equal(0);
    nginx = await startNginx(bin, join(dir, 'nginx', 'nginx.conf'), port);
    return { dir, port, nginx, close };
  } catch (e) {
    await close();
    throw e;
  }
}

describe('mtls-edge export nginx, run in real nginx', function () {
  this.timeout(60_000);
  const bin = findNginx();
  let dir = '';
  let echo: EchoServer | null = null;
  let nginx: RunningNginx | null = null;
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
    const r = exportNginx(config, join(dir, 'nginx'));
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.not.match(/PRIVATE KEY/);
    // The edge with the nginx dialect and the same settings, on ports of its own.
    const edgeConfig = join(dir, 'edge-nginx-dialect.yaml');
    writeFileSync(edgeConfig, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')) as object, https_port: 0, http_port: 0, admin: false, dialect: 'nginx' }));
    const loaded = await loadConfig({ file: edgeConfig });
    edge = await startEdge(loaded.config, loaded.resolved, new EventBus());
    nginx = await startNginx(bin!, join(dir, 'nginx', 'nginx.conf'), ports.https);
  });

  after(async () => {
    await nginx?.stop();
    await edge?.close(1000);
    await echo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const header = (pairs: [string, string][] | undefined, name: string): string[] => (pairs ?? []).filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

  it('a verified client certificate: SUCCESS, the DNs, the escaped PEM of the leaf; the client\'s copies replaced', async () => {
    const identity = await clientIdentity('valid');
    const r = await httpsRequest(ports.https, { identity, path: '/app/x', headers: [['Host', 'localhost'], ['X-SSL-Client-Verify', 'SUCCESS-spoofed'], ['X-SSL-Client-S-DN', 'CN=admin']] });
    expect(r.status, nginx?.output()).to.equal(200);
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

  // The edge routes on the path as the client sent it, as HAProxy's path_beg does; nginx's $uri is
  // decoded and its dot segments resolved, so the export matches $request_uri instead.
  it('routes on the target as sent, as the edge: dot segments and %-escapes do not move a request to another route; targets the edge refuses get 400', async () => {
    for (const path of ['/app/../other', '/%61pp/x', '/app/%2e%2e/other', '/app?q=1', '/appx', '/other/../app/x', '/app#frag', 'http://localhost?x=1', 'http://localhost/app', 'http://LOCALHOST:1/app']) {
      const send = (port: number) => httpsRequest(port, { path, headers: [['Host', 'localhost']] });
      const [fromNginx, fromEdge] = [await send(ports.https), await send(edge!.httpsPort)];
      expect([fromNginx.status, fromNginx.echo?.path], `${path}: nginx ${nginx?.output()}`).to.deep.equal([fromEdge.status, fromEdge.echo?.path]);
    }
  });

  it('headers_with_underscores: flag (the default): a client\'s underscore spellings of the certificate headers do not reach the app (nginx leaves every such header out; noted)', async () => {
    const forged: [string, string][] = [['X_SSL_Client_Verify', 'SUCCESS'], ['X_SSL_Client_Cert', 'forged'], ['X_SSL_Client_S_DN', 'CN=admin'], ['X_SSL_Client_I_DN', 'CN=root'], ['X-SSL_Client-Verify', 'SUCCESS'], ['X_Custom_Id', 'u1']];
    const r = await httpsRequest(ports.https, { path: '/app', headers: [['Host', 'localhost'], ...forged] });
    expect(r.status, nginx?.output()).to.equal(200);
    // What a WSGI/CGI app reads as HTTP_X_SSL_CLIENT_VERIFY etc.: only nginx's own values.
    const cgi = (r.echo?.headers ?? []).filter(([k]) => /^x[-_]ssl[-_]client[-_]/i.test(k));
    expect(cgi).to.deep.equal([['X-SSL-Client-Verify', 'NONE']]);
    expect(header(r.echo?.headers, 'X_Custom_Id')).to.deep.equal([]);
    // The edge passes (and names) them: the difference is a note.
    expect(header((await httpsRequest(edge!.httpsPort, { path: '/app', headers: [['Host', 'localhost'], ['X_Custom_Id', 'u1']] })).echo?.headers, 'X_Custom_Id')).to.deep.equal(['u1']);
    expect(readFileSync(join(dir, 'nginx', 'nginx.conf'), 'utf8')).to.match(/^# {3}- headers_with_underscores: flag: nginx leaves header names with underscores out/m);
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

/** One request written as is over TLS (e.g. HTTP/1.0 without Host), read until the server closes; the answer's status code. */
async function rawTlsStatus(port: number, request: string, identity: ClientIdentity): Promise<number> {
  const { pki } = await testPki();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.rootCa.cert), cert: identity.cert, key: identity.key }, () => socket.write(request));
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
    socket.on('close', () => (clearTimeout(timer), resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0))));
  });
}

/** Every file written to `out` with its mode, and whether it holds a private key. */
function filesIn(out: string): { name: string; mode: number; key: boolean; text: string }[] {
  return readdirSync(out).map((name) => {
    const text = readFileSync(join(out, name), 'latin1');
    return { name, mode: statSync(join(out, name)).mode & 0o777, key: /PRIVATE KEY/.test(text), text };
  });
}

describe('mtls-edge export nginx: the files, what is rendered and what is noted', function () {
  this.timeout(60_000);
  let dir = '';
  let config = '';

  before(async () => {
    const { pki } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-export-nginx-files-'));
    // A `cert:` file that holds the key too (no `key:`), as many PEM bundles do.
    const combined = join(dir, 'combined.pem');
    writeFileSync(combined, readFileSync(pki.server.chain, 'latin1') + readFileSync(pki.server.key, 'latin1'));
    config = join(dir, 'edge.yaml');
    writeFileSync(config, JSON.stringify({
      bind: '::', https_port: 9443, http_port: 9080, workers: 3,
      hsts: { max_age: 31536000, include_subdomains: true },
      disable_domain_fronting: 'mtls_only', headers_with_underscores: 'drop',
      certificate_user_mappings: [{ user: 'alice', subject_cn: 'dev-client' }],
      tls: [
        { cert: combined, trust: pki.rootCa.cert, client_auth: 'required', ignore_errors: 'all', hosts: ['api.localhost'] },
        { cert: pki.server.chain, key: pki.server.key, hosts: ['www.localhost'] },
      ],
      routes: [{ upstream: 'http://127.0.0.1:3000' }],
    }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no private key in a file others can read: certificates in cert-N.pem (0644), the key alone in key-N.pem (0600)', () => {
    const r = exportNginx(config, join(dir, 'out'));
    expect(r.code, r.out).to.equal(0);
    const files = filesIn(join(dir, 'out'));
    for (const f of files) {
      if (f.key) expect(f.mode, `${f.name} holds a private key`).to.equal(0o600);
    }
    for (const i of [0, 1]) {
      const cert = files.find((f) => f.name === `cert-${i}.pem`)!;
      expect(cert.key, `cert-${i}.pem`).to.equal(false);
      expect(cert.text.match(/-----BEGIN CERTIFICATE-----/g), `cert-${i}.pem: leaf and intermediate`).to.have.length(2);
      const key = files.find((f) => f.name === `key-${i}.pem`)!;
      expect(key.text, `key-${i}.pem`).to.not.match(/CERTIFICATE/);
      expect(key.text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g), `key-${i}.pem`).to.have.length(1);
    }
  });

  it('client_auth: required with ignore_errors: all: optional_no_ca, and a client without a certificate is still refused (noted how)', () => {
    const conf = readFileSync(join(dir, 'out', 'nginx.conf'), 'utf8');
    const server0 = conf.slice(conf.indexOf('server_name api.localhost'), conf.indexOf('server_name www.localhost'));
    expect(server0).to.include('ssl_verify_client optional_no_ca;');
    expect(server0).to.include('if ($ssl_client_verify = NONE) { return 496; }');
    expect(conf).to.match(/^# {3}- client_auth: required and no client certificate: nginx completes the handshake and answers 400/m);
  });

  it('IPv6 bind: listen [::]:port', () => {
    const conf = readFileSync(join(dir, 'out', 'nginx.conf'), 'utf8');
    expect(conf).to.include('listen [::]:9443 ssl default_server;');
    expect(conf).to.include('listen [::]:9080 default_server;');
    expect(conf).to.not.include(':::');
  });

  it('hsts, disable_domain_fronting, headers_with_underscores and workers rendered; certificate_user_mappings and the rest noted', () => {
    const conf = readFileSync(join(dir, 'out', 'nginx.conf'), 'utf8');
    const inc = readFileSync(join(dir, 'out', 'proxy.inc'), 'utf8');
    // The edge's exact value (src/edge/hsts.ts), on upstream answers only.
    expect(conf).to.include('map $upstream_status $mtls_edge_hsts { "" ""; default "max-age=31536000; includeSubDomains;"; }');
    expect(conf.match(/add_header Strict-Transport-Security \$mtls_edge_hsts always;/g)).to.have.length(2);
    expect(conf).to.include('map "$ssl_server_name $host $ssl_client_verify" $mtls_edge_domain_fronting {');
    expect(inc).to.include('if ($http_host = "") { return 400 "400 Bad Request: missing required Host header"; }');
    expect(inc).to.include('if ($mtls_edge_domain_fronting) { return 421; }');
    expect(conf).to.match(/underscores_in_headers off;.*\n {2}ignore_invalid_headers on;/);
    expect(conf).to.match(/^worker_processes 3;/m);
    const notes = conf.split('\n').filter((l) => l.startsWith('#   - '));
    for (const n of ['certificate_user_mappings:', 'disable_client_auth_fronting:', 'hsts:', 'admin:', 'WebSocket upgrades:']) {
      expect(notes.some((l) => l.startsWith(`#   - ${n}`)), n).to.equal(true);
    }
  });

  it('--force removes the files an earlier export wrote that this one does not (no stale key left behind)', () => {
    const one = join(dir, 'one-tls.yaml');
    const cfg = JSON.parse(readFileSync(config, 'utf8')) as { tls: unknown[] };
    writeFileSync(one, JSON.stringify({ ...cfg, tls: cfg.tls.slice(1) }));
    const out = join(dir, 'forced');
    expect(exportNginx(config, out).code).to.equal(0);
    writeFileSync(join(out, 'mine.txt'), 'not the export\'s\n');
    const r = exportNginx(one, out, ['--force']);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/removed what the earlier export wrote and this one does not: .*key-1\.pem/);
    const names = readdirSync(out).sort();
    expect(names).to.include('key-0.pem');
    expect(names).to.not.include('key-1.pem');
    expect(names).to.not.include('cert-1.pem');
    expect(names).to.include('mine.txt');
  });
});

describe('mtls-edge export nginx: required + ignore all, hsts, domain fronting, underscores in real nginx', function () {
  this.timeout(60_000);
  const x = exportedNginxFor('rules', (pki, origin) => ({
    hsts: { max_age: 600, preload: true }, disable_domain_fronting: true, headers_with_underscores: 'drop',
    tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert, client_auth: 'required', ignore_errors: 'all' }],
    routes: [{ host: 'localhost', path: '/app', upstream: origin }],
  }));

  it('required + ignore all: no certificate refused (400, not forwarded); an untrusted one passes with FAILED, an expired one gets 400 (noted); a good one SUCCESS', async () => {
    const none = await httpsRequest(x.port, { path: '/app', headers: [['Host', 'localhost']] });
    expect(none.status, x.nginx?.output()).to.equal(400);
    expect(none.echo).to.equal(null);
    const untrusted = await httpsRequest(x.port, { identity: await clientIdentity('untrusted-ca'), path: '/app', headers: [['Host', 'localhost']] });
    expect(untrusted.status, x.nginx?.output()).to.equal(200);
    expect(received(untrusted, 'X-SSL-Client-Verify')[0]).to.match(/^FAILED:/);
    const expired = await httpsRequest(x.port, { identity: await clientIdentity('expired'), path: '/app', headers: [['Host', 'localhost']] });
    expect(expired.status).to.equal(400);
    expect(readFileSync(join(x.dir, 'nginx', 'nginx.conf'), 'utf8')).to.include('#   - tls[0] ignore_errors: all: nginx\'s optional_no_ca lets only an untrusted issuer pass');
    const valid = await httpsRequest(x.port, { identity: await clientIdentity('valid'), path: '/app', headers: [['Host', 'localhost']] });
    expect(received(valid, 'X-SSL-Client-Verify')).to.deep.equal(['SUCCESS']);
  });

  it('hsts: the edge\'s value on upstream answers; none on nginx\'s own 503', async () => {
    const identity = await clientIdentity('valid');
    const ok = await httpsRequest(x.port, { identity, path: '/app', headers: [['Host', 'localhost']] });
    expect(ok.headers['strict-transport-security']).to.equal('max-age=600; preload;');
    const noRoute = await httpsRequest(x.port, { identity, path: '/other', headers: [['Host', 'localhost']] });
    expect(noRoute.status).to.equal(503);
    expect(noRoute.headers['strict-transport-security']).to.equal(undefined);
  });

  it('disable_domain_fronting: a Host other than the SNI is 421; HTTP/1.0 without Host is 400; SNI = Host passes', async () => {
    const identity = await clientIdentity('valid');
    const fronted = await httpsRequest(x.port, { identity, servername: 'localhost', path: '/app', headers: [['Host', 'other.localhost']] });
    expect(fronted.status, x.nginx?.output()).to.equal(421);
    const upper = await httpsRequest(x.port, { identity, servername: 'localhost', path: '/app', headers: [['Host', 'LOCALHOST:' + String(x.port)]] });
    expect(upper.status).to.equal(200);
    // HTTP/1.1 requires a Host anyway; the rule makes HTTP/1.0 require one too, as the edge does.
    expect(await rawTlsStatus(x.port, 'GET /app HTTP/1.0\r\n\r\n', identity)).to.equal(400);
    expect(await rawTlsStatus(x.port, 'GET /app HTTP/1.0\r\nHost: localhost\r\n\r\n', identity)).to.equal(200);
  });

  it('headers_with_underscores: drop: a header named with underscores does not reach the app', async () => {
    const r = await httpsRequest(x.port, { identity: await clientIdentity('valid'), path: '/app', headers: [['Host', 'localhost'], ['X_SSL_Client_Verify', 'SUCCESS'], ['X-Ok', '1']] });
    expect(r.status).to.equal(200);
    expect(received(r, 'X_SSL_Client_Verify')).to.deep.equal([]);
    expect(received(r, 'X-Ok')).to.deep.equal(['1']);
  });

  it('an IPv6 bind (and disable_domain_fronting: mtls_only) exports a configuration nginx accepts (nginx -t)', async () => {
    const { pki } = await testPki();
    const config = join(x.dir, 'edge6.yaml');
    writeFileSync(config, JSON.stringify({ bind: '::', https_port: x.port, http_port: false, disable_domain_fronting: 'mtls_only', tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert }] }));
    expect(exportNginx(config, join(x.dir, 'nginx6')).code).to.equal(0);
    const t = spawnSync(findNginx()!, ['-t', '-c', join(x.dir, 'nginx6', 'nginx.conf'), '-e', 'stderr'], { encoding: 'utf8', timeout: 10_000 });
    expect(t.status, t.stderr).to.equal(0);
  });
});

describe('mtls-edge export nginx: headers_with_underscores: allow in real nginx', function () {
  this.timeout(60_000);
  const x = exportedNginxFor('allow', (pki, origin) => ({
    headers_with_underscores: 'allow',
    tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert }],
    routes: [{ upstream: origin }],
  }));

  it('other underscore headers pass; no spelling of a certificate header with an underscore does (all 44 sent), with or without a certificate', async () => {
    const spellings = ['X-SSL-Client-Cert', 'X-SSL-Client-Verify', 'X-SSL-Client-S-DN', 'X-SSL-Client-I-DN'].flatMap((h) => {
      const parts = h.split('-');
      return Array.from({ length: 2 ** (parts.length - 1) - 1 }, (_, m) => parts.reduce((a, p, k) => `${a}${((m + 1) >> (k - 1)) & 1 ? '_' : '-'}${p}`));
    });
    expect(spellings).to.have.length(44);
    for (const identity of [undefined, await clientIdentity('valid')]) {
      const r = await httpsRequest(x.port, { ...(identity ? { identity } : {}), path: '/', headers: [['Host', 'localhost'], ['X_Custom_Id', 'u1'], ...spellings.map((h): [string, string] => [h, 'forged'])] });
      expect(r.status, x.nginx?.output()).to.equal(200);
      expect(received(r, 'X_Custom_Id')).to.deep.equal(['u1']);
      const cgi = (r.echo?.headers ?? []).filter(([k]) => /^x[-_]ssl[-_]client[-_]/i.test(k));
      expect(cgi.map(([k]) => k).filter((k) => k.includes('_')), identity ? 'with a certificate' : 'without').to.deep.equal([]);
      expect(cgi.some(([, v]) => v === 'forged')).to.equal(false);
      expect(received(r, 'X-SSL-Client-Verify')).to.deep.equal([identity ? 'SUCCESS' : 'NONE']);
    }
    expect(readFileSync(join(x.dir, 'nginx', 'nginx.conf'), 'utf8')).to.match(/^# {3}- headers_with_underscores: allow: nginx passes header names with underscores, but not the underscore spellings/m);
  });
});
