// Hot reload through the real CLI process: SIGHUP and file changes swap the configuration while a
// stream of mTLS requests keeps going, and a broken file keeps the running configuration; a valid
// file that changes settings read only at start is applied but for those, which a warning names.
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';
import { freePort } from '../support/processes.js';

describe('hot reload (CLI process)', function () {
  this.timeout(60_000);
  let dir: string;
  let edge: EdgeProcess | null = null;

  before(async () => {
    const { pki } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reload-'));
    copyFileSync(pki.server.chain, join(dir, 'server.pem'));
    copyFileSync(pki.server.key, join(dir, 'server.key'));
    copyFileSync(pki.rootCa.cert, join(dir, 'trust.pem'));
    writeFileSync(
      join(dir, 'edge.yaml'),
      ['https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'admin: false', 'log: { format: json, access: "off" }', 'tls:', '  - cert: server.pem', '    key: server.key', '    trust: trust.pem', ''].join('\n'),
    );
    edge = await startCli(['--config', join(dir, 'edge.yaml')], dir);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every request of a running stream through SIGHUP reloads and file changes', async () => {
    const identity = await clientIdentity('valid');
    const p = edge!;
    let ok = 0;
    const failures: string[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming && i < 2000; i++) {
        try {
          const r = await httpsRequest(p.httpsPort, { identity });
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      p.child.kill('SIGHUP');
      await waitForLine(p, new RegExp(`configuration reloaded \\(SIGHUP\\)`));
      p.lines.length = 0;
    }
    // Rewrite the trust list in place (same content): the file watcher reloads.
    writeFileSync(join(dir, 'trust.pem'), readFileSync(join(dir, 'trust.pem')));
    await waitForLine(p, /configuration reloaded \(changed: .*trust\.pem/);
    await new Promise((r) => setTimeout(r, 150));
    streaming = false;
    await stream;
    expect(failures).to.deep.equal([]);
    expect(ok).to.be.greaterThan(5);
  });

  it('keeps the running configuration when a new file is broken, and says why', async () => {
    const p = edge!;
    p.lines.length = 0;
    writeFileSync(join(dir, 'trust.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
    const line = await waitForLine(p, /reload .* failed, keeping the running configuration/);
    expect(line).to.include('trust.pem');
    expect(line).to.match(/garbled or truncated/);
    const r = await httpsRequest(p.httpsPort, { identity: await clientIdentity('valid') });
    expect(r.status).to.equal(200);
  });
});

describe('hot reload of the settings read only at start (CLI process)', function () {
  this.timeout(60_000);
  let dir: string;
  let pkiDir: string;
  let edge: EdgeProcess | null = null;
  let adminPort = 0;
  const file = (): string => join(dir, 'edge.yaml');
  const write = (extra: string[]): void =>
    writeFileSync(file(), [`pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'log: { format: json, access: "off" }', ...extra, ''].join('\n'));
  const healthz = async (port: number): Promise<number | string> => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })).status;
    } catch (e) {
      return ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (e as Error).message;
    }
  };
  const echoedHeaders = async (p: EdgeProcess): Promise<string[]> => {
    const r = await httpsRequest(p.httpsPort, { identity: await clientIdentity('valid') });
    expect(r.status).to.equal(200);
    return (JSON.parse(r.body) as { headers: [string, string][] }).headers.map(([k]) => k.toLowerCase());
  };

  before(async () => {
    ({ dir: pkiDir } = await testPki());
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reload-admin-'));
    write(['admin: { host: 127.0.0.1, port: 0 }']);
    // Without a token in the environment: an admin listener off loopback is then a configuration error.
    const env = { ...process.env };
    delete env.MTLS_EDGE_ADMIN_TOKEN;
    edge = await startCli(['--config', file()], dir, [], { env });
    adminPort = Number(/"admin":"127\.0\.0\.1:(\d+)"/.exec(await waitForLine(edge, /flow page: http/))![1]);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a new file whose admin listener is off loopback without a token, naming the field and the fix, and keeps running as it was', async () => {
    const p = edge!;
    p.lines.length = 0;
    write(['admin: { host: 0.0.0.0, port: 0 }', 'gorouter: { enabled: true }']);
    const line = await waitForLine(p, /reload .* failed, keeping the running configuration/);
    expect(line).to.match(/edge\.yaml: admin\.host: 0\.0\.0\.0 is not loopback, and no admin token is set: set MTLS_EDGE_ADMIN_TOKEN .* or bind admin\.host to 127\.0\.0\.1/);
    expect(p.lines.join('\n')).to.not.include('configuration reloaded');
    expect(await healthz(adminPort)).to.equal(200);
    // Nothing of the refused file was applied.
    expect(await echoedHeaders(p)).to.not.include('x-vcap-request-id');
  });

  it('applies the rest of a valid new file, keeps the running admin listener, and one warning names the settings that need a restart', async () => {
    const p = edge!;
    const otherPort = await freePort();
    p.lines.length = 0;
    write([`admin: { host: 127.0.0.1, port: ${otherPort}, allowed_hosts: [edge.example] }`, 'timeouts: { client: 40 }', 'gorouter: { enabled: true }']);
    await waitForLine(p, /configuration reloaded \(changed: .*edge\.yaml/);
    const warn = JSON.parse(await waitForLine(p, /take effect only at a restart/)) as { level: string; msg: string; restartOnly: string[] };
    expect(warn.level).to.equal('warn');
    expect(warn.restartOnly).to.deep.equal(['timeouts.client', 'admin.port', 'admin.allowed_hosts']);
    expect(warn.msg).to.match(/^reload \(changed: \S*edge\.yaml\): timeouts\.client, admin\.port, admin\.allowed_hosts changed, and take effect only at a restart/);
    expect(p.lines.filter((l) => l.includes('take effect only at a restart'))).to.have.length(1);
    // The reloadable setting took effect; the admin listener is the one the edge started with.
    expect(await echoedHeaders(p)).to.include('x-vcap-request-id');
    expect(await healthz(adminPort)).to.equal(200);
    expect(await healthz(otherPort)).to.equal('ECONNREFUSED');
  });
});

describe('hot reload of a route to the built-in echo (CLI process)', function () {
  this.timeout(60_000);
  let dir: string;
  let pkiDir: string;
  let edge: EdgeProcess | null = null;
  let app: Server | null = null;
  const file = (): string => join(dir, 'edge.yaml');
  const write = (upstream: string): void =>
    writeFileSync(file(), [`pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'admin: false', 'log: { format: json, access: "off" }', 'routes:', `  - upstream: ${upstream}`, ''].join('\n'));

  before(async () => {
    ({ dir: pkiDir } = await testPki());
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reload-echo-'));
    app = createServer((_req, res) => res.end('from the app'));
    await new Promise<void>((r) => app!.listen(0, '127.0.0.1', r));
    write(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
    // No route uses the built-in echo: the edge starts without it.
    edge = await startCli(['--config', file()], dir);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a new file that routes to the echo the edge did not start, naming the route, and keeps routing to the app', async () => {
    const p = edge!;
    p.lines.length = 0;
    write('echo');
    const line = await waitForLine(p, /reload .* failed, keeping the running configuration/);
    expect(line).to.match(/routes\[0\]\.upstream: the built-in echo upstream was not started.*restart the edge/);
    expect(p.lines.join('\n')).to.not.include('configuration reloaded');
    const r = await httpsRequest(p.httpsPort, { identity: await clientIdentity('valid') });
    expect([r.status, r.body]).to.deep.equal([200, 'from the app']);
  });
});
