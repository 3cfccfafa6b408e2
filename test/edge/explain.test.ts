// Explain mode (--explain-rejections) through a real edge: a refused certificate completes the
// handshake only to be told why, as HTML or JSON; the upstream never sees the request.
import { expect } from 'chai';
import { clientIdentity, httpsRequest, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import type { FailureKind } from '../../src/pki/failures.js';
import type { HandshakeRejectedEvent, RequestEvent } from '../../src/observe/events.js';

const CASES: readonly { kind: FailureKind; code: number; name: string; fix: RegExp }[] = [
  { kind: 'expired', code: 10, name: 'X509_V_ERR_CERT_HAS_EXPIRED', fix: /renew/i },
  { kind: 'not-yet-valid', code: 9, name: 'X509_V_ERR_CERT_NOT_YET_VALID', fix: /not valid yet|earlier start/i },
  { kind: 'self-signed', code: 18, name: 'X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT', fix: /self-signed/i },
  { kind: 'untrusted-ca', code: 21, name: 'X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE', fix: /trust list/i },
  { kind: 'missing-intermediate', code: 21, name: 'X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE', fix: /whole chain/i },
  { kind: 'server-auth-only', code: 26, name: 'X509_V_ERR_INVALID_PURPOSE', fix: /clientAuth/ },
];

describe('edge: explain mode', function () {
  this.timeout(60_000);
  let t: TestEdge;
  before(async () => {
    t = await startTestEdge({ explainRejections: true });
  });
  after(async () => t?.close());

  for (const c of CASES) {
    it(`${c.kind}: answers 495 with ${c.code} ${c.name} and the fix, JSON and HTML; the upstream is never called`, async () => {
      const identity = await clientIdentity(c.kind);
      const json = await httpsRequest(t.httpsPort, { identity, headers: { host: 'localhost', accept: 'application/json' }, path: `/explain/${c.kind}` });
      expect(json.status).to.equal(495);
      expect(json.echo?.headers, 'the echo upstream must not answer').to.equal(undefined);
      const body = JSON.parse(json.body) as Record<string, unknown>;
      expect(JSON.stringify(body)).to.include(String(c.code)).and.to.include(c.name);
      expect(JSON.stringify(body)).to.match(c.fix);

      const html = await httpsRequest(t.httpsPort, { identity, headers: { host: 'localhost', accept: 'text/html' } });
      expect(html.status).to.equal(495);
      expect(html.headers['content-type']).to.match(/text\/html/);
      expect(html.body).to.include(c.name);

      const requests = t.events.filter((e): e is RequestEvent => e.kind === 'request' && e.path === `/explain/${c.kind}`);
      expect(requests).to.have.length(1);
      expect(requests[0].upstream, 'no route was taken').to.equal(null);
      expect(requests[0].status).to.equal(495);
      const rejected = t.events.filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected' && e.verify?.code === c.code);
      expect(rejected.length).to.be.greaterThan(0);
      expect(rejected.every((e) => e.explained && e.alert === null)).to.equal(true);
    });
  }

  it('the status line carries the reason phrase (not "unknown")', async () => {
    const r = await httpsRequest(t.httpsPort, { identity: await clientIdentity('expired') });
    expect(r.status).to.equal(495);
    expect(r.statusMessage).to.equal('SSL Certificate Error');
  });

  it('a valid certificate still goes to the upstream', async () => {
    const r = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(r.status).to.equal(200);
    expect(r.echo?.headers).to.be.an('array');
  });
});

describe('edge: explain mode with client_auth required', function () {
  this.timeout(60_000);
  let t: TestEdge;
  before(async () => {
    t = await startTestEdge({ explainRejections: true, clientAuth: 'required' });
  });
  after(async () => t?.close());

  it('no certificate: the handshake completes and the client gets 496 with the reason, not a TLS alert', async () => {
    const r = await httpsRequest(t.httpsPort, { headers: { host: 'localhost', accept: 'application/json' }, path: '/explain/none' });
    expect(r.status).to.equal(496);
    expect(r.statusMessage).to.equal('SSL Certificate Required');
    expect(r.echo?.headers, 'the echo upstream must not answer').to.equal(undefined);
    expect(r.body).to.match(/no client certificate/i);
    const rejected = t.events.filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected' && e.reason === 'no client certificate sent');
    expect(rejected.length).to.be.greaterThan(0);
    expect(rejected.every((e) => e.explained)).to.equal(true);
    // No alert went to the client: the event must not say one did.
    expect(rejected.map((e) => e.alert)).to.deep.equal(rejected.map(() => null));
  });

  it('a valid certificate still goes to the upstream', async () => {
    const r = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(r.status).to.equal(200);
  });
});
