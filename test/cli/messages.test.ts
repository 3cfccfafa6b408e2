// What `mtls-edge start` says, as a user reads it (issue 21 item 9): each message names the flag or
// file, the value and the fix, once, and nothing reads as ready before the edge is.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const run = promisify(execFile);
const cliPath = join(process.cwd(), 'bin/mtls-edge.js');

/** Runs `mtls-edge start …` to its end (a start that fails), in `cwd`. */
const failingStart = (args: string[], cwd: string) =>
  run(process.execPath, [cliPath, 'start', ...args], { cwd, timeout: 20_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

const msgs = (p: EdgeProcess): string[] => p.lines.filter((l) => l.startsWith('{')).map((l) => String((JSON.parse(l) as { msg: unknown }).msg));

describe('CLI: messages of mtls-edge start', function () {
  this.timeout(60_000);
  let dir = '';
  let pkiDir = '';
  const loopback = ['--bind', '127.0.0.1', '--https-port', '0', '--http-port', '-1'];

  before(async () => {
    pkiDir = (await testPki()).dir;
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-messages-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a refused certificate: the log line names its verify code once', async () => {
    const edge = await startCli(['--pki-dir', pkiDir, ...loopback, '--no-admin', '--log-format', 'json'], dir);
    try {
      await httpsRequest(edge.httpsPort, { identity: await clientIdentity('expired') }).catch(() => null);
      const line = await waitForLine(edge, /TLS handshake rejected/);
      const msg = String((JSON.parse(line) as { msg: string }).msg);
      expect(msg.split('X509_V_ERR_CERT_HAS_EXPIRED'), msg).to.have.length(2);
      expect(msg).to.match(/: X509_V_ERR_CERT_HAS_EXPIRED \(10\): certificate has expired$/);
    } finally {
      await stopCli(edge);
    }
  });

  it('a missing --trust file: names the flag, the path and the fix', async () => {
    const r = await failingStart(['--pki-dir', pkiDir, ...loopback, '--no-admin', '--trust', 'nope.pem'], dir);
    expect(r.code).to.equal(2);
    expect(r.out).to.include(`--trust: ${join(dir, 'nope.pem')} does not exist: fix the path`);
    expect(r.out).to.not.include('dev PKI.trust');
  });

  it('a bad value given by a flag names the flag, also over a file with the same setting', async () => {
    const r = await failingStart(['--pki-dir', pkiDir, ...loopback, '--no-admin', '--upstream', 'http://user:secret@127.0.0.1:1'], dir);
    expect(r.code).to.equal(2);
    expect(r.out).to.include('--upstream: credentials (user:password@) in an upstream URL are never sent');
    expect(r.out).to.not.include('routes[0]').and.not.include('secret');
    writeFileSync(join(dir, 'routes.yaml'), `pki_dir: ${pkiDir}\nroutes:\n  - host: "*"\n    upstream: echo\n`);
    const overFile = await failingStart(['--config', 'routes.yaml', ...loopback, '--no-admin', '--upstream', 'http://user:secret@127.0.0.1:1'], dir);
    expect(overFile.code).to.equal(2);
    expect(overFile.out).to.include('--upstream: credentials').and.not.include('routes[0]');
    const port = await failingStart(['--pki-dir', pkiDir, '--bind', '127.0.0.1', '--https-port', '99999', '--no-admin'], dir);
    expect(port.out).to.include('--https-port: Too big');
  });

  it('the admin port taken: names it, --admin-port, admin.port and the fix, and nothing else ran', async () => {
    const held = await holdPort();
    try {
      const r = await failingStart(['--pki-dir', pkiDir, ...loopback, '--admin-port', String(held.port)], dir);
      expect(r.code).to.equal(1);
      expect(r.out).to.include(`127.0.0.1:${held.port}`);
      expect(r.out).to.include('EADDRINUSE');
      expect(r.out).to.include('--admin-port (admin.port in the configuration)');
      expect(r.out).to.not.include('admin port option');
      expect(r.out).to.not.match(/ready|flow page/);
    } finally {
      held.server.close();
    }
  });

  it('the HTTPS port taken: no flow page or ready line first; the failure names the port, --https-port and the fix', async () => {
    const held = await holdPort();
    try {
      const r = await failingStart(['--pki-dir', pkiDir, '--bind', '127.0.0.1', '--https-port', String(held.port), '--http-port', '-1', '--admin-port', '0', '--log-format', 'json'], dir);
      expect(r.code).to.equal(1);
      const lines = r.out.split('\n').filter(Boolean);
      expect(lines, r.out).to.have.length(1);
      const error = JSON.parse(lines[0]!) as { level: string; msg: string };
      expect(error.level).to.equal('error');
      expect(error.msg).to.include(`port ${held.port} on 127.0.0.1`).and.include('EADDRINUSE').and.include('--https-port (https_port in the configuration)');
    } finally {
      held.server.close();
    }
  });

  it('the first start in a folder says it generated the dev PKI there, the next one does not', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'mtls-edge-firststart-'));
    try {
      for (const expected of [1, 0]) {
        const edge = await startCli([...loopback, '--no-admin', '--log-format', 'json'], fresh);
        try {
          await waitForLine(edge, /try it: curl/);
          expect(msgs(edge).filter((m) => m.startsWith('dev PKI generated in certs ')), edge.lines.join('\n')).to.have.length(expected);
        } finally {
          await stopCli(edge);
        }
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  describe('a running edge with the dev PKI, JSON log', () => {
    let edge: EdgeProcess | null = null;
    let admin = '';
    before(async () => {
      // A config file in the working directory, as the README's: paths in hints stay relative.
      writeFileSync(join(dir, 'edge.yaml'), `pki_dir: ${pkiDir}\n`);
      edge = await startCli(['--config', 'edge.yaml', ...loopback, '--admin-port', '0', '--log-format', 'json', '--access-log', 'cpi'], dir);
      admin = /http:\/\/\S+?\//.exec(await waitForLine(edge, /flow page: http/))![0];
    });
    after(async () => {
      if (edge) await stopCli(edge);
    });

    it('prints the flow page only after the ready banner', () => {
      const order = msgs(edge!);
      expect(order.findIndex((m) => m.startsWith('flow page:'))).to.be.greaterThan(order.indexOf('mtls-edge ready'));
    });

    it('the flow page offers, while empty, the command the start printed (our file names)', async () => {
      const printed = msgs(edge!).find((m) => m.startsWith('try it: '))!.slice('try it: '.length);
      const status = (await (await fetch(`${admin}status`)).json()) as { tryIt: string | null };
      expect(status.tryIt).to.equal(printed);
      expect(printed).to.include('--cert').and.include('client-chain.crt').and.include('--cacert');
      const page = readFileSync(join(process.cwd(), 'src/observe/page/flow.js'), 'utf8');
      expect(page).to.not.include('client.pem');
      expect(page).to.include('state.status.tryIt');
    });

    it('writes every line as JSON, the access-log lines too', async () => {
      const reply = await httpsRequest(edge!.httpsPort, { identity: await clientIdentity('valid') });
      expect(reply.status).to.equal(200);
      await waitForLine(edge!, /"event":"access"/);
      for (const line of edge!.lines) expect(() => JSON.parse(line), line).to.not.throw();
      const access = edge!.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((j) => j.event === 'access')!;
      expect(access).to.include({ level: 'info', format: 'cpi', status: 200 });
      expect(String(access.msg)).to.match(/^127\.0\.0\.1 - dev-client@mtls-edge Dev Intermediate CA \[.+\] "GET \/ HTTP\/1\.1" 200$/);
    });
  });
});
