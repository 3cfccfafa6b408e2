// The PKI commands and a first start with no `openssl` on PATH (as on Windows, or macOS with
// LibreSSL): the child's PATH holds only a directory with `node` in it. The outputs are then checked
// with the real openssl (chains, CRL revocation, the p12 without -legacy), keytool and curl.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPECTED_OPENSSL_FIRST_ERROR, FAILURE_KINDS, failurePaths } from '../../src/pki/failures.js';
import { opensslVerify, run, tempDir, type Run } from './helpers.js';

const BIN = resolve(fileURLToPath(new URL('../../../bin/mtls-edge.js', import.meta.url)));
const onWindows = process.platform === 'win32';
const hasTool = (tool: string): boolean => spawnSync(tool, ['-help'], { stdio: 'ignore' }).error === undefined;

describe('pki without an openssl binary on PATH', function () {
  this.timeout(120_000);
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  /** PATH for the children: a directory holding only `node`. */
  let bareEnv: NodeJS.ProcessEnv = {};
  const certs = (): string => join(dir, 'certs');
  const cli = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, 'certs', ...args], { cwd: dir, env: bareEnv as Record<string, string> });

  before(async () => {
    ({ dir, cleanup } = await tempDir('no-openssl'));
    const nodeDir = join(dir, 'node-only');
    await mkdir(nodeDir);
    const nodeName = onWindows ? 'node.exe' : 'node';
    // A symlink needs a privilege on Windows; a copy of the executable works everywhere.
    await symlink(process.execPath, join(nodeDir, nodeName)).catch(() => copyFile(process.execPath, join(nodeDir, nodeName)));
    // `run` merges its env over process.env, so PATH is replaced, not added to (Path: its Windows spelling).
    bareEnv = { PATH: nodeDir, Path: nodeDir };
    const probe = spawnSync('openssl', ['version'], { env: { ...process.env, ...bareEnv } });
    expect(probe.error, 'openssl must not be reachable with the bare PATH').to.have.property('code', 'ENOENT');
  });
  after(async () => cleanup());

  it('certs init --with-failures --hostile writes the whole PKI, keys 0600', async () => {
    const r = await cli('init', '--with-failures', '--hostile');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    for (const f of ['ca/root-ca.crt', 'ca/intermediate-ca.crt', 'server-chain.crt', 'client-chain.crt', 'crl/all.crl', 'failures/revoked.crt', 'hostile/chain-50-chain.crt']) {
      expect(existsSync(join(certs(), f)), f).to.equal(true);
    }
    if (!onWindows) {
      for (const key of ['ca/root-ca.key', 'client.key', 'failures/expired.key', 'hostile/rsa1024-key.key']) {
        expect((await stat(join(certs(), key))).mode & 0o777, key).to.equal(0o600);
      }
    }
  });

  it('the chains verify with the real openssl, and each failure kind fails as documented', async function () {
    if (!hasTool('openssl')) this.skip();
    const root = join(certs(), 'ca', 'root-ca.crt');
    expect(await opensslVerify({ trust: root, untrusted: join(certs(), 'client-chain.crt'), leaf: join(certs(), 'client.crt'), crl: join(certs(), 'crl', 'all.crl') })).to.deep.equal([]);
    expect(await opensslVerify({ trust: root, untrusted: join(certs(), 'server-chain.crt'), leaf: join(certs(), 'server.crt'), purpose: false })).to.deep.equal([]);
    for (const kind of FAILURE_KINDS) {
      const p = failurePaths(certs(), kind);
      const codes = await opensslVerify({ trust: root, untrusted: p.chain, leaf: p.cert, crl: kind === 'revoked' ? join(certs(), 'crl', 'all.crl') : undefined });
      expect(codes[0] ?? 0, kind).to.equal(EXPECTED_OPENSSL_FIRST_ERROR[kind]);
    }
  });

  it('certs issue makes client and server certificates the real openssl verifies', async function () {
    const c = await cli('issue', 'client', '--cn', 'extra-client', '--key', 'ec-p384');
    expect(c.code, c.stderr).to.equal(0);
    const s = await cli('issue', 'server', '--cn', 'api.localhost', '--key', 'rsa2048', '--days', '30');
    expect(s.code, s.stderr).to.equal(0);
    const issued = join(certs(), 'issued');
    expect(new X509Certificate(await readFile(join(issued, 'api.localhost.crt'))).subjectAltName).to.equal('DNS:api.localhost');
    if (!hasTool('openssl')) this.skip();
    const root = join(certs(), 'ca', 'root-ca.crt');
    expect(await opensslVerify({ trust: root, untrusted: join(issued, 'extra-client-chain.crt'), leaf: join(issued, 'extra-client.crt') })).to.deep.equal([]);
    expect(await opensslVerify({ trust: root, untrusted: join(issued, 'api.localhost-chain.crt'), leaf: join(issued, 'api.localhost.crt'), purpose: false })).to.deep.equal([]);
  });

  it('certs export --p12 writes into the PKI folder, refuses to overwrite, and --force replaces', async () => {
    const p12 = join(certs(), 'client.p12');
    const first = await cli('export', 'client', '--p12', '--password', 'pw-123');
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.include(p12);
    expect(existsSync(join(dir, 'client.p12')), 'nothing in the working directory').to.equal(false);
    if (!onWindows) expect((await stat(p12)).mode & 0o777).to.equal(0o600);
    const before = await readFile(p12);
    const again = await cli('export', 'client', '--p12', '--password', 'pw-123');
    expect(again.code).to.equal(2);
    expect(again.stderr.trim().split('\n')).to.have.length(1);
    expect(again.stderr).to.include(p12).and.to.include('--force');
    expect((await readFile(p12)).equals(before), 'the existing file is untouched').to.equal(true);
    const forced = await cli('export', 'client', '--p12', '--password', 'pw-123', '--force');
    expect(forced.code, forced.stderr).to.equal(0);
    expect((await readFile(p12)).equals(before), 'replaced').to.equal(false);
  });

  it('the p12 loads in OpenSSL 3 without -legacy: PBES2/AES-256, SHA-256 MAC, key + chain', async function () {
    if (!hasTool('openssl')) this.skip();
    const p12 = join(certs(), 'client.p12');
    const info = await run('openssl', ['pkcs12', '-info', '-in', p12, '-passin', 'pass:pw-123', '-noout']);
    expect(info.code, info.stderr).to.equal(0);
    expect(info.stdout + info.stderr).to.match(/MAC: sha256/).and.to.match(/PBES2, PBKDF2, AES-256-CBC/).and.not.to.match(/RC2|3DES/);
    const pem = await run('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:pw-123', '-nodes']);
    expect(pem.code, pem.stderr).to.equal(0);
    expect(pem.stdout.match(/BEGIN CERTIFICATE/g)).to.have.length(2);
    expect(pem.stdout).to.include('BEGIN PRIVATE KEY').and.to.include('friendlyName: client');
  });

  it('the p12 loads in Java keytool as a PrivateKeyEntry with its chain', async function () {
    if (!hasTool('keytool')) {
      console.log('      (skipped: keytool not found on PATH)');
      this.skip();
    }
    const r = await run('keytool', ['-list', '-v', '-storetype', 'PKCS12', '-keystore', join(certs(), 'client.p12'), '-storepass', 'pw-123']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Alias name: client/).and.to.match(/PrivateKeyEntry/).and.to.match(/Certificate chain length: 2/);
  });

  it('certs import reads the p12 back; inspect reads it and gives the edge verdicts', async () => {
    const imp = await cli('import', join(certs(), 'client.p12'), '--password', 'pw-123', '--out', join(dir, 'imported'));
    expect(imp.code, imp.stderr).to.equal(0);
    expect(await readFile(join(dir, 'imported', 'client.crt'), 'utf8')).to.equal(await readFile(join(certs(), 'client.crt'), 'utf8'));
    const wrong = await cli('inspect', join(certs(), 'client.p12'), '--password', 'nope');
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.match(/wrong password/);
    const verdict = async (file: string, ...extra: string[]): Promise<number> => {
      const r = await cli('inspect', file, '--against', join(certs(), 'ca', 'root-ca.crt'), ...extra, '--json');
      expect(r.code, r.stderr).to.equal(0);
      return (JSON.parse(r.stdout) as { verdict: { code: number } }).verdict.code;
    };
    const allCrl = join(certs(), 'crl', 'all.crl');
    expect(await verdict(join(certs(), 'client.p12'), '--password', 'pw-123', '--crl', allCrl)).to.equal(0);
    expect(await verdict(failurePaths(certs(), 'revoked').chain, '--crl', allCrl)).to.equal(23);
    expect(await verdict(failurePaths(certs(), 'expired').chain)).to.equal(10);
    expect(await verdict(failurePaths(certs(), 'missing-intermediate').chain)).to.equal(21);
  });

  it('the first start makes a dev PKI and serves mTLS; curl presents the exported p12', async function () {
    const pkiDir = join(dir, 'first-start');
    const child = spawn(process.execPath, [BIN, 'start', '--pki-dir', pkiDir, '--bind', '127.0.0.1', '--https-port', '0', '--http-port', '-1', '--no-admin'],
      { cwd: dir, env: { ...process.env, ...bareEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    try {
      const port = await new Promise<number>((resolvePort, reject) => {
        const timer = setTimeout(() => reject(new Error(`edge did not get ready:\n${lines.join('\n')}`)), 20_000);
        const onData = (chunk: Buffer): void => {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          const m = /"https":"https:\/\/localhost:(\d+)"/.exec(lines.join('\n'));
          if (m) {
            clearTimeout(timer);
            resolvePort(Number(m[1]));
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`edge exited with ${code}:\n${lines.join('\n')}`));
        });
      });
      expect(existsSync(join(pkiDir, 'ca', 'root-ca.crt'))).to.equal(true);
      const exp = await run(process.execPath, [BIN, 'certs', 'export', 'client', '--p12', '--password', 'pw', '--dir', pkiDir], { cwd: dir, env: bareEnv as Record<string, string> });
      expect(exp.code, exp.stderr).to.equal(0);
      if (!hasTool('curl')) this.skip();
      const r = await run('curl', ['-sS', '--max-time', '10', '--cacert', join(pkiDir, 'ca', 'root-ca.crt'), '--cert', `${join(pkiDir, 'client.p12')}:pw`, '--cert-type', 'P12',
        '-o', join(dir, 'curl-body'), '-w', '%{http_code}', `https://localhost:${port}/`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('200');
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
  });
});
