// Hostile review 8: pipelined requests take their turn one at a time (edge.ts track). A request
// waiting for its turn has its body held back by the edge, not by the client: its timeouts.request
// must not expire meanwhile (HAProxy starts `timeout http-request` when it takes the request).
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { connectPlain, requestEvents, stopStarted, waitFor } from '../support/waits.js';

describe('hostile review 8: a pipelined request waiting for its turn', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  let seen: string[] = [];
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  /** An app that answers /slow after 1.5 s, the rest at once, each with the body length it read. */
  async function start(timeouts = 'timeouts: { client: 30, server: 30, request: 1, request_headers: 1 }'): Promise<TestEdge> {
    seen = [];
    up = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => setTimeout(() => res.end(`answer ${req.url} ${n}`), req.url === '/slow' ? 1500 : 0).unref());
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `${timeouts}\nroutes:\n  - upstream: http://127.0.0.1:${port}\n`);
    return t;
  }

  async function pipeline(e: TestEdge, parts: (string | Buffer)[]): Promise<{ text: () => string; socket: net.Socket }> {
    const s = await connectPlain(e.httpPort);
    clients.push(s);
    s.on('error', () => undefined);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    for (const p of parts) s.write(p);
    return { text: () => text, socket: s };
  }

  const H = 'Host: localhost\r\n';
  const bodies: { name: string; head: string; body: Buffer; length: number }[] = [
    { name: 'Content-Length', head: 'Content-Length: 4000000\r\n', body: Buffer.alloc(4_000_000, 97), length: 4_000_000 },
    {
      name: 'chunked',
      head: 'Transfer-Encoding: chunked\r\n',
      body: Buffer.from(`${`10000\r\n${'b'.repeat(0x10000)}\r\n`.repeat(60)}0\r\n\r\n`, 'latin1'),
      length: 60 * 0x10000,
    },
  ];
  for (const b of bodies) {
    it(`a large POST (${b.name}) pipelined behind a 1.5 s answer, timeouts.request 1 s: every answer, in order, no 408`, async () => {
      const e = await start();
      const c = await pipeline(e, [`GET /slow HTTP/1.1\r\n${H}\r\nPOST /post HTTP/1.1\r\n${H}${b.head}\r\n`, b.body, `GET /after HTTP/1.1\r\n${H}\r\n`]);
      expect(await waitFor(() => c.text().includes('answer /after'), 10_000), c.text().slice(0, 200)).to.equal(true);
      const statuses = [...c.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
      const answers = [...c.text().matchAll(/answer (\/\w+ \d+)/g)].map((m) => m[1]);
      expect({ statuses, answers }).to.deep.equal({ statuses: ['200', '200', '200'], answers: ['/slow 0', `/post ${b.length}`, '/after 0'] });
      expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
    });
  }

  it('its deadline runs again from its turn: a body that stalls gets the 408 after the answer before it', async () => {
    const e = await start();
    const c = await pipeline(e, [`GET /slow HTTP/1.1\r\n${H}\r\nPOST /post HTTP/1.1\r\n${H}Content-Length: 4000000\r\n\r\n`, Buffer.alloc(500_000, 97)]);
    expect(await waitFor(() => c.socket.readableEnded, 10_000), 'the edge closed after the 408').to.equal(true);
    const statuses = [...c.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect({ statuses, first: /answer \/slow 0/.test(c.text()) }).to.deep.equal({ statuses: ['200', '408'], first: true });
    expect(seen).to.deep.equal(['GET /slow', 'POST /post']);
    expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
    expect(await waitFor(() => requestEvents(e, '/post').length === 1, 3_000)).to.equal(true);
    expect(requestEvents(e, '/post')[0]?.status).to.equal(408);
  });

  it('an Expect: 100-continue POST pipelined behind a 1.5 s answer, timeouts.client 1 s: not cut while the app is due, both answered (HAProxy 2.6 too)', async () => {
    const e = await start('timeouts: { client: 1, server: 30, request: 30 }');
    const c = await pipeline(e, [`GET /slow HTTP/1.1\r\n${H}\r\nPOST /e HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`]);
    // The client sends its body once it has the 100, as curl does.
    expect(await waitFor(() => c.text().includes('100 Continue') || c.socket.readableEnded, 5_000), 'a 100 Continue').to.equal(true);
    c.socket.write('hello');
    expect(await waitFor(() => c.text().includes('answer /e'), 5_000), c.text().slice(0, 200)).to.equal(true);
    const statuses = [...c.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect({ statuses, seen }).to.deep.equal({ statuses: ['200', '100', '200'], seen: ['GET /slow', 'POST /e'] });
    expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
  });
});
