// The optional Gorouter layer (docs/edge-behaviour.md §7.2): X-Request-Start only if absent, a fresh X-Vcap-Request-Id
// every time, and the X-CF instance headers a client must not choose are stripped.
import { expect } from 'chai';
import { httpsRequest, received, startTestEdge, type TestEdge } from '../support/edgeHarness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('edge: Gorouter headers (gorouter.enabled)', function () {
  this.timeout(60_000);
  let on: TestEdge;
  let off: TestEdge;
  before(async () => {
    on = await startTestEdge({}, 'gorouter: { enabled: true }\n');
    off = await startTestEdge();
  });
  after(async () => {
    await on?.close();
    await off?.close();
  });

  const spoofed: [string, string][] = [
    ['Host', 'localhost'],
    ['X-CF-ApplicationID', 'forged-app'],
    ['x-cf-instanceindex', '7'],
    ['X-CF-InstanceID', 'forged-instance'],
    ['X-Vcap-Request-Id', 'forged-id'],
  ];

  it('strips the instance headers, replaces the request ID and adds X-Request-Start', async () => {
    const before = Date.now();
    const r = await httpsRequest(on.httpsPort, { headers: spoofed });
    for (const h of ['X-CF-ApplicationID', 'X-CF-InstanceIndex', 'X-CF-InstanceID']) expect(received(r, h), h).to.deep.equal([]);
    const ids = received(r, 'X-Vcap-Request-Id');
    expect(ids).to.have.length(1);
    expect(ids[0]).to.match(UUID);
    const start = Number(received(r, 'X-Request-Start')[0]);
    expect(start).to.be.within(before - 1000, Date.now());
  });

  it('keeps a client X-Request-Start, and gives every request its own ID', async () => {
    const a = await httpsRequest(on.httpsPort, { headers: [['Host', 'localhost'], ['X-Request-Start', '12345']] });
    const b = await httpsRequest(on.httpsPort, { headers: [['Host', 'localhost']] });
    expect(received(a, 'X-Request-Start')).to.deep.equal(['12345']);
    expect(received(a, 'X-Vcap-Request-Id')[0]).to.not.equal(received(b, 'X-Vcap-Request-Id')[0]);
  });

  it('does nothing of this when disabled (the default)', async () => {
    const r = await httpsRequest(off.httpsPort, { headers: spoofed });
    expect(received(r, 'X-CF-ApplicationID')).to.deep.equal(['forged-app']);
    expect(received(r, 'X-Vcap-Request-Id')).to.deep.equal(['forged-id']);
    expect(received(r, 'X-Request-Start')).to.deep.equal([]);
  });
});
