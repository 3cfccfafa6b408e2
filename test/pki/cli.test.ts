// The real CLI (`node bin/mtls-edge.js certs …`): conversions, inspect verdicts, and bad input.
import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile, readdir, mkdir, copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { EXPECTED_VERIFY, FAILURE_KINDS, failurePaths } from '../../src/pki/failures.js';
import { run, tempDir, type Run } from './helpers.js';

const BIN = resolve(fileURLToPath(new URL('../../../bin/mtls-edge.js', import.meta.url)));

describe('cli: mtls-edge certs', function () {
  this.timeout(60_000);
  let dir = '';
  let certs = '';
  let cleanup: () => Promise<void> = async () => {};
  let pki: DevPki;
  const cli = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, 'certs', ...args], { cwd: dir });

  before(async function () {
    ({ dir, cleanup } = await tempDir('cli'));
    certs = join(dir, 'certs');
    const r = await cli('init', '--with-failures');
    expect(r.code, r.stderr).to.equal(0);
    ({ pki } = await ensureDevPki(certs, { withFailures: true }));
  });
  after(async () => cleanup());

  it('init is idempotent and says so', async () => {
    const r = await cli('init');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/kept as is/);
  });

  it('export --p12 is readable by openssl with AES-256/SHA-256 and holds key + chain', async () => {
    const p12 = join(dir, 'client.p12');
    const r = await cli('export', 'client', '--p12', '--password', 'pw-123', '--out', p12);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).to.not.include('pw-123');
    expect((await stat(p12)).mode & 0o777).to.equal(0o600);
    const info = await run('openssl', ['pkcs12', '-info', '-nokeys', '-in', p12, '-passin', 'pass:pw-123']);
    expect(info.code, info.stderr).to.equal(0);
    const all = info.stdout + info.stderr;
    expect(all).to.match(/MAC: sha256/);
    expect(all).to.match(/PBES2, PBKDF2, AES-256-CBC/);
    expect(all).to.include('CN = dev-client');
    expect(all).to.include('CN = mtls-edge Dev Intermediate CA');
  });

  it('export --p12 loads in Java keytool', async function () {
    const which = await run('sh', ['-c', 'command -v keytool || true']);
    if (!which.stdout.trim()) {
      console.log('      (skipped: keytool not found on PATH)');
      this.skip();
    }
    const p12 = join(dir, 'keytool.p12');
    expect((await cli('export', 'client', '--p12', '--password', 'changeit', '--out', p12)).code).to.equal(0);
    const r = await run('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', p12, '-storepass', 'changeit']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/PrivateKeyEntry/);
  });

  it('export --chain-only, --one-line and --base64', async () => {
    const chain = await cli('export', 'client', '--chain-only');
    expect(chain.stdout.match(/BEGIN CERTIFICATE/g)).to.have.length(2);
    expect(chain.stdout).to.not.include('PRIVATE KEY');
    const one = await cli('export', 'client', '--one-line');
    expect(one.stdout.trim().split('\n')).to.have.length(1);
    expect(one.stdout).to.include('-----BEGIN CERTIFICATE-----\\nMII');
    const b64 = await cli('export', 'client', '--base64');
    const pem = Buffer.from(b64.stdout.trim(), 'base64').toString('utf8');
    expect(new X509Certificate(pem).fingerprint256).to.equal(new X509Certificate(await readFile(pki.client.cert)).fingerprint256);
  });

  it('import reads back a PKCS#12 it exported', async () => {
    const p12 = join(dir, 'rt.p12');
    await cli('export', 'server', '--p12', '--password', 'x', '--out', p12);
    const r = await cli('import', p12, '--password', 'x', '--out', join(dir, 'imp'));
    expect(r.code, r.stderr).to.equal(0);
    expect(await readFile(join(dir, 'imp', 'rt.crt'), 'utf8')).to.equal(await readFile(pki.server.cert, 'utf8'));
    expect((await stat(join(dir, 'imp', 'rt.key'))).mode & 0o777).to.equal(0o600);
  });

  it('import takes base64 certificate and PKCS#8 key strings with ### tags', async () => {
    const certDer = new X509Certificate(await readFile(pki.client.cert)).raw;
    const keyDer = createPrivateKey(await readFile(pki.client.key)).export({ type: 'pkcs8', format: 'der' });
    await writeFile(join(dir, 'sf-cert.txt'), `${certDer.toString('base64')}###4f2a9c1b\n`);
    await writeFile(join(dir, 'sf-key.txt'), `${keyDer.toString('base64')}###deadbeef`);
    const r = await cli('import', join(dir, 'sf-cert.txt'), '--key', join(dir, 'sf-key.txt'), '--name', 'sf', '--out', join(dir, 'imp'));
    expect(r.code, r.stderr).to.equal(0);
    expect(await readFile(join(dir, 'imp', 'sf.crt'), 'utf8')).to.equal(await readFile(pki.client.cert, 'utf8'));
    expect(await readFile(join(dir, 'imp', 'sf.key'), 'utf8')).to.include('BEGIN PRIVATE KEY');
  });

  it('issue client/server with options', async () => {
    const r = await cli('issue', 'server', '--cn', 'api.cert.localhost', '--san', 'api.cert.localhost', '127.0.0.2', '--o', 'Acme', '--key', 'rsa2048', '--days', '30');
    expect(r.code, r.stderr).to.equal(0);
    const cert = new X509Certificate(await readFile(join(certs, 'issued', 'api.cert.localhost.crt')));
    expect(cert.subjectAltName).to.equal('DNS:api.cert.localhost, IP Address:127.0.0.2');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
    const c = await cli('issue', 'client', '--cn', 'old-client', '--not-before', '2020-01-01T00:00:00Z', '--not-after', '2021-01-01T00:00:00Z', '--out', join(dir, 'iss'));
    expect(c.code, c.stderr).to.equal(0);
    const old = new X509Certificate(await readFile(join(dir, 'iss', 'old-client.crt')));
    expect(new Date(old.validTo).toISOString()).to.equal('2021-01-01T00:00:00.000Z');
    expect(old.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
  });

  it('issue refuses a --san or name that would inject into the OpenSSL config, naming the flag and the fix', async () => {
    const cases: readonly [string[], RegExp][] = [
      [['client', '--cn', 'c1', '--san', 'x.localhost\nbasicConstraints=critical,CA:TRUE'], /^mtls-edge: --san "x\.localhost\\nbasicConstraints=critical,CA:TRUE" contains a comma, a line break or a control character: give one name per value/m],
      [['client', '--cn', 'c2', '--san', 'a.localhost,DNS:b.localhost'], /^mtls-edge: --san "a\.localhost,DNS:b\.localhost" contains a comma/m],
      [['client', '--cn', 'c3', '--san', 'dirName:evil'], /^mtls-edge: --san "dirName:evil": unsupported type "dirName": use DNS:, IP:, email: or URI:/m],
      [['client', '--cn', 'c4', '--san', 'IP:1.2.3'], /^mtls-edge: --san "IP:1\.2\.3" is not an IPv4 or IPv6 address/m],
      [['client', '--cn', 'c5', '--san', 'email:not an address'], /is not an e-mail address/m],
      [['client', '--cn', 'c6', '--san', 'URI:https://x.localhost/${ENV::HOME}'], /^mtls-edge: --san "URI:https:\/\/x\.localhost\/\$\{ENV::HOME\}" contains \$, #, \\ or "/m],
      [['client', '--cn', 'c7', '--san', 'email:a#b@x.localhost'], /contains \$, #, \\ or "/m],
      [['client', '--cn', 'bad\u001b[31mcn'], /^mtls-edge: --cn "bad\\u001b\[31mcn" contains a line break or a control character/m],
      [['server', '--cn', 'my server'], /^mtls-edge: --cn \(the DNS name of a server certificate without --san\) "my server" is not a DNS name/m],
    ];
    for (const [args, message] of cases) {
      const r = await cli('issue', ...args, '--out', join(dir, 'refused'));
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(message);
    }
    expect(existsSync(join(dir, 'refused')), 'nothing written').to.equal(false);
  });

  it('inspect --json shows both DN forms, EKU, SANs and fingerprint', async () => {
    const r = await cli('inspect', pki.server.chain, '--json');
    expect(r.code, r.stderr).to.equal(0);
    const rep = JSON.parse(r.stdout) as { certs: { subject: { rfc2253: string; oneline: string }; eku: string[]; sans: string[]; sha256: string; daysLeft: number }[]; chainOrder: string };
    expect(rep.certs[0]!.subject.oneline).to.equal('/C=DE/O=mtls-edge dev/CN=localhost');
    expect(rep.certs[0]!.subject.rfc2253).to.equal('CN=localhost,O=mtls-edge dev,C=DE');
    expect(rep.certs[0]!.eku).to.deep.equal(['serverAuth']);
    expect(rep.certs[0]!.sans).to.include('DNS:*.cert.localhost');
    expect(rep.certs[0]!.daysLeft).to.be.above(800);
    expect(rep.chainOrder).to.match(/^in order/);
  });

  it('inspect --against reports the edge verdict for every failure kind', async () => {
    for (const kind of FAILURE_KINDS) {
      const p = failurePaths(certs, kind);
      const r = await cli('inspect', p.chain, '--against', pki.rootCa.cert, '--crl', join(certs, 'crl', 'all.crl'), '--json');
      expect(r.code, r.stderr).to.equal(0);
      const rep = JSON.parse(r.stdout) as { verdict: { code: number; hint: string } };
      // With CRLs on, a self-signed leaf continues to "no CRL for its issuer" in openssl; the first error is what we report.
      expect(rep.verdict.code, kind).to.equal(EXPECTED_VERIFY[kind]);
      expect(rep.verdict.hint, kind).to.be.a('string');
    }
  });

  describe('bad input: exit code 2, one line naming the file', () => {
    const cases: { name: string; setup: (d: string) => Promise<string[]>; file: string; problem: RegExp }[] = [
      { name: 'wrong PKCS#12 password', file: 'bad.p12', problem: /wrong password/,
        setup: async (d) => { await cli('export', 'client', '--p12', '--password', 'right', '--out', join(d, 'bad.p12')); return ['inspect', join(d, 'bad.p12'), '--password', 'wrong']; } },
      { name: 'truncated PEM', file: 'trunc.pem', problem: /truncated/,
        setup: async (d) => { await writeFile(join(d, 'trunc.pem'), (await readFile(pki.client.cert, 'utf8')).slice(0, 300)); return ['inspect', join(d, 'trunc.pem')]; } },
      { name: 'garbled PEM', file: 'garbled.pem', problem: /garbled/,
        setup: async (d) => { await writeFile(join(d, 'garbled.pem'), (await readFile(pki.client.cert, 'utf8')).replace(/M/g, '@')); return ['inspect', join(d, 'garbled.pem')]; } },
      { name: 'key not matching its certificate', file: 'mismatch.key', problem: /does not match/,
        setup: async (d) => { await copyFile(pki.client.cert, join(d, 'mismatch.crt')); await copyFile(pki.server.key, join(d, 'mismatch.key')); return ['export', join(d, 'mismatch.crt'), '--p12']; } },
      { name: 'DER where PEM was expected', file: 'ca.crt', problem: /DER.*expected PEM/,
        setup: async (d) => {
          await mkdir(join(d, 'derca'), { recursive: true });
          await writeFile(join(d, 'derca', 'ca.crt'), new X509Certificate(await readFile(pki.intermediateCa.cert)).raw);
          await copyFile(pki.intermediateCa.key, join(d, 'derca', 'ca.key'));
          return ['issue', 'client', '--cn', 'x', '--ca', join(d, 'derca'), '--out', join(d, 'derca-out')];
        } },
      { name: 'unreadable path', file: 'missing.pem', problem: /no such file/, setup: async (d) => ['inspect', join(d, 'missing.pem')] },
      { name: 'not a certificate at all', file: 'notes.txt', problem: /not a certificate/,
        setup: async (d) => { await writeFile(join(d, 'notes.txt'), 'hello\n'); return ['inspect', join(d, 'notes.txt')]; } },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const args = await c.setup(dir);
        const before = await readdir(dir);
        const r = await cli(...args);
        expect(r.code, r.stderr).to.equal(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).to.have.length(1);
        expect(lines[0]).to.match(/^mtls-edge: /);
        expect(lines[0]).to.include(c.file);
        expect(lines[0]).to.match(c.problem);
        expect(r.stderr).to.not.match(/PRIVATE KEY|right|wrong-pass/);
        const after = await readdir(dir);
        expect(after.filter((f) => !before.includes(f) && f !== 'derca-out')).to.deep.equal([]);
        expect(after.some((f) => f.endsWith('.tmp'))).to.equal(false);
      });
    }
  });
});
