// readClientCert per dialect on literal vectors (test/app/vectors.ts names their sources) and on the
// dev PKI's client certificate written the way each edge writes it; `auto`; and hostile input: the
// reader never throws and says why it cannot read.
import { expect } from 'chai';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { readClientCert, type ClientCertResult } from '../../src/app/index.js';
import { parseXfcc } from '../../src/app/dialects/envoy.js';
import { clientCertHeaderValues } from '../../src/headers/clientCertValues.js';
import { testPki } from '../support/edgeHarness.js';
import { ENVOY_DOC_EXAMPLES, RFC9440_CLIENT_CERT, RFC9440_CLIENT_CERT_CHAIN } from './vectors.js';

interface DevCerts {
  leaf: X509Certificate;
  intermediate: X509Certificate;
  root: X509Certificate;
}

async function devCerts(): Promise<DevCerts> {
  const { pki } = await testPki();
  return {
    leaf: new X509Certificate(readFileSync(pki.client.cert)),
    intermediate: new X509Certificate(readFileSync(pki.intermediateCa.cert)),
    root: new X509Certificate(readFileSync(pki.rootCa.cert)),
  };
}

/** PEM as OpenSSL writes it (64-character lines, trailing newline). */
const pemOf = (c: X509Certificate): string => c.toString();
/** Envoy's Cert/Chain form: the PEM URL-encoded (`-----BEGIN%20CERTIFICATE-----%0AMII…%2B…`). */
const envoyPem = (certs: X509Certificate[]): string => encodeURIComponent(certs.map(pemOf).join(''));

function expectVerified(r: ClientCertResult): Extract<ClientCertResult, { status: 'verified' }> {
  expect(r.status, JSON.stringify(r)).to.equal('verified');
  return r as Extract<ClientCertResult, { status: 'verified' }>;
}

