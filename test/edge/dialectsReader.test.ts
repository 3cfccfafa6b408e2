// Writer → reader, through a real edge: for every dialect, what the echo upstream receives is read
// back by the app-side reader (src/app, `mtls-edge/app`) to the certificate the client presented,
// with the edge's verdict; without a certificate (forged headers sent) the reader finds none.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readClientCert } from '../../src/app/index.js';
import { clientIdentity, httpsRequest, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { failurePaths } from '../../src/pki/failures.js';

const DIALECT_CONFIGS: readonly [name: 'cf' | 'envoy' | 'rfc9440' | 'nginx' | 'traefik', yaml: string][] = [
  ['cf', 'dialect: cf\n'],
  ['envoy', 'dialect: envoy\n'],
  ['rfc9440', 'dialect: rfc9440\n'],
  ['nginx', 'dialect: nginx\n'],
  ['traefik', 'dialect: traefik\n'],
];

const FORGED: [string, string][] = [
  ['X-Forwarded-Client-Cert', 'Hash=00;Cert="x"'],
  ['Client-Cert', ':AAAA:'],
  ['X-SSL-Client-Cert', 'x'],
  ['X-SSL-Client-Verify', 'SUCCESS'],
  ['X-Forwarded-Tls-Client-Cert', 'AAAA'],
];

describe('edge dialects → app reader (mtls-edge/app), real handshakes', function () {
  this.timeout(60_000);
  let valid: ClientIdentity;
  let expired: ClientIdentity;
  let leaf: X509Certificate;
  let expiredLeaf: X509Certificate;

  before(async () => {
    const { dir, pki } = await testPki();
    valid = await clientIdentity('valid');
    expired = await clientIdentity('expired');
    leaf = new X509Certificate(readFileSync(pki.client.cert));
    expiredLeaf = new X509Certificate(readFileSync(failurePaths(dir, 'expired').cert));
  });

  for (const [dialect, yaml] of DIALECT_CONFIGS) {
    describe(dialect, () => {
      let t: TestEdge;
      before(async () => {
        t = await startTestEdge({ ignoreErrors: '10' }, yaml);
      });
      after(async () => t?.close());

      it('valid certificate: verified, the same leaf', async () => {
        const reply = await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] });
        const result = readClientCert(reply.echo!.headers.flat(), { dialect });
        expect(result.status, JSON.stringify(result)).to.equal('verified');
        expect(result.status === 'verified' && result.certificate.leaf.raw.equals(leaf.raw)).to.equal(true);
      });

      it('no certificate, forged headers: the reader finds none (absent), the forged ones were removed', async () => {
        const reply = await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] });
        const result = readClientCert(reply.echo!.headers.flat(), { dialect });
        expect(result.status, JSON.stringify(result)).to.equal('absent');
      });

      it('expired certificate with error 10 ignored: the same leaf; unverified where the dialect carries the verify result', async () => {
        const reply = await httpsRequest(t.httpsPort, { identity: expired, headers: [['Host', 'localhost']] });
        const result = readClientCert(reply.echo!.headers.flat(), { dialect });
        const cert = result.status === 'verified' || result.status === 'unverified' ? result.certificate : null;
        expect(cert?.leaf.raw.equals(expiredLeaf.raw), JSON.stringify(result)).to.equal(true);
        // cf and nginx carry the verify result; envoy, rfc9440 and traefik only the certificate the edge accepted.
        expect(result.status).to.equal(dialect === 'cf' || dialect === 'nginx' ? 'unverified' : 'verified');
      });
    });
  }
});
