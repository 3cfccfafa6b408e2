// The chain the client presented, as the flow page's client lane shows it: read from Node's issuer
// links of a real handshake's peer certificate, leaf excluded, bounded for a hostile 50-certificate
// chain.
import { expect } from 'chai';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { certSummary } from '../../src/edge/certInfoCache.js';
import { ensureHostile, hostilePaths } from '../../src/pki/hostile.js';
import { testPki } from '../support/edgeHarness.js';

/** One real handshake on loopback; the peer certificate as the edge reads it. */
async function presented(cert: string, key: string): Promise<X509Certificate> {
  const { pki } = await testPki();
  return new Promise((resolve, reject) => {
    const server = tls.createServer(
      { cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key), ca: readFileSync(pki.rootCa.cert), requestCert: true, rejectUnauthorized: false },
      (socket) => {
        const peer = socket.getPeerX509Certificate();
        socket.end();
        server.close();
        if (peer) resolve(peer);
        else reject(new Error('no peer certificate'));
      },
    );
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.rootCa.cert), cert: readFileSync(cert), key: readFileSync(key) });
      client.on('error', () => undefined);
      client.resume();
    });
  });
}

describe('edge/certInfoCache: the presented chain', function () {
  this.timeout(60_000);

  it('lists what the dev client sent after its leaf (the intermediate), not the root it did not send', async () => {
    const { pki } = await testPki();
    const summary = certSummary(await presented(pki.client.chain, pki.client.key));
    expect(summary.chain.map((c) => c.subjectCN)).to.deep.equal(['mtls-edge Dev Intermediate CA']);
    expect(summary.chain[0]!.issuer).to.equal('CN=mtls-edge Dev Root CA,O=mtls-edge dev,C=DE');
    expect(summary.chainTruncated).to.equal(false);
  });

  it('the leaf alone when the client sends no chain', async () => {
    const { pki } = await testPki();
    const summary = certSummary(await presented(pki.client.cert, pki.client.key));
    expect(summary.chain).to.deep.equal([]);
  });

  it('stops at ten for a hostile 50-certificate chain, and says it did', async () => {
    const { dir } = await testPki();
    await ensureHostile(dir);
    const files = hostilePaths(dir, 'chain-50');
    const summary = certSummary(await presented(files.chain, files.key));
    expect(summary.chain).to.have.length(10);
    expect(summary.chainTruncated).to.equal(true);
    // Each issued the one before.
    expect(summary.chain[0]!.subject).to.equal(summary.issuer);
    for (let i = 1; i < summary.chain.length; i++) expect(summary.chain[i]!.subject).to.equal(summary.chain[i - 1]!.issuer);
  });
});
