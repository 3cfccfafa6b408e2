import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { clientIdentity, httpsRequest, received, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';

describe('edge: zero-config defaults (dev PKI, echo upstream, sanitize_set)', function () {
  this.timeout(60_000);
  let t: TestEdge;
  before(async () => {
    t = await startTestEdge();
  });
  after(async () => t?.close());

  it('forwards a verified client certificate as the ten headers', async () => {
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(reply.status).to.equal(200);
    expect(received(reply, 'X-SSL-Client')).to.deep.equal(['1']);
    expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    expect(received(reply, 'X-SSL-Client-Session-ID')[0]).to.match(/^[0-9A-F]{64}$/);
  });

  it('a CONNECT reaches the built-in echo, which answers 405 with what it received (the ten headers set)', async () => {
    const identity = await clientIdentity('valid');
    const ca = readFileSync((await testPki()).pki.rootCa.cert);
    const text = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: t.httpsPort, servername: 'localhost', ca, cert: identity.cert, key: identity.key }, () => {
        s.write('CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\nX-Forwarded-Client-Cert: forged\r\n\r\n');
      });
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('end', () => resolve(got));
      s.on('error', reject);
      setTimeout(() => {
        s.destroy();
        resolve(got);
      }, 5_000).unref();
    });
    expect(text).to.match(/^HTTP\/1\.1 405 /);
    const echo = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { method: string; path: string; headers: [string, string][] };
    expect({ method: echo.method, path: echo.path }).to.deep.equal({ method: 'CONNECT', path: 'localhost:443' });
    const values = (name: string): string[] => echo.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    expect(values('x-ssl-client-verify')).to.deep.equal(['0']);
    expect(values('x-forwarded-client-cert')).to.have.length(1);
    expect(values('x-forwarded-client-cert')[0]).to.not.equal('forged');
  });
});
