// max_connections over both listeners and listener_max_connections per listener, on a real edge:
// connections beyond a cap are closed at accept and reported as connection-refused events; once a
// slot frees, a new client is served again.
import { expect } from 'chai';
import type net from 'node:net';
import { clientIdentity, eventually, httpRequest, httpsRequest, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { tcpConnect } from '../support/rawHttp.js';
import type { ConnectionRefusedEvent } from '../../src/observe/events.js';
import { connectionCaps } from '../../src/edge/connectionLimits.js';

/** Resolves true when the edge closes the connection within `ms` without sending anything. */
function closedByEdge(s: net.Socket, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('edge: connection caps (max_connections, listener_max_connections)', function () {
  this.timeout(20_000);
  let t: TestEdge | null = null;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await t?.close();
    t = null;
  });
  const refused = (): ConnectionRefusedEvent[] => t!.events.filter((e): e is ConnectionRefusedEvent => e.kind === 'connection-refused');

  it('total over both listeners: the 5th connection with max_connections 4 is closed at accept, on either listener', async () => {
    t = await startTestEdge({}, 'max_connections: 4\ntimeouts: { request_headers: 10 }\n');
    for (let i = 0; i < 3; i++) sockets.push(await tcpConnect(t.httpsPort));
    sockets.push(await tcpConnect(t.httpPort));
    await new Promise((r) => setTimeout(r, 100)); // let the edge accept all four first
    const over = await tcpConnect(t.httpPort);
    sockets.push(over);
    expect(await closedByEdge(over), 'closed by the edge').to.equal(true);
    expect(refused().map((e) => [e.listener, e.cap, e.limit])).to.deep.equal([['http', 'total', 4]]);
    // A slot frees: a normal client is served again.
    sockets.shift()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(reply.status).to.equal(200);
  });

  it('per listener: listener_max_connections.http 2 refuses the 3rd plain connection while HTTPS still accepts', async () => {
    t = await startTestEdge({}, 'max_connections: 100\nlistener_max_connections: { http: 2 }\ntimeouts: { request_headers: 10 }\n');
    for (let i = 0; i < 2; i++) sockets.push(await tcpConnect(t.httpPort));
    const over = await tcpConnect(t.httpPort);
    sockets.push(over);
    expect(await closedByEdge(over)).to.equal(true);
    await eventually(() => refused().length === 1);
    expect(refused().map((e) => [e.listener, e.cap, e.limit])).to.deep.equal([['http', 'listener', 2]]);
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    expect(reply.status).to.equal(200);
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await httpRequest(t.httpPort, { headers: { host: 'localhost' } })).status).to.equal(200);
  });

  it('one listener: its cap is max_connections, and a refusal names max_connections', async () => {
    t = await startTestEdge({}, 'http_port: false\nmax_connections: 2\ntimeouts: { request_headers: 10 }\n');
    for (let i = 0; i < 2; i++) sockets.push(await tcpConnect(t.httpsPort));
    await new Promise((r) => setTimeout(r, 100));
    const over = await tcpConnect(t.httpsPort);
    sockets.push(over);
    expect(await closedByEdge(over)).to.equal(true);
    await eventually(() => refused().length === 1);
    expect(refused().map((e) => [e.listener, e.cap, e.limit])).to.deep.equal([['https', 'total', 2]]);
  });

  // [max_connections, listener caps, open-files limit] → caps (two descriptors per connection, 128 reserved).
  const caps: [number, { https?: number; http?: number }, number | null, { total: number; https: number; http: number }][] = [
    [10_000, {}, null, { total: 10_000, https: 10_000, http: 10_000 }],
    [10_000, {}, 1_048_576, { total: 10_000, https: 10_000, http: 10_000 }],
    [10_000, {}, 256, { total: 64, https: 64, http: 64 }],
    [10_000, { http: 50 }, 256, { total: 64, https: 64, http: 50 }],
    [10_000, { https: 500 }, 1024, { total: 448, https: 448, http: 448 }],
    [4, {}, 20, { total: 1, https: 1, http: 1 }],
  ];
  for (const [max, own, limit, expected] of caps) {
    it(`caps: max_connections ${max}, listener caps ${JSON.stringify(own)}, open-files limit ${limit} → ${JSON.stringify(expected)}`, () => {
      expect(connectionCaps({ max_connections: max, listener_max_connections: own }, limit)).to.deep.equal(expected);
    });
  }
});
