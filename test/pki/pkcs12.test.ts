// src/pki/pkcs12.ts against keystores the real openssl writes: its OpenSSL 3 default (PBES2/AES),
// the PBE-SHA1-3DES form Windows, macOS and Java use, and the RC2 legacy form we cannot decrypt.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PFX } from '@peculiar/asn1-pfx';
import { ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { Pkcs12Error, readPkcs12, writePkcs12 } from '../../src/pki/pkcs12.js';
import { run, tempDir } from './helpers.js';

describe('pki/pkcs12', function () {
  this.timeout(60_000);
  let dir = '';
  let pki: DevPki;
  let cleanup: () => Promise<void> = async () => {};
  const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).error === undefined;

  before(async () => {
    ({ dir, cleanup } = await tempDir('p12'));
    ({ pki } = await ensureDevPki(join(dir, 'certs')));
  });
  after(async () => cleanup());

  it('round trip: what it writes it reads, with a non-ASCII password', async () => {
    const key = createPrivateKey(await readFile(pki.client.key));
    const certs = [new X509Certificate(await readFile(pki.client.cert)).raw, new X509Certificate(await readFile(pki.intermediateCa.cert)).raw];
    const p12 = writePkcs12({ key, certs, friendlyName: 'client', password: 'pässwörd', iterations: 2048 });
    const back = readPkcs12(p12, 'pässwörd');
    expect(back.certs.map((c) => c.toString('hex'))).to.deep.equal(certs.map((c) => c.toString('hex')));
    expect(createPrivateKey({ key: back.privateKeyPkcs8!, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' })).to.equal(key.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => readPkcs12(p12, 'wrong')).to.throw(Pkcs12Error).with.property('reason', 'password');
  });

  it('a keystore naming more than 10,000,000 iterations is refused before any hashing', async () => {
    const key = createPrivateKey(await readFile(pki.client.key));
    const p12 = writePkcs12({ key, certs: [new X509Certificate(await readFile(pki.client.cert)).raw], friendlyName: 'client', password: 'pw', iterations: 2048 });
    // A hostile file: the MAC's count raised past the cap (hashing it would keep the CLI busy for minutes).
    const pfx = AsnConvert.parse(p12, PFX);
    pfx.macData!.iterations = 10_000_001;
    const hostile = Buffer.from(AsnConvert.serialize(pfx));
    expect(() => readPkcs12(hostile, 'pw')).to.throw(Pkcs12Error, /iteration count of 10000001/).with.property('reason', 'unsupported');
  });

  const made = [
    { name: 'OpenSSL 3 default (PBES2, AES-256-CBC, SHA-256 MAC)', args: [] as string[] },
    { name: 'PBE-SHA1-3DES with a SHA-1 MAC (Windows, macOS, Java 8)', args: ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'] },
  ];
  for (const m of made) {
    it(`reads a keystore openssl wrote: ${m.name}`, async function () {
      if (!hasOpenssl) this.skip();
      const out = join(dir, `${m.args.length}.p12`);
      const w = await run('openssl', ['pkcs12', '-export', '-inkey', pki.client.key, '-in', pki.client.chain, '-passout', 'pass:abc', '-out', out, ...m.args]);
      expect(w.code, w.stderr).to.equal(0);
      const back = readPkcs12(await readFile(out), 'abc');
      expect(back.certs).to.have.length(2);
      expect(new X509Certificate(back.certs[0]!).checkPrivateKey(createPrivateKey({ key: back.privateKeyPkcs8!, format: 'der', type: 'pkcs8' }))).to.equal(true);
    });
  }

  it('an RC2 (legacy) keystore is refused as unsupported, not as a wrong password', async function () {
    if (!hasOpenssl) this.skip();
    const out = join(dir, 'legacy.p12');
    const w = await run('openssl', ['pkcs12', '-export', '-legacy', '-inkey', pki.client.key, '-in', pki.client.chain, '-passout', 'pass:abc', '-out', out]);
    if (w.code !== 0) this.skip(); // an OpenSSL 3 without the legacy provider cannot write one either
    expect(() => readPkcs12(readFileSync(out), 'abc')).to.throw(Pkcs12Error).with.property('reason', 'unsupported');
  });
});

