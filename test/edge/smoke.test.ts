import { expect } from 'chai';
import { clientIdentity, httpsRequest, received, startTestEdge, type TestEdge } from '../support/edgeHarness.js';

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
});