describe('app reader: readClientCert', () => {
  let dev: DevCerts;
  before(async function () {
    this.timeout(60_000);
    dev = await devCerts();
  });

  describe('rfc9440 (RFC 9440 Appendix A)', () => {
    it('reads Figure 2 and Figure 3: the leaf CN=BC, its intermediate and root', () => {
      const r = expectVerified(readClientCert({ 'client-cert': RFC9440_CLIENT_CERT, 'client-cert-chain': RFC9440_CLIENT_CERT_CHAIN }, { dialect: 'rfc9440' }));
      expect(r.basis).to.equal('presence');
      const c = r.certificate;
      expect(c.leaf.raw.toString('base64')).to.equal(RFC9440_CLIENT_CERT.slice(1, -1));
      expect(c.subject).to.equal('/CN=BC');
      expect(c.commonName).to.equal('BC');
      expect(c.issuer).to.equal("/O=Let's Authenticate/CN=LA Intermediate CA");
      expect(c.root).to.equal("/C=US/O=Let's Authenticate/CN=Let's Authenticate Root Authority");
      expect(c.sans.email).to.deep.equal(['bdc@example.com']);
      expect(c.chain.map((x) => x.subject)).to.deep.equal(["O=Let's Authenticate\nCN=LA Intermediate CA", "C=US\nO=Let's Authenticate\nCN=Let's Authenticate Root Authority"]);
      expect(c.leaf.checkIssued(c.chain[0]!)).to.equal(true);
    });

    it('reads a chain split over two header lines (raw headers) and no chain at all', () => {
      const [a, b] = RFC9440_CLIENT_CERT_CHAIN.split(', ');
      const split = expectVerified(readClientCert(['Client-Cert', RFC9440_CLIENT_CERT, 'Client-Cert-Chain', a!, 'Client-Cert-Chain', b!], { dialect: 'rfc9440' }));
      expect(split.certificate.chain).to.have.length(2);
      const alone = expectVerified(readClientCert({ 'client-cert': RFC9440_CLIENT_CERT }, { dialect: 'rfc9440' }));
      expect(alone.certificate.chain).to.have.length(0);
      expect(alone.certificate.root).to.equal(null);
    });

    it('accepts a byte sequence without its "=" padding (RFC 8941 §4.2.7), refuses a chain of more than 9', () => {
      const unpadded = RFC9440_CLIENT_CERT.replace(/=+:$/, ':');
      expect(unpadded).to.not.equal(RFC9440_CLIENT_CERT);
      expect(expectVerified(readClientCert({ 'client-cert': unpadded }, { dialect: 'rfc9440' })).certificate.commonName).to.equal('BC');
      const long = readClientCert({ 'client-cert': RFC9440_CLIENT_CERT, 'client-cert-chain': Array(10).fill(RFC9440_CLIENT_CERT).join(', ') }, { dialect: 'rfc9440' });
      expect(long).to.deep.include({ status: 'unreadable', reason: 'Client-Cert-Chain holds more than 9 certificates' });
    });

    it('refuses what is not an RFC 8941 byte sequence, and a chain without a leaf', () => {
      const bare = readClientCert({ 'client-cert': RFC9440_CLIENT_CERT.slice(1, -1) }, { dialect: 'rfc9440' });
      expect(bare).to.deep.include({ status: 'unreadable', reason: 'Client-Cert is not an RFC 8941 byte sequence (:base64:)' });
      expect(readClientCert({ 'client-cert-chain': RFC9440_CLIENT_CERT_CHAIN }, { dialect: 'rfc9440' })).to.deep.include({ status: 'unreadable', reason: 'Client-Cert-Chain without Client-Cert' });
      expect(readClientCert({}, { dialect: 'rfc9440' }).status).to.equal('absent');
    });
  });

  describe('envoy (Envoy documentation, x-forwarded-client-cert)', () => {
    it('parses the three documented examples into their elements and pairs', () => {
      const [one, two, three] = ENVOY_DOC_EXAMPLES.map(parseXfcc);
      expect(one).to.deep.equal([[
        ['by', 'http://frontend.lyft.com'],
        ['hash', '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688'],
        ['subject', '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        ['uri', 'http://testclient.lyft.com'],
      ]]);
      expect(two).to.have.length(2);
      expect(two![1]).to.deep.equal([['by', 'http://backend.lyft.com'], ['hash', '9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e'], ['uri', 'http://frontend.lyft.com']]);
      expect(three![0]!.filter(([k]) => k === 'dns').map(([, v]) => v)).to.deep.equal(['lyft.com', 'www.lyft.com']);
    });

    it('says the documented examples carry no certificate (they have no Cert or Chain)', () => {
      for (const v of ENVOY_DOC_EXAMPLES) {
        // The second example holds two elements: 'first' reads the first.
        const r = readClientCert({ 'x-forwarded-client-cert': v }, { dialect: 'envoy', envoyElement: 'first' });
        expect(r.status).to.equal('unreadable');
        expect((r as { reason: string }).reason).to.match(/set_current_client_cert_details/);
      }
    });

    it('reads Hash, Cert and Chain as Envoy writes them, from the one element an edge with sanitize_set writes', () => {
      const hash = createHash('sha256').update(dev.leaf.raw).digest('hex');
      const element = `By=spiffe://cluster.local/ns/istio-system/sa/ingressgateway;Hash=${hash};Cert="${envoyPem([dev.leaf])}";Chain="${envoyPem([dev.leaf, dev.intermediate])}";Subject="CN=dev-client,OU=clients,O=mtls-edge dev,C=DE";URI=;DNS=a.example`;
      const r = expectVerified(readClientCert({ 'x-forwarded-client-cert': element }, { dialect: 'envoy' }));
      expect(r.certificate.leaf.raw.equals(dev.leaf.raw)).to.equal(true);
      expect(r.certificate.chain.map((c) => c.fingerprint256)).to.deep.equal([dev.intermediate.fingerprint256]);
      expect(r.certificate.subject).to.equal('/C=DE/O=mtls-edge dev/OU=clients/CN=dev-client');
      expect(r.certificate.root).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA');
      const wrongHash = readClientCert({ 'x-forwarded-client-cert': element.replace(hash, '0'.repeat(64)) }, { dialect: 'envoy' });
      expect(wrongHash).to.deep.include({ status: 'unreadable', reason: 'X-Forwarded-Client-Cert: Hash is not the SHA-256 of the Cert' });
    });

    // Which element is the edge's: the reader takes it by position, never the last one, which a
    // client controls (a URI or DNS SAN holding ",Hash=…;Cert=…", which Envoy writes unquoted).
    describe('which element (envoyElement)', () => {
      let element: string;
      let victimElement: string;
      // Istio's inbound sidecar (APPEND_FORWARD, Subject/URI/DNS, no Cert) appends this after the gateway's.
      const sidecar = 'By=spiffe://cluster.local/ns/app/sa/default;Hash=3f1a;Subject="";URI=spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
      before(() => {
        const hash = (c: X509Certificate): string => createHash('sha256').update(c.raw).digest('hex');
        element = `Hash=${hash(dev.leaf)};Cert="${envoyPem([dev.leaf])}";Subject="CN=dev-client,OU=clients,O=mtls-edge dev,C=DE";URI=`;
        victimElement = `Hash=${hash(dev.intermediate)};Cert="${envoyPem([dev.intermediate])}"`;
      });
      const leafOf = (r: ClientCertResult): string | null => (r.status === 'verified' ? r.certificate.leaf.fingerprint256 : null);
      // prettier-ignore
      const CASES: readonly { name: string; header: () => string; only: 'dev' | RegExp; first: 'dev' | RegExp }[] = [
        { name: 'one element', header: () => element, only: 'dev', first: 'dev' },
        { name: 'gateway, then the Istio sidecar', header: () => `${element},${sidecar}`, only: /holds 2 elements.*envoyElement: 'first'/, first: 'dev' },
        { name: 'a URI SAN that appended a second element naming another certificate', header: () => `${element.replace(/URI=$/, 'URI=spiffe://td/a')},${victimElement}`, only: /holds 2 elements/, first: 'dev' },
        { name: 'a URI SAN that appended ;Cert= to the edge\'s element', header: () => `${element.replace(/URI=$/, 'URI=spiffe://td/a')};Cert="${envoyPem([dev.intermediate])}"`, only: /keys out of the order|Cert appears twice/, first: /keys out of the order|Cert appears twice/ },
        { name: 'a URI SAN that added ;Chain= (chain detail off)', header: () => `${element.replace(/URI=$/, 'URI=spiffe://td/a')};Chain="${envoyPem([dev.leaf, dev.intermediate])}"`, only: /keys out of the order/, first: /keys out of the order/ },
        { name: 'a key Envoy does not write', header: () => element.replace(';URI=', ';X=1;URI='), only: /a key Envoy does not write/, first: /a key Envoy does not write/ },
        { name: 'the client\'s element first (append_forward)', header: () => `${victimElement},${element}`, only: /holds 2 elements/, first: 'other' as never },
      ];
      for (const c of CASES) {
        for (const which of ['only', 'first'] as const) {
          it(`${c.name}: ${which}`, () => {
            const r = readClientCert({ 'x-forwarded-client-cert': c.header() }, { dialect: 'envoy', envoyElement: which });
            const want = c[which];
            if (want === 'dev') expect(leafOf(r), JSON.stringify(r)).to.equal(dev.leaf.fingerprint256);
            else if (want instanceof RegExp) expect((r as { reason?: string }).reason ?? r.status).to.match(want);
            // append_forward with 'first' reads the client's own element: the reader cannot tell, the docs say so.
            else expect(leafOf(r)).to.equal(dev.intermediate.fingerprint256);
          });
        }
      }
      it('an unknown envoyElement is unreadable, not a default', () => {
        const r = readClientCert({ 'x-forwarded-client-cert': element }, { dialect: 'envoy', envoyElement: 'last' as never });
        expect(r).to.deep.include({ status: 'unreadable', reason: 'unknown envoyElement (expected only or first)' });
      });
    });
  });

  describe('nginx ($ssl_client_escaped_cert, $ssl_client_verify)', () => {
    const headers = (verify: string): Record<string, string> => ({ 'x-ssl-client-cert': encodeURIComponent(pemOf(dev.leaf)), 'x-ssl-client-verify': verify });

    it('SUCCESS is verified, FAILED:reason is not (with the reason), NONE is absent', () => {
      const ok = expectVerified(readClientCert(headers('SUCCESS'), { dialect: 'nginx' }));
      expect(ok.basis).to.equal('verify-result');
      expect(ok.certificate.leaf.raw.equals(dev.leaf.raw)).to.equal(true);
      const failed = readClientCert(headers('FAILED:certificate has expired'), { dialect: 'nginx' });
      expect(failed).to.deep.include({ status: 'unverified', reason: 'verification failed: certificate has expired', verifyCode: 10 });
      expect(readClientCert(headers('FAILED:something else'), { dialect: 'nginx' })).to.deep.include({ status: 'unverified', verifyCode: null });
      expect(readClientCert({ 'x-ssl-client-verify': 'NONE' }, { dialect: 'nginx' }).status).to.equal('absent');
      expect(readClientCert(headers('maybe'), { dialect: 'nginx' }).status).to.equal('unverified');
    });
  });

  describe('traefik (passTLSClientCert pem: true)', () => {
    it('reads the PEM bodies joined by commas, plain (v3) and URL-escaped (older versions)', () => {
      const body = (c: X509Certificate) => pemOf(c).replace(/-----(BEGIN|END) CERTIFICATE-----|\n/g, '');
      const value = [dev.leaf, dev.intermediate].map(body).join(',');
      for (const v of [value, encodeURIComponent(value)]) {
        const r = expectVerified(readClientCert({ 'x-forwarded-tls-client-cert': v, 'x-forwarded-tls-client-cert-info': 'Subject%3D%22CN%3Ddev-client%22' }, { dialect: 'traefik' }));
        expect(r.certificate.leaf.raw.equals(dev.leaf.raw)).to.equal(true);
        expect(r.certificate.chain).to.have.length(1);
      }
      expect(readClientCert({ 'x-forwarded-tls-client-cert-info': 'x' }, { dialect: 'traefik' }).status).to.equal('unreadable');
    });
  });

  describe('cf (docs/edge-behaviour.md §6, as the edge writes them)', () => {
    const cfHeaders = (verifyCode: number, legacy = false): string[] =>
      clientCertHeaderValues({ leafDer: dev.leaf.raw, chainDer: [dev.leaf.raw, dev.intermediate.raw, dev.root.raw], verifyCode, sessionId: null }, { legacyXfccHeaderMapping: legacy }).flatMap(([n, v]) => [n, v]);

    it('verify 0 is verified; the DNs are those the edge sent', () => {
      const r = expectVerified(readClientCert(cfHeaders(0)));
      expect(r.dialect).to.equal('cf');
      expect(r.certificate.subject).to.equal('/C=DE/O=mtls-edge dev/OU=clients/CN=dev-client');
      expect(r.certificate.issuer).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA');
      expect(r.certificate.root).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA');
      expect(r.certificate.commonName).to.equal('dev-client');
      const legacy = expectVerified(readClientCert(cfHeaders(0, true), { legacyXfccHeaderMapping: true }));
      expect(legacy.certificate.root).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA');
    });

    it('an ignored verify error is unverified with its code and OpenSSL text', () => {
      expect(readClientCert(cfHeaders(10))).to.deep.include({ status: 'unverified', verifyCode: 10, reason: 'verify error 10 (certificate has expired), ignored by the edge' });
    });

    it('no headers: absent; a forged X-SSL-Client without a certificate: unreadable', () => {
      expect(readClientCert({ host: 'x' }).status).to.equal('absent');
      expect(readClientCert({ 'x-ssl-client': '1', 'x-ssl-client-verify': '0' }).status).to.equal('unreadable');
    });
  });

  describe('auto', () => {
    it('detects each dialect, finds none, and refuses to choose between two', () => {
      expect(readClientCert({ 'client-cert': RFC9440_CLIENT_CERT }, { dialect: 'auto' }).dialect).to.equal('rfc9440');
      expect(readClientCert({ 'x-forwarded-client-cert': ENVOY_DOC_EXAMPLES[0] }, { dialect: 'auto' }).dialect).to.equal('envoy');
      expect(readClientCert({ 'x-ssl-client-verify': 'SUCCESS' }, { dialect: 'auto' }).dialect).to.equal('nginx');
      expect(readClientCert({ 'x-forwarded-tls-client-cert': 'x' }, { dialect: 'auto' }).dialect).to.equal('traefik');
      expect(readClientCert({ 'x-ssl-client': '1' }, { dialect: 'auto' }).dialect).to.equal('cf');
      expect(readClientCert({}, { dialect: 'auto' })).to.deep.include({ status: 'absent', dialect: null });
      const both = readClientCert({ 'x-ssl-client': '1', 'client-cert': RFC9440_CLIENT_CERT }, { dialect: 'auto' });
      expect(both).to.deep.include({ status: 'unreadable', reason: 'headers of several dialects (rfc9440, cf): name the dialect of your edge' });
    });
  });

  describe('hostile input', () => {
    it('gives a reason for garbage, oversize values, repeated headers and odd shapes, never an exception', () => {
      const cases: unknown[] = [
        null, undefined, 42, 'x-ssl-client', {}, [], ['x-ssl-client'],
        { 'x-ssl-client': '1', 'x-forwarded-client-cert': 'not base64!' },
        { 'x-ssl-client': '1', 'x-forwarded-client-cert': 'AAAA' },
        { 'x-ssl-client': '1', 'x-forwarded-client-cert': 'A'.repeat(70_000) },
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'X-Forwarded-Client-Cert' : 'AAAA')),
        { 'x-ssl-client': ['1', '1'] },
        JSON.parse('{"__proto__": {"x-ssl-client": "1"}, "x-forwarded-client-cert": 5}'),
        new Headers({ 'client-cert': ':AAAA:' }),
        { get: () => { throw new Error('boom'); } },
      ];
      for (const c of cases) {
        for (const dialect of ['cf', 'envoy', 'rfc9440', 'nginx', 'traefik', 'auto', 'bogus'] as const) {
          const r = readClientCert(c as never, { dialect: dialect as never });
          expect(['absent', 'unreadable', 'unverified'], `${dialect} ${String(c)}`).to.include(r.status);
          expect((r as { reason?: string }).reason).to.be.a('string').and.not.equal('');
        }
      }
    });

    it('is total on arbitrary values of every header it reads (fast-check)', () => {
      const names = ['x-forwarded-client-cert', 'x-ssl-client', 'x-ssl-client-verify', 'x-ssl-client-root-ca-dn', 'client-cert', 'client-cert-chain', 'x-ssl-client-cert', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info'];
      const fragment = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(':', '"', ',', ';', '=', '\\', '%', '%0A', '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', 'Cert=', 'Hash=', 'SUCCESS', 'FAILED:', '1', '0'),
        fc.constant(RFC9440_CLIENT_CERT.slice(1, -1)),
      );
      const value = fc.array(fragment, { maxLength: 12 }).map((a) => a.join(''));
      const raw = fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 8 }).map((pairs) => pairs.flat());
      fc.assert(
        fc.property(raw, fc.constantFrom('cf', 'envoy', 'rfc9440', 'nginx', 'traefik', 'auto') , (headers, dialect) => {
          const r = readClientCert(headers, { dialect });
          return ['verified', 'unverified', 'absent', 'unreadable'].includes(r.status);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
