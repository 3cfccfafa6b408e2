// A request body dripped one byte a second: every byte arrives well inside the client (idle)
// timeout, so only a whole-request deadline can end it. timeouts.request (default: the client
// timeout) answers 408 and closes the connection, on both listeners, and the upstream never sees a
// complete body.
import { expect } from 'chai';
import type net from 'node:net';
import { clientIdentity, eventually, httpsRequest, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { recordingUpstream, type RecordingUpstream } from './recordingUpstream.js';

const REQUEST_TIMEOUT_S = 2;

describe('hostile: a request body dripped one byte per second', function () {
  this.timeout(30_000);
  let up: RecordingUpstream;
  let t: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    up = await recordingUpstream();
    // client (idle) timeout 5 s: far longer than the 1 s between drips, so it never fires.
    t = await startTestEdge({}, `timeouts: { request_headers: 1, client: 5, request: ${REQUEST_TIMEOUT_S} }\nroutes:\n  - upstream: http://127.0.0.1:${up.port}\n`);
  });
  after(async () => {
    await t?.close();
    await up?.close();
  });

  for (const listener of ['tls', 'tcp'] as const) {
    it(`${listener}: 408 and close by timeouts.request (${REQUEST_TIMEOUT_S} s), nothing complete upstream`, async () => {
      const socket: net.Socket = listener === 'tls' ? await tlsConnect(t.httpsPort, { identity: valid }) : await tcpConnect(t.httpPort);
      const path = `/drip-${listener}`;
      const started = Date.now();
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write('x');
      }, 1000);
      try {
        const reader = new ResponseReader(socket);
        socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nx`);
        const response = await reader.next(REQUEST_TIMEOUT_S * 1000 + 3000);
        const answeredAfter = Date.now() - started;
        expect(response.status).to.equal(408);
        await reader.untilClosed(3000);
        expect(reader.closed, 'the edge closed the connection').to.equal(true);
        // Bounded from above only (the drip itself proves the idle timeout alone would not fire).
        expect(answeredAfter, 'answered within the request timeout plus the 1 s check interval').to.be.below(REQUEST_TIMEOUT_S * 1000 + 1500);
        const rec = up.seen.filter((r) => r.url === path).at(-1);
        if (rec) expect(rec.complete, 'the upstream never got a complete body').to.equal(false);
        // The log and access log say what the client got, not the upstream abort it caused.
        await eventually(() => t.events.some((e) => e.kind === 'request' && e.path === path));
        const logged = t.events.find((e) => e.kind === 'request' && e.path === path);
        expect(logged?.kind === 'request' ? [logged.status, logged.error] : null).to.deep.equal([408, 'request not complete within timeouts.request']);
      } finally {
        clearInterval(drip);
        socket.destroy();
      }
      const after = await httpsRequest(t.httpsPort, { identity: valid });
      expect(after.status).to.equal(200);
    });
  }
});
