// Findings of the review of f4987ea..06661c8 (/work/tmp/review-final.md), each failing on main when
// written: they pin fixes still to be made.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { loadConfig } from '../../src/config/load.js';
import { stopStarted, waitFor } from '../support/waits.js';

describe('review final: in-flight accounting of a pipelined request, MTLS_EDGE_BIND values', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  // The upstream answers the POST before reading its body (as many apps answer 401/413 early):
  // undici then destroys the body stream, the edge's request, without an error. Its 'close' has
  // passed with req.errored null, so when the client resets later nothing ends the queued response.
  it('a pipelined POST answered before its body was read, then a reset: no longer in flight', async () => {
    up = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 800).unref();
      else res.end('early');
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `routes:\n  - { host: "*", path: /, upstream: "http://127.0.0.1:${port}" }\n`);
    const s = net.connect({ host: '127.0.0.1', port: t.httpPort });
    clients.push(s);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc');
    expect(await waitFor(() => t!.edge.inFlight() === 2, 3000), 'both in flight').to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    s.resetAndDestroy();
    expect(await waitFor(() => t!.edge.inFlight() === 0, 4000), `in flight 4 s after the reset: ${t.edge.inFlight()}`).to.equal(true);
  });

  // The same value in a file is refused at listen time with the file to blame; from the
  // environment the error names neither the variable nor its odd value's whitespace.
  it('MTLS_EDGE_BIND with surrounding whitespace is a configuration error that names the variable', async () => {
    const { dir } = await testPki();
    let message = '';
    try {
      const loaded = await loadConfig({ overrides: { pkiDir: dir }, env: { MTLS_EDGE_BIND: ' 0.0.0.0 ' } });
      message = `accepted: ${JSON.stringify(loaded.config.bind)}`;
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/MTLS_EDGE_BIND/);
  });
});
