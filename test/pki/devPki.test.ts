import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, rm } from 'node:fs/promises';
import { crlPaths, devPkiPaths, ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { handshake, opensslVerify, tempDir } from './helpers.js';

describe('pki/devPki', function () {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pki: DevPki;

  before(async function () {
    ({ dir, cleanup } = await tempDir('devpki'));
    const r = await ensureDevPki(dir);
    expect(r.created).to.equal(true);
    pki = r.pki;
  });
  after(async () => cleanup());

  it('devPkiPaths is pure and matches what ensureDevPki returns', () => {
    expect(devPkiPaths(dir)).to.deep.equal(pki);
    expect(pki.rootCa.cert).to.match(/^\//);
  });

  it('writes private keys with mode 0600', async () => {
    for (const key of [pki.rootCa.key, pki.intermediateCa.key, pki.server.key, pki.client.key]) {
      expect((await stat(key)).mode & 0o777, key).to.equal(0o600);
    }
  });

  it('issues a server certificate with the dev SANs', async () => {
    const cert = new X509Certificate(await readFile(pki.server.cert));
    expect(cert.subjectAltName).to.equal('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:app.localhost, DNS:echo.localhost, DNS:api.localhost, DNS:www.localhost, DNS:kyma.localhost, DNS:*.localhost, DNS:*.cert.localhost');
    expect(cert.checkIssued(new X509Certificate(await readFile(pki.intermediateCa.cert)))).to.equal(true);
  });

  it('issues a client certificate CN dev-client with EKU clientAuth', async () => {
    const cert = new X509Certificate(await readFile(pki.client.cert));
    expect(cert.subject).to.include('CN=dev-client');
    expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
  });

  it('chains: leaf + intermediate, and intermediate + root', async () => {
    const count = async (f: string): Promise<number> => ((await readFile(f, 'utf8')).match(/BEGIN CERTIFICATE/g) ?? []).length;
    expect(await count(pki.client.chain)).to.equal(2);
    expect(await count(pki.server.chain)).to.equal(2);
    expect(await count(pki.caChain)).to.equal(2);
  });

  it('openssl verify accepts client (sslclient) and server (sslserver), also with CRL checking', async () => {
    expect(await opensslVerify({ trust: pki.rootCa.cert, untrusted: pki.client.chain, leaf: pki.client.cert })).to.deep.equal([]);
    expect(await opensslVerify({ trust: pki.rootCa.cert, untrusted: pki.client.chain, leaf: pki.client.cert, crl: crlPaths(dir).all })).to.deep.equal([]);
    expect(await opensslVerify({ trust: pki.rootCa.cert, untrusted: pki.caChain, leaf: pki.server.cert, purpose: false })).to.deep.equal([]);
  });

  it('a real TLS handshake accepts the client certificate', async () => {
    const r = await handshake({
      serverCert: pki.server.chain, serverKey: pki.server.key, trust: pki.rootCa.cert, serverCaForClient: pki.rootCa.cert,
      clientChain: pki.client.chain, clientKey: pki.client.key,
    });
    expect(r).to.include({ authorized: true, code: 0, subjectCn: 'dev-client' });
  });

  it('is idempotent: a second run keeps existing material', async () => {
    const before = await readFile(pki.rootCa.key, 'utf8');
    const again = await ensureDevPki(dir);
    expect(again.created).to.equal(false);
    expect(await readFile(pki.rootCa.key, 'utf8')).to.equal(before);
  });

  it('regenerates missing material, and everything with force', async () => {
    const rootBefore = await readFile(pki.rootCa.cert, 'utf8');
    await rm(pki.client.cert);
    expect((await ensureDevPki(dir)).created).to.equal(true);
    await readFile(pki.client.cert);
    const forced = await ensureDevPki(dir, { force: true });
    expect(forced.created).to.equal(true);
    expect(await readFile(pki.rootCa.cert, 'utf8')).to.not.equal(rootBefore);
  });

  it('writes a README naming every file and the clients', async () => {
    const text = await readFile(`${dir}/README.txt`, 'utf8');
    for (const word of ['root-ca.crt', 'client-chain.crt', 'server.key', 'curl', 'Postman', 'SoapUI', 'keytool']) expect(text).to.include(word);
  });
});
