// The hostile family: every kind is written (key 0600, chain starting with the leaf), and
// `openssl verify` against the dev root gives the outcome docs/certs.md states for it.
import { expect } from 'chai';
import { readFile, stat } from 'node:fs/promises';
import { ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { ensureHostile, HOSTILE_KINDS, hostilePaths, type HostileKind } from '../../src/pki/hostile.js';
import { opensslVerify, run, tempDir } from './helpers.js';

/** First `openssl verify` error; null: OpenSSL cannot even load the certificate. */
const EXPECTED: Partial<Record<HostileKind, number | null>> = {
  'empty-subject-self-signed': 18,
  'random-utf8-bytes': null,
  'expired-bad-signature': 7,
};

describe('pki/hostile', function () {
  this.timeout(60_000);
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pki: DevPki;

  before(async () => {
    ({ dir, cleanup } = await tempDir('hostile'));
    ({ pki } = await ensureDevPki(dir));
    expect(await ensureHostile(dir)).to.equal(true);
  });
  after(async () => cleanup());

  it('writes cert, key (0600) and chain for every kind; a second run keeps them', async () => {
    for (const kind of HOSTILE_KINDS) {
      const p = hostilePaths(dir, kind);
      expect((await stat(p.key)).mode & 0o777, kind).to.equal(0o600);
      expect((await readFile(p.chain, 'utf8')).startsWith(await readFile(p.cert, 'utf8')), kind).to.equal(true);
    }
    expect(await ensureHostile(dir)).to.equal(false);
  });

  for (const kind of HOSTILE_KINDS) {
    const want: number | null = kind in EXPECTED ? (EXPECTED[kind] as number | null) : 0;
    it(`${kind}: openssl verify → ${want === null ? 'cannot load' : want === 0 ? 'OK' : want}`, async () => {
      const p = hostilePaths(dir, kind);
      if (want === null) {
        expect((await run('openssl', ['x509', '-in', p.cert, '-noout'])).code).to.not.equal(0);
        return;
      }
      const codes = await opensslVerify({ trust: pki.rootCa.cert, untrusted: p.chain, leaf: p.cert });
      expect(codes[0] ?? 0).to.equal(want);
    });
  }

  it('the shapes are what their names say', async () => {
    const asn = async (k: HostileKind): Promise<string> => (await run('openssl', ['asn1parse', '-in', hostilePaths(dir, k).cert])).stdout;
    expect((await readFile(hostilePaths(dir, 'chain-50').chain, 'utf8')).match(/BEGIN CERTIFICATE/g)).to.have.length(50);
    expect(await asn('bmp-subject')).to.match(/BMPSTRING/);
    expect(await asn('t61-subject')).to.match(/T61STRING/);
    expect(await asn('universal-subject')).to.match(/UNIVERSALSTRING/);
    expect((await asn('rdns-150')).match(/ SET /g)!.length).to.be.greaterThanOrEqual(150);
    expect((await readFile(hostilePaths(dir, 'huge-subject').cert)).length).to.be.greaterThan(8000 * 4 / 3);
    const text = (await run('openssl', ['x509', '-in', hostilePaths(dir, 'empty-subject').cert, '-noout', '-subject'])).stdout;
    expect(text.trim()).to.equal('subject=');
  });
});
