// The client leaf read from the TLS session must be exactly the certificate Node verified, on
// TLS 1.2 and 1.3, and absent when the client sent none.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { constants } from 'node:crypto';
import { PeerCertificate } from '../../src/tls/peerCertificate.js';
import { sessionFacts } from '../../src/headers/sessionId.js';
import { testPki } from '../support/edgeHarness.js';

async function handshake(maxVersion: 'TLSv1.2' | 'TLSv1.3', withCert: boolean): Promise<{ peer: PeerCertificate | null; raw: Buffer | undefined; issuer: string | undefined }> {
  const { pki } = await testPki();
  return new Promise((resolve, reject) => {
    const server = tls.createServer(
      { cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key), ca: readFileSync(pki.rootCa.cert), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET },
      (socket) => {
        const peer = PeerCertificate.of(socket);
        // x509() must be the socket's first getPeerX509Certificate(): Node links the issuer chain
        // only on the first call for a connection (a later call returns the leaf alone).
        const issuer = peer?.x509().issuerCertificate?.subject;
        const raw = peer?.x509().raw ?? socket.getPeerX509Certificate()?.raw;
        socket.end();
        server.close();
        resolve({ peer, raw, issuer });
      },
    );
    server.listen(0, '127.0.0.1', () => {
      const client = tls.connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        servername: 'localhost',
        maxVersion,
        ca: readFileSync(pki.rootCa.cert),
        cert: withCert ? readFileSync(pki.client.chain) : undefined,
        key: withCert ? readFileSync(pki.client.key) : undefined,
      });
      client.on('error', reject);
      client.resume();
      setTimeout(() => reject(new Error('handshake timed out')), 10_000).unref();
    });
  });
}

describe('tls/PeerCertificate', function () {
  this.timeout(30_000);
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${v}: the DER from the session equals Node's peer certificate, and x509() links the issuer`, async () => {
      const { peer, raw, issuer } = await handshake(v, true);
      expect(peer).to.not.equal(null);
      expect(peer!.der.equals(raw!)).to.equal(true);
      expect(issuer).to.match(/Intermediate/);
      if (v === 'TLSv1.2') expect(peer!.sessionId).to.have.length(32);
    });

    it(`${v}: no certificate sent → null`, async () => {
      const { peer, raw } = await handshake(v, false);
      expect(raw).to.equal(undefined);
      expect(peer).to.equal(null);
    });
  }

  // The verified path reads nothing at the handshake; read after the first application data (as the
  // edge does at the first request), the session carries the leaf and, also for TLS 1.3, the ID.
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${v}: a verified certificate read at the first request has the leaf and a 32-byte session ID`, async () => {
      const { pki } = await testPki();
      const result = await new Promise<{ der: Buffer; sessionId: Buffer | null; raw: Buffer }>((resolve, reject) => {
        const server = tls.createServer(
          { cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key), ca: readFileSync(pki.rootCa.cert), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET },
          (socket) => {
            const peer = PeerCertificate.verified(socket);
            socket.once('data', () => {
              const out = { der: peer.der, sessionId: peer.sessionId, raw: peer.x509().raw };
              socket.end();
              server.close();
              resolve(out);
            });
          },
        );
        server.listen(0, '127.0.0.1', () => {
          const client = tls.connect({
            host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost', maxVersion: v,
            ca: readFileSync(pki.rootCa.cert), cert: readFileSync(pki.client.chain), key: readFileSync(pki.client.key),
          });
          client.on('error', reject);
          client.once('secureConnect', () => client.write('GET / HTTP/1.1\r\n\r\n'));
          client.resume();
          setTimeout(() => reject(new Error('handshake timed out')), 10_000).unref();
        });
      });
      expect(result.der.equals(result.raw)).to.equal(true);
      expect(result.sessionId).to.have.length(32);
    });
  }

  it('a session DER without a peer field, or garbage, gives no certificate', () => {
    expect(sessionFacts(Buffer.from('30030201 01'.replace(/ /g, ''), 'hex')).peerCertificateDer).to.equal(null);
    expect(sessionFacts(Buffer.from('not der')).peerCertificateDer).to.equal(null);
    expect(sessionFacts(undefined).peerCertificateDer).to.equal(null);
  });
});
