import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newContext } from '../../src/edge/pipeline.js';
import { proxyRequest, upstreamErrorStatus, type ProxyResult } from '../../src/edge/proxy.js';
import type { Pool } from 'undici';

// A dispatcher that throws instead of calling back: undici never should, but if a defect (or an
// upgrade) makes it, the request the edge already accepted must still be answered.
const throwingDispatcher = {
  dispatch(): boolean {
    throw new TypeError('dispatcher defect');
  },
} as unknown as Pick<Pool, 'dispatch'>;

describe('edge: the upstream hop answers an accepted request even when the dispatcher throws', () => {
  let server: Server;
  const results: ProxyResult[] = [];
  before(async () => {
    server = createServer((req, res) => {
      proxyRequest(newContext(req, res, 'http'), throwingDispatcher, [], 15_000, (r) => results.push(r));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => new Promise<void>((r) => server.close(() => r())));

  it('sends the 502 page and reports the error', async () => {
    const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { signal: AbortSignal.timeout(5_000) });
    expect(reply.status).to.equal(502);
    expect(await reply.text()).to.match(/502/);
    expect(results).to.have.length(1);
    expect(results[0]).to.deep.include({ status: 502 });
    expect(results[0]!.error).to.contain('dispatcher defect');
  });
});

// undici's error code → the status HAProxy answers: 503 when no connection to a server could be made
// (refused, unknown host, connect timeout, no descriptor for the socket), 504 on timeouts after it, else 502.
const UPSTREAM_STATUS: [string | undefined, number][] = [
  ['ECONNREFUSED', 503],
  ['ENOTFOUND', 503],
  ['EHOSTUNREACH', 503],
  ['UND_ERR_CONNECT_TIMEOUT', 503],
  ['EMFILE', 503],
  ['ENFILE', 503],
  ['UND_ERR_HEADERS_TIMEOUT', 504],
  ['UND_ERR_BODY_TIMEOUT', 504],
  ['ECONNRESET', 502],
  ['UND_ERR_SOCKET', 502],
  [undefined, 502],
];
describe('edge: upstream failures map to HAProxy statuses', () => {
  for (const [code, status] of UPSTREAM_STATUS) {
    it(`${code ?? 'no code'} → ${status}`, () => {
      expect(upstreamErrorStatus(Object.assign(new Error('x'), code === undefined ? {} : { code }))).to.equal(status);
    });
  }
});
