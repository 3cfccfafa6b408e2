// A client that half-closes after its request (a FIN: `printf … | nc -N`, a script that closes its
// sending side, TLS close_notify) still gets the answer, then the edge closes the connection: what
// HAProxy 2.6 does (checked on loopback: plain and TLS, fast and slow app, both answered). A client
// that resets is gone, and its upstream request is cancelled (clientAbort.test.ts).
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { tlsConnect } from '../support/rawHttp.js';
import { connectPlain, requestEvents, waitFor } from '../support/waits.js';

/** Sends `bytes` and its FIN, then reads until the edge ends the connection (at most `ms`). */
function sendAndHalfClose(s: net.Socket, bytes: string, ms = 5_000): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, ended: false });
    }, ms);
    s.once('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, ended: true });
    });
    s.on('error', () => undefined);
    s.end(bytes);
  });
}

// Not anchored to a line start: a pipelined answer follows the previous body directly.
const statusLines = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3}[^\r]*/g) ?? [];

describe('hostile: a client that half-closes after its request gets the answer (HAProxy)', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let app: { port: number; close: () => Promise<void> };
  let valid: ClientIdentity;

  before(async () => {
    valid = await clientIdentity('valid');
    const server = http.createServer((req, res) => {
      req.resume();
      const delay = req.url === '/slow' ? 300 : 0;
      setTimeout(() => res.end(`app saw ${req.url}`), delay).unref();
    });
    const { port, close } = await listenOnLoopback(server);
    app = { port, close: async () => { server.closeAllConnections(); await close(); } };
    t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
  });
  after(async () => {
    await t?.close();
    await app?.close();
  });
  afterEach(async () => {
    expect(await waitFor(() => t.edge.inFlight() === 0, 5_000), `in flight: ${t.edge.inFlight()}`).to.equal(true);
    t.events.length = 0;
  });

  const listeners: { name: string; connect: () => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: () => connectPlain(t.httpPort) },
    { name: 'mTLS', connect: () => tlsConnect(t.httpsPort, { identity: valid }) },
  ];
  const cases: { name: string; bytes: string; answers: string[] }[] = [
    { name: 'one request', bytes: 'GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n', answers: ['app saw /one'] },
    { name: 'a request the app answers after 300 ms', bytes: 'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n', answers: ['app saw /slow'] },
    { name: 'an HTTP/1.0 request', bytes: 'GET /ten HTTP/1.0\r\nHost: localhost\r\n\r\n', answers: ['app saw /ten'] },
    { name: 'two pipelined requests', bytes: 'GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n', answers: ['app saw /a', 'app saw /slow'] },
  ];
  for (const l of listeners) {
    for (const c of cases) {
      it(`${l.name}: ${c.name} then FIN → every answer, then the edge closes`, async () => {
        const r = await sendAndHalfClose(await l.connect(), c.bytes);
        expect(r.ended, `the edge closed the connection after answering (got ${JSON.stringify(r.text.slice(0, 120))})`).to.equal(true);
        expect(statusLines(r.text)).to.deep.equal(c.answers.map(() => 'HTTP/1.1 200 OK'));
        let at = 0;
        for (const a of c.answers) {
          const i = r.text.indexOf(a, at);
          expect(i, `"${a}" in order`).to.be.above(at - 1);
          at = i + a.length;
        }
        for (const path of c.answers.map((a) => a.slice('app saw '.length))) {
          expect(await waitFor(() => requestEvents(t, path).length === 1, 2_000)).to.equal(true);
          expect(requestEvents(t, path)[0]!.status).to.equal(200);
          expect(requestEvents(t, path)[0]!.error).to.equal(null);
        }
      });
    }
    it(`${l.name}: FIN on an idle keep-alive connection → the edge closes it at once`, async () => {
      const s = await l.connect();
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.write('GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await waitFor(() => text.includes('app saw /first'), 3_000)).to.equal(true);
      const r = await sendAndHalfClose(s, '', 2_000);
      expect(r.ended, 'closed after the FIN').to.equal(true);
    });
  }
});
