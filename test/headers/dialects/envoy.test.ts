// The envoy dialect's XFCC text against the examples in Envoy's documentation
// (docs/root/configuration/http/http_conn_man/headers.rst, "x-forwarded-client-cert",
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert),
// copied literally, and the field rules of mutateXfccRequestHeader (source/common/http/conn_manager_utility.cc).
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendXfcc, envoyElement, urlEncodedPem, xfccElementText } from '../../../src/headers/dialects/envoy.js';
import { applyDialect, dialectWriter } from '../../../src/headers/dialects/dialects.js';
import { testPki } from '../../support/edgeHarness.js';

// Envoy docs, "Some examples of the XFCC header are", items 1 to 3.
const DOC_EXAMPLE_1 =
  'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com';
const DOC_EXAMPLE_2 =
  'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com';
const DOC_EXAMPLE_3 =
  'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com';

const HASH_1 = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
const SUBJECT = '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client';

describe('headers/dialects/envoy: XFCC elements', () => {
  it('docs example 1: one certificate with a URI SAN', () => {
    expect(xfccElementText({ by: ['http://frontend.lyft.com'], hash: HASH_1, subject: SUBJECT, uri: ['http://testclient.lyft.com'] })).to.equal(DOC_EXAMPLE_1);
  });

  it('docs example 2: APPEND_FORWARD puts the second proxy\'s element after a ","', () => {
    const first = xfccElementText({ by: ['http://frontend.lyft.com'], hash: HASH_1, uri: ['http://testclient.lyft.com'] });
    const second = xfccElementText({ by: ['http://backend.lyft.com'], hash: '9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e', uri: ['http://frontend.lyft.com'] });
    expect(appendXfcc([first], second)).to.equal(DOC_EXAMPLE_2);
  });

  it('docs example 3: URI and DNS SANs, one DNS= pair each', () => {
    expect(xfccElementText({ by: ['http://frontend.lyft.com'], hash: HASH_1, subject: SUBJECT, uri: ['http://testclient.lyft.com'], dns: ['lyft.com', 'www.lyft.com'] })).to.equal(DOC_EXAMPLE_3);
  });

  it('field order By, Hash, Cert, Chain, Subject, URI, DNS; "URI=" stays without a URI SAN; Subject is quoted even when empty', () => {
    expect(xfccElementText({ by: ['spiffe://a', 'spiffe://b'], hash: 'ab', cert: 'C', chain: 'CH', subject: '', uri: [], dns: ['x'] })).to.equal('By=spiffe://a;By=spiffe://b;Hash=ab;Cert="C";Chain="CH";Subject="";URI=;DNS=x');
  });

  it('append: repeated client copies are joined with ",", empty ones skipped; no client copy → the element alone', () => {
    expect(appendXfcc(['a', '', 'b'], 'c')).to.equal('a,b,c');
    expect(appendXfcc([], 'c')).to.equal('c');
  });

  it('Cert is the URL-encoded PEM (%20 %0A %2B %2F %3D, as Envoy writes it); Hash the lower-case SHA-256 of the DER', async () => {
    const { pki } = await testPki();
    const leaf = new X509Certificate(readFileSync(pki.client.cert));
    const e = envoyElement({ leaf, chain: [leaf], verifyCode: 0 }, { details: new Set(['cert', 'subject', 'uri', 'dns']), by: [] });
    expect(e.cert).to.match(/^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+%0A-----END%20CERTIFICATE-----%0A$/);
    expect(decodeURIComponent(e.cert!)).to.equal(leaf.toString());
    expect(e.hash).to.equal(leaf.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(urlEncodedPem([leaf, leaf])).to.equal(e.cert! + e.cert!);
    expect(e.subject).to.match(/^CN=/);
    expect(e.chain).to.equal(undefined);
  });

  it('applyDialect, envoy: kept copies joined into the first one\'s place (empty ones skipped); a set value takes that place', async () => {
    const { pki } = await testPki();
    const settings = { envoy: { forwardClientCertDetails: 'always_forward_only' as const, setCurrentClientCertDetails: [] }, rfc9440: { chain: true }, traefik: { forwardedHeaders: 'untrusted' as const, pem: true, info: true } };
    const w = dialectWriter('envoy', settings, new X509Certificate(readFileSync(pki.server.cert)))!;
    const raw = ['Host', 'h', 'x-forwarded-client-cert', '', 'A', '1', 'X-Forwarded-Client-Cert', 'a', 'X-FORWARDED-CLIENT-CERT', 'b'];
    expect(applyDialect(raw, w, 'keep', []).headers).to.deep.equal(['Host', 'h', 'x-forwarded-client-cert', 'a,b', 'A', '1']);
    expect(applyDialect(raw, w, 'set', [['X-Forwarded-Client-Cert', 'Hash=1']]).headers).to.deep.equal(['Host', 'h', 'x-forwarded-client-cert', 'Hash=1', 'A', '1']);
    expect(applyDialect(raw, w, 'append', [['X-Forwarded-Client-Cert', 'Hash=1']]).headers).to.deep.equal(['Host', 'h', 'x-forwarded-client-cert', 'a,b,Hash=1', 'A', '1']);
    expect(applyDialect(raw, w, 'remove', []).headers).to.deep.equal(['Host', 'h', 'A', '1']);
    expect(applyDialect(['Host', 'h'], w, 'set', [['X-Forwarded-Client-Cert', 'Hash=1']]).headers).to.deep.equal(['Host', 'h', 'X-Forwarded-Client-Cert', 'Hash=1']);
  });
});
