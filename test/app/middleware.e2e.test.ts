// End to end: real TLS clients → the edge (real handshakes on loopback) → a tiny app that uses
// requireClientCert and answers with what req.clientCert holds. The certificate the app reads must be
// the one the client presented; refusals come from the middleware with their status and reason.
// The cf dialect runs here; the other dialects join when the edge can write them (issue 22).
import { expect } from 'chai';
import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { requireClientCert, type RequestWithClientCert, type RequireClientCertOptions } from '../../src/app/index.js';
import { clientIdentity, httpRequest, httpsRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

/** An app behind the edge: the middleware, then a handler that reports what it attached. */
async function startApp(options: RequireClientCertOptions): Promise<LoopbackServer> {
  const guard = requireClientCert(options);
  const server = http.createServer((req, res) => {
    guard(req, res, (err) => {
      if (err) {
        res.writeHead(500).end();
        return;
      }
      const r = (req as RequestWithClientCert).clientCert;
      const body = JSON.stringify(r.status === 'verified' ? { status: r.status, fingerprint256: r.certificate.leaf.fingerprint256, subject: r.certificate.subject, root: r.certificate.root } : { status: r.status });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  return listenOnLoopback(server);
}

describe('app reader: requireClientCert behind the edge (real TLS)', function () {
  this.timeout(60_000);
  const started: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of started.splice(0).reverse()) await s.close();
  });
  async function edgeAndApp(options: RequireClientCertOptions, overrides: Record<string, unknown> = {}): Promise<TestEdge> {
    const app = await startApp(options);
    started.push(app);
    const edge = await startTestEdge({ upstream: `http://127.0.0.1:${app.port}`, ...overrides });
    started.push(edge);
    return edge;
  }

  it('lets the dev client through, and the app reads exactly the certificate it presented', async () => {
    const { pki } = await testPki();
    const presented = new X509Certificate(readFileSync(pki.client.cert));
    const t = await edgeAndApp({ dialect: 'cf', allow: { issuers: ['/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA'], subjects: [/\/CN=dev-client$/] } });
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(reply.status, reply.body).to.equal(200);
    expect(JSON.parse(reply.body)).to.deep.equal({
      status: 'verified',
      fingerprint256: presented.fingerprint256,
      subject: '/C=DE/O=mtls-edge dev/OU=clients/CN=dev-client',
      root: '/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA',
    });
  });

  it('401 without a certificate, also when the client forges the headers (the edge removes them)', async () => {
    const t = await edgeAndApp({});
    const none = await httpsRequest(t.httpsPort);
    expect([none.status, none.body]).to.deep.equal([401, 'a client certificate is required\n']);
    const { pki } = await testPki();
    const stolen = new X509Certificate(readFileSync(pki.client.cert)).raw.toString('base64');
    const forged = await httpsRequest(t.httpsPort, { headers: { host: 'localhost', 'X-SSL-Client': '1', 'X-SSL-Client-Verify': '0', 'X-Forwarded-Client-Cert': stolen } });
    expect(forged.status).to.equal(401);
  });

  it('the plain-HTTP listener forwards forged headers as sent: why the app must only be reachable through the HTTPS listener', async () => {
    const { pki } = await testPki();
    const stolen = new X509Certificate(readFileSync(pki.client.cert)).raw.toString('base64');
    const t = await edgeAndApp({});
    const forged = await httpRequest(t.httpPort, { headers: { host: 'localhost', 'X-SSL-Client': '1', 'X-SSL-Client-Verify': '0', 'X-Forwarded-Client-Cert': stolen } });
    expect(forged.status).to.equal(200);
    expect(JSON.parse(forged.body)).to.include({ status: 'verified' });
  });

  it('403 for a certificate whose verify error the edge ignored, with the code in the reason', async () => {
    const t = await edgeAndApp({}, { ignoreErrors: '10' });
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('expired') });
    expect([reply.status, reply.body]).to.deep.equal([403, 'the client certificate is not verified: verify error 10 (certificate has expired), ignored by the edge\n']);
  });

  it('403 for a verified certificate that is not on the allow-list', async () => {
    const t = await edgeAndApp({ allow: { subjects: ['someone-else'] } });
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect([reply.status, reply.body]).to.deep.equal([403, 'the client certificate subject is not allowed\n']);
    const bySan = await edgeAndApp({ allow: { sans: ['client.example'] } });
    expect((await httpsRequest(bySan.httpsPort, { identity: await clientIdentity('valid') })).status).to.equal(403);
  });
});
