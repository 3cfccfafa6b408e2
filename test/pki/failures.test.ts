import { expect } from 'chai';
import { readFile, stat } from 'node:fs/promises';
import { crlPaths, ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { EXPECTED_OPENSSL_FIRST_ERROR, EXPECTED_VERIFY, FAILURE_KINDS, failurePaths } from '../../src/pki/failures.js';
import { handshake, opensslVerify, run, tempDir } from './helpers.js';

describe('pki/failures', function () {
  this.timeout(60_000);
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pki: DevPki;

  before(async function () {
    ({ dir, cleanup } = await tempDir('failures'));
    ({ pki } = await ensureDevPki(dir, { withFailures: true }));
  });
  after(async () => cleanup());

  it('writes cert, key (0600) and chain for every kind', async () => {
    for (const kind of FAILURE_KINDS) {
      const p = failurePaths(dir, kind);
      expect((await stat(p.key)).mode & 0o777, kind).to.equal(0o600);
      expect(await readFile(p.chain, 'utf8'), kind).to.include(await readFile(p.cert, 'utf8'));
    }
  });

  for (const kind of FAILURE_KINDS) {
    it(`${kind}: openssl verify reports ${EXPECTED_OPENSSL_FIRST_ERROR[kind]} first`, async () => {
      const p = failurePaths(dir, kind);
      const codes = await opensslVerify({ trust: pki.rootCa.cert, untrusted: p.chain, leaf: p.cert, crl: kind === 'revoked' ? crlPaths(dir).all : undefined });
      expect(codes[0] ?? 0).to.equal(EXPECTED_OPENSSL_FIRST_ERROR[kind]);
    });

    it(`${kind}: a Node TLS server reports ${EXPECTED_VERIFY[kind]}`, async () => {
      const p = failurePaths(dir, kind);
      const r = await handshake({
        serverCert: pki.server.chain, serverKey: pki.server.key, trust: pki.rootCa.cert, serverCaForClient: pki.rootCa.cert,
        crl: kind === 'revoked' ? crlPaths(dir).all : undefined, clientChain: p.chain, clientKey: p.key,
      });
      expect(r.code, r.nodeCode).to.equal(EXPECTED_VERIFY[kind]);
    });
  }

  it('revoked passes without CRLs; with CRLs a valid client still passes', async () => {
    const p = failurePaths(dir, 'revoked');
    expect(await opensslVerify({ trust: pki.rootCa.cert, untrusted: p.chain, leaf: p.cert })).to.deep.equal([]);
    expect(await opensslVerify({ trust: pki.rootCa.cert, untrusted: pki.client.chain, leaf: pki.client.cert, crl: crlPaths(dir).all })).to.deep.equal([]);
  });

  it('a CA without a CRL gives 3 when CRL checking is on', async () => {
    const codes = await opensslVerify({ trust: pki.rootCa.cert, untrusted: pki.client.chain, leaf: pki.client.cert, crl: crlPaths(dir).intermediate });
    expect(codes[0]).to.equal(3);
  });

  it('bmp-subject is encoded as BMPString, utf8-subject as UTF8String', async () => {
    const asn = async (f: string): Promise<string> => (await run('openssl', ['asn1parse', '-in', f])).stdout;
    expect(await asn(failurePaths(dir, 'bmp-subject').cert)).to.match(/BMPSTRING/);
    const utf8 = await asn(failurePaths(dir, 'utf8-subject').cert);
    expect(utf8).to.match(/UTF8STRING/);
    expect(utf8).to.not.match(/BMPSTRING/);
  });

  it('notbefore-1999 uses UTCTime 99…, notafter-2060 GeneralizedTime 2060…', async () => {
    const asn = async (f: string): Promise<string> => (await run('openssl', ['asn1parse', '-in', f])).stdout;
    expect(await asn(failurePaths(dir, 'notbefore-1999').cert)).to.match(/UTCTIME\s+:990101000000Z/);
    expect(await asn(failurePaths(dir, 'notafter-2060').cert)).to.match(/GENERALIZEDTIME\s+:20600101000000Z/);
  });

  it('the subjects look as intended', async () => {
    const subj = async (k: (typeof FAILURE_KINDS)[number]): Promise<string> =>
      (await run('openssl', ['x509', '-in', failurePaths(dir, k).cert, '-noout', '-subject', '-nameopt', 'oneline,-esc_msb'])).stdout;
    expect(await subj('two-cns')).to.match(/CN = first-cn, CN = second-cn/);
    expect(await subj('no-cn')).to.not.match(/CN/);
    expect(await subj('multi-valued-rdn')).to.match(/OU = failures \+ OU = multi-valued/);
    expect(await subj('utf8-subject')).to.include('Jürgen Groß');
  });

  it('a second run with failures keeps them', async () => {
    const before = await readFile(failurePaths(dir, 'expired').cert, 'utf8');
    expect((await ensureDevPki(dir, { withFailures: true })).created).to.equal(false);
    expect(await readFile(failurePaths(dir, 'expired').cert, 'utf8')).to.equal(before);
  });
});
