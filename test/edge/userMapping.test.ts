// certificate_user_mappings: the access log shows the mapped user in place of CN@CN, as Cloud
// Integration's log shows the user a certificate is mapped to.
import { expect } from 'chai';
import { formatCpiLine } from '../../src/observe/accessLog.js';
import type { RequestEvent } from '../../src/observe/events.js';
import { clientIdentity, httpsRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';

describe('edge: certificate-to-user mappings', function () {
  this.timeout(60_000);
  let t: TestEdge;
  before(async () => {
    const { pki } = await testPki();
    t = await startTestEdge({}, ['certificate_user_mappings:', `  - user: alice@example.com`, `    certificate: ${pki.client.cert}`, '  - user: TECH_USER', '    subject_cn: first-cn', ''].join('\n'));
  });
  after(async () => t?.close());

  const lastRequest = (path: string): RequestEvent => {
    const e = t.events.filter((x): x is RequestEvent => x.kind === 'request' && x.path === path).pop();
    if (!e) throw new Error(`no request event for ${path}`);
    return e;
  };

  it('maps the exact certificate to its user, and the access log shows the user', async () => {
    const r = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid'), path: '/mapped' });
    expect(r.status).to.equal(200);
    const e = lastRequest('/mapped');
    expect(e.mappedUser).to.equal('alice@example.com');
    expect(formatCpiLine(e)).to.match(/^127\.0\.0\.1 - alice@example\.com \[/);
  });

  it('maps by subject CN (the first CN in DER order)', async () => {
    await httpsRequest(t.httpsPort, { identity: await clientIdentity('two-cns'), path: '/by-cn' });
    expect(lastRequest('/by-cn').mappedUser).to.equal('TECH_USER');
  });

  it('leaves an unmapped certificate as CN@issuer CN, and no certificate as -', async () => {
    await httpsRequest(t.httpsPort, { identity: await clientIdentity('utf8-subject'), path: '/unmapped' });
    const e = lastRequest('/unmapped');
    expect(e.mappedUser).to.equal(null);
    expect(formatCpiLine(e)).to.match(/ - \S.*@mtls-edge Dev Intermediate CA \[/);
    await httpsRequest(t.httpsPort, { path: '/anonymous' });
    expect(formatCpiLine(lastRequest('/anonymous'))).to.match(/^127\.0\.0\.1 - - \[/);
  });
});
