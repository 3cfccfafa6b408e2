// Configuration errors through the real CLI (`node bin/mtls-edge.js start --config FILE`): exit code
// 2 and one line per problem naming the file and the field. And SIGTERM drains an in-flight request
// and exits 0.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/configError.js';
import { clientIdentity, testPki } from '../support/edgeHarness.js';

const CLI = resolve('bin/mtls-edge.js');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

describe('edge: configuration errors via the CLI, and SIGTERM drain', function () {
  this.timeout(60_000);
  let tmp: string;
  let pki: Awaited<ReturnType<typeof testPki>>['pki'];

  before(async () => {
    pki = (await testPki()).pki;
    tmp = mkdtempSync(join(tmpdir(), 'mtls-edge-cfgtest-'));
    // The dev server certificate as DER, for the "DER instead of PEM" case.
    execFileSync('openssl', ['x509', '-in', pki.server.cert, '-outform', 'DER', '-out', join(tmp, 'server.der')], { timeout: 10_000 });
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const base = (): string => `https_port: 0\nhttp_port: 0\nbind: 127.0.0.1\nadmin: false\n`;
  const tlsBlock = (cert: string, key: string): string => `tls:\n  - cert: ${cert}\n    key: ${key}\n    trust: [${pki.rootCa.cert}]\n`;

  interface Case {
    readonly name: string;
    readonly yaml: () => string;
    /** Each expected problem line must contain all of these strings. */
    readonly lines: readonly (readonly string[])[];
  }
  const CASES: readonly Case[] = [
    { name: 'unknown key', yaml: () => `${base()}bogus_key: 1\n`, lines: [['bogus_key', 'unknown key']] },
    { name: 'wrong type', yaml: () => `${base().replace('https_port: 0', 'https_port: "eighty"')}`, lines: [['https_port']] },
    { name: 'bad mode name', yaml: () => `${base()}forwarded_client_cert: sanitise_set\n`, lines: [['forwarded_client_cert', 'sanitize_set']] },
    { name: 'nested wrong type', yaml: () => `${base()}timeouts: { server: fast }\n`, lines: [['timeouts.server']] },
    { name: 'request timeout below the header timeout', yaml: () => `${base()}timeouts: { request_headers: 5, request: 2 }\n`, lines: [['timeouts.request', 'at least timeouts.request_headers']] },
    { name: 'listener cap above max_connections', yaml: () => `${base()}max_connections: 100\nlistener_max_connections: { https: 200 }\n`, lines: [['listener_max_connections.https', 'above max_connections (100)']] },
    { name: 'credentials in an upstream URL', yaml: () => `${base()}routes:\n  - upstream: http://user:secret@127.0.0.1:3000\n`, lines: [['routes[0].upstream', 'credentials']] },
    { name: 'max_connections not a positive integer', yaml: () => `${base()}max_connections: 0\n`, lines: [['max_connections']] },
    { name: 'missing certificate file', yaml: () => `${base()}${tlsBlock(join(tmp, 'nope.crt'), pki.server.key)}`, lines: [['tls[0].cert', 'nope.crt', 'does not exist']] },
    { name: 'key not matching its certificate', yaml: () => `${base()}${tlsBlock(pki.server.chain, pki.client.key)}`, lines: [['tls[0].key', 'does not match']] },
    { name: 'DER instead of PEM', yaml: () => `${base()}${tlsBlock(join(tmp, 'server.der'), pki.server.key)}`, lines: [['tls[0].cert', 'server.der', 'DER']] },
    {
      name: 'several problems at once: one line each',
      yaml: () => `${base()}bogus: 1\nforwarded_client_cert: nope\nmax_header_size: big\n`,
      lines: [['bogus'], ['forwarded_client_cert'], ['max_header_size']],
    },
  ];

  for (const c of CASES) {
    it(`${c.name} → exit 2, one line per problem naming the file and field`, async () => {
      const file = join(tmp, `${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.yaml());
      const r = await runCli(['start', '--config', file], tmp);
      expect(r.code, r.stderr).to.equal(2);
      const problemLines = r.stderr.split('\n').filter((l) => l.startsWith('  '));
      expect(problemLines, r.stderr).to.have.length(c.lines.length);
      for (const want of c.lines) {
        const line = problemLines.find((l) => want.every((w) => l.includes(w)));
        expect(line, `a line with ${want.join(' + ')} in:\n${r.stderr}`).to.not.equal(undefined);
        expect(line).to.include(file);
      }
    });
  }

  it('unreadable configuration file → exit 2 naming the file', async () => {
    const missing = join(tmp, 'does-not-exist.yaml');
    const r = await runCli(['start', '--config', missing], tmp);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include(missing);
    if (process.getuid?.() !== 0) {
      const locked = join(tmp, 'locked.yaml');
      writeFileSync(locked, base());
      chmodSync(locked, 0o000);
      const r2 = await runCli(['start', '--config', locked], tmp);
      expect(r2.code).to.equal(2);
      expect(r2.stderr).to.include(locked).and.include('EACCES');
    }
  });

  it('invalid YAML → exit 2 with the file and line', async () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, 'https_port: 0\ntls: [\n  - oops: : :\n');
    const r = await runCli(['start', '--config', file], tmp);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`));
  });

  it('loadConfig reports the same problems (library API)', async () => {
    const file = join(tmp, 'lib.yaml');
    writeFileSync(file, `${base()}forwarded_client_cert: Bogus\nbogus_key: 2\n`);
    try {
      await loadConfig({ file });
      expect.fail('expected a ConfigError');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      const problems = (e as ConfigError).problems;
      expect(problems.map((p) => p.where)).to.include.members([`${file}: forwarded_client_cert`, file]);
    }
  });

  it('loadConfig refuses an admin listener off loopback without a token, with the other problems; a token in the environment it reads suffices', async () => {
    const file = join(tmp, 'admin.yaml');
    writeFileSync(file, `${base().replace('admin: false', 'admin: { host: 0.0.0.0, port: 0 }')}${tlsBlock(join(tmp, 'nope.crt'), pki.server.key)}`);
    const problems = await loadConfig({ file, env: {} }).then(
      () => [],
      (e: unknown) => (e instanceof ConfigError ? e.problems : [{ where: 'not a ConfigError', message: String(e) }]),
    );
    expect(problems.map((p) => p.where)).to.deep.equal([`${file}: admin.host`, `${file}: tls[0].cert`]);
    expect(problems[0]!.message).to.match(/^0\.0\.0\.0 is not loopback, and no admin token is set: set MTLS_EDGE_ADMIN_TOKEN/);
    writeFileSync(file, `${base().replace('admin: false', 'admin: { host: 0.0.0.0, port: 0 }')}${tlsBlock(pki.server.chain, pki.server.key)}`);
    const loaded = await loadConfig({ file, env: { MTLS_EDGE_ADMIN_TOKEN: 'a-token-of-24-characters' } });
    expect(loaded.config.admin).to.deep.include({ host: '0.0.0.0' });
  });

  it('SIGTERM drains an in-flight slow request, then exits 0', async () => {
    // A slow upstream: answers 1.5 s after the request arrives.
    let arrived: () => void = () => undefined;
    const gotRequest = new Promise<void>((r) => (arrived = r));
    const slow = http.createServer((_req, res) => {
      arrived();
      setTimeout(() => res.end('drained-ok'), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const file = join(tmp, 'drain.yaml');
    writeFileSync(file, `${base()}${tlsBlock(pki.server.chain, pki.server.key)}log: { format: json, access: off }\nroutes:\n  - upstream: http://127.0.0.1:${(slow.address() as AddressInfo).port}\n`);
    let child: ChildProcess | null = null;
    try {
      child = spawn(process.execPath, [CLI, 'start', '--config', file], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      const deadline = Date.now() + 15_000;
      let port = 0;
      while (!port) {
        const m = /https:\/\/localhost:(\d+)/.exec(output);
        if (m) port = Number(m[1]);
        else if (Date.now() > deadline || child.exitCode !== null) throw new Error(`edge did not start:\n${output}`);
        else await new Promise((r) => setTimeout(r, 50));
      }
      const id = await clientIdentity('valid');
      const response = new Promise<{ status: number; body: string }>((resolveRes, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port, servername: 'localhost', path: '/slow', ca: readFileSync(pki.rootCa.cert), cert: id.cert, key: id.key, agent: false, timeout: 15_000 },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolveRes({ status: res.statusCode ?? 0, body }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end();
      });
      await Promise.race([gotRequest, new Promise((_, rej) => setTimeout(() => rej(new Error('upstream never got the request')), 10_000))]);
      child.kill('SIGTERM');
      const r = await response;
      expect(r).to.deep.equal({ status: 200, body: 'drained-ok' });
      const code = await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res('still running after 15 s'), 15_000))]);
      expect(code, output).to.equal(0);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await new Promise<void>((r) => {
        slow.close(() => r());
        slow.closeAllConnections();
      });
    }
  });
});
