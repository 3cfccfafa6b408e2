// A parser error on a connection that still owes answers (src/edge/connectionEnding.ts): the
// client's FIN inside its next request, or a malformed request pipelined behind a slow one. The
// complete requests are answered in order and their upstream requests run to the end; then HAProxy's
// 400 page for a cut or malformed head, nothing for a body cut by the FIN, and the close
// (test/parity/finAfterPipelined.test.ts has HAProxy's side). Before, the edge closed at once:
// nothing sent, the app's request cancelled.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { rawErrorResponse } from '../../src/edge/errorPages.js';
import { clientIdentity, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { resetConnection, tlsConnect } from '../support/rawHttp.js';
import { connectPlain, requestEvents, waitFor } from '../support/waits.js';

const H = 'Host: localhost\r\n';
const PAGE_400 = rawErrorResponse(400);
/** The app's delay on /slow: the rest of the bytes and the FIN arrive well before its answer. */
const SLOW_MS = 300;

/** What the app saw of a path: its request complete, its answer sent whole (false: cancelled). */
interface AppSaw {
  complete: boolean;
  answered: boolean;
  cancelled: boolean;
}

/** Reads everything until the edge closes the connection (at most `ms`); `closed` false on the deadline. */
function readAll(s: net.Socket, ms = 5_000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

/** A 200 answer of the test app: its head as the edge writes it is not this test's business. */
const answerOf = (path: string): RegExp => new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*?\\r\\n\\r\\napp saw ${path.replace(/[?]/g, '\\?')}`);

/** Splits what the client read into the app's answers (by their bodies) and what follows the last. */
function splitAnswers(text: string, paths: readonly string[]): { answered: string[]; rest: string } {
  const answered: string[] = [];
  let rest = text;
  for (const p of paths) {
    const m = answerOf(p).exec(rest);
    if (!m) break;
    answered.push(p);
    rest = rest.slice(m[0].length);
  }
  return { answered, rest };
}

describe('hostile: a FIN or a malformed request behind complete pipelined requests', function () {
  this.timeout(30_000);
  let t: TestEdge;
  let app: { port: number; close: () => Promise<void> };
  const saw = new Map<string, AppSaw>();
  let valid: ClientIdentity;
  const clients: net.Socket[] = [];

  before(async () => {
    valid = await clientIdentity('valid');
    const server = http.createServer((req, res) => {
      const rec: AppSaw = { complete: false, answered: false, cancelled: false };
      saw.set(req.url ?? '', rec);
      res.on('finish', () => (rec.answered = true));
      res.on('close', () => (rec.cancelled = !rec.answered));
      req.resume();
      req.on('end', () => {
        rec.complete = true;
        setTimeout(() => res.end(`app saw ${req.url}`), req.url?.startsWith('/slow') ? SLOW_MS : 0).unref();
      });
    });
    server.on('clientError', (_e, s) => s.destroy());
    const listening = await listenOnLoopback(server);
    app = { port: listening.port, close: async () => { server.closeAllConnections(); await listening.close(); } };
    t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t?.close();
    await app?.close();
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    clients.length = 0;
    expect(await waitFor(() => t.edge.inFlight() === 0, 5_000), `in flight: ${t.edge.inFlight()}`).to.equal(true);
    t.events.length = 0;
  });

  const listeners: { name: string; connect: () => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: () => connectPlain(t.httpPort) },
    { name: 'mTLS', connect: () => tlsConnect(t.httpsPort, { identity: valid }) },
  ];
  const connect = async (l: (typeof listeners)[number]): Promise<net.Socket> => {
    const s = await l.connect();
    clients.push(s);
    return s;
  };

  /** The app saw `path` complete and sent its answer whole; the edge logged it 200 without error. */
  async function answeredWhole(path: string): Promise<void> {
    expect(await waitFor(() => saw.get(path)?.answered === true, 2_000), `the app answered ${path}`).to.equal(true);
    expect(saw.get(path)?.cancelled, `${path} not cancelled`).to.equal(false);
    expect(await waitFor(() => requestEvents(t, path).some((e) => e.status === 200 && e.error === null), 2_000), `a 200 request event for ${path}`).to.equal(true);
  }

  for (const l of listeners) {
    const id = l.name === 'mTLS' ? 'tls' : 'plain';

    it(`${l.name}: a slow request, a cut head, FIN → the 200, HAProxy's 400 page, the close; the app's request runs to its end`, async () => {
      const s = await connect(l);
      const read = readAll(s);
      s.end(`GET /slow?a-${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo`);
      const r = await read;
      expect(r.closed, 'the edge closed the connection').to.equal(true);
      const { answered, rest } = splitAnswers(r.text, [`/slow?a-${id}`]);
      expect(answered, JSON.stringify(r.text.slice(0, 200))).to.deep.equal([`/slow?a-${id}`]);
      expect(rest).to.equal(PAGE_400);
      await answeredWhole(`/slow?a-${id}`);
    });

    it(`${l.name}: a slow request, a body cut by the FIN → the 200 and the close, nothing more; the cut request never reaches the app`, async () => {
      const s = await connect(l);
      const read = readAll(s);
      s.end(`GET /slow?b-${id} HTTP/1.1\r\n${H}\r\nPOST /cut?b-${id} HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`);
      const r = await read;
      expect(r.closed).to.equal(true);
      const { answered, rest } = splitAnswers(r.text, [`/slow?b-${id}`]);
      expect(answered).to.deep.equal([`/slow?b-${id}`]);
      expect(rest).to.equal('');
      await answeredWhole(`/slow?b-${id}`);
      expect(saw.has(`/cut?b-${id}`), 'the cut request at the app').to.equal(false);
    });

    it(`${l.name}: slow and fast requests, then a chunked body cut by the FIN → both answers in order, the close; the cut request never reaches the app`, async () => {
      const s = await connect(l);
      const read = readAll(s);
      s.end(`GET /slow?c-${id} HTTP/1.1\r\n${H}\r\nGET /fast?c-${id} HTTP/1.1\r\n${H}\r\nPOST /cut?c-${id} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nab`);
      const r = await read;
      expect(r.closed).to.equal(true);
      const { answered, rest } = splitAnswers(r.text, [`/slow?c-${id}`, `/fast?c-${id}`]);
      expect(answered).to.deep.equal([`/slow?c-${id}`, `/fast?c-${id}`]);
      expect(rest).to.equal('');
      await answeredWhole(`/slow?c-${id}`);
      await answeredWhole(`/fast?c-${id}`);
      expect(saw.has(`/cut?c-${id}`)).to.equal(false);
    });

    it(`${l.name}: a malformed head behind a slow request, no FIN, then more bytes → the 200, one 400 page, the close`, async () => {
      const s = await connect(l);
      const read = readAll(s);
      s.write(`GET /slow?d-${id} HTTP/1.1\r\n${H}\r\nGET /bad HTTP/1.1\r\nHo st: x\r\n\r\n`);
      // The same bad bytes again while the answer is owed: still one page.
      await new Promise((r) => setTimeout(r, 50));
      if (!s.destroyed) s.write('GET /bad HTTP/1.1\r\nHo st: x\r\n\r\n'.repeat(100));
      const r = await read;
      expect(r.closed).to.equal(true);
      const { answered, rest } = splitAnswers(r.text, [`/slow?d-${id}`]);
      expect(answered).to.deep.equal([`/slow?d-${id}`]);
      expect(rest).to.equal(PAGE_400);
      await answeredWhole(`/slow?d-${id}`);
      expect(saw.has('/bad')).to.equal(false);
    });

    it(`${l.name}: a cut head and FIN, then a reset before the answer → nothing left in flight, the edge serves on`, async () => {
      const s = await connect(l);
      s.on('error', () => undefined);
      s.end(`GET /slow?e-${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo`);
      expect(await waitFor(() => saw.has(`/slow?e-${id}`), 2_000), 'the app has the request').to.equal(true);
      // The edge read the FIN: as for any half-closed client, the reset is noticed when the answer is written.
      resetConnection(s);
      expect(await waitFor(() => requestEvents(t, `/slow?e-${id}`).length === 1, 3_000), 'the request event').to.equal(true);
      const again = await connect(l);
      const read = readAll(again);
      again.end(`GET /fast?e-${id} HTTP/1.1\r\n${H}\r\n`);
      expect(splitAnswers((await read).text, [`/fast?e-${id}`]).answered).to.deep.equal([`/fast?e-${id}`]);
    });
  }
});

describe('hostile: after the ending, a client that neither closes nor sends its FIN', function () {
  this.timeout(20_000);
  let t: TestEdge;
  let app: { port: number; close: () => Promise<void> };
  const clients: net.Socket[] = [];
  before(async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end(`app saw ${req.url}`), req.url === '/slow' ? SLOW_MS : 0).unref());
    });
    const listening = await listenOnLoopback(server);
    app = { port: listening.port, close: async () => { server.closeAllConnections(); await listening.close(); } };
    t = await startTestEdge({}, `timeouts: { client: 2, request_headers: 2, request: 3 }\nroutes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t?.close();
    await app?.close();
  });

  it('is closed at timeouts.client after the page (the cut request kept it open for ever, counted in flight)', async () => {
    const { connect } = await import('node:net');
    const s = connect({ port: t.httpPort, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(s);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    let text = '';
    let ended = false;
    let gone = false;
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('end', () => (ended = true));
    s.on('error', () => (gone = true));
    s.on('close', () => (gone = true));
    s.write(`GET /slow HTTP/1.1\r\n${H}\r\nPOST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`);
    expect(await waitFor(() => ended, 5_000), 'the edge sent its FIN').to.equal(true);
    expect(splitAnswers(text, ['/slow'])).to.deep.equal({ answered: ['/slow'], rest: PAGE_400 });
    // The client stays silent and keeps its side open: the edge must close the connection itself.
    const deadline = Date.now() + 6_000;
    while (!gone && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      if (!s.destroyed) s.write('x');
    }
    expect(gone, 'the edge closed the connection within timeouts.client').to.equal(true);
    expect(await waitFor(() => t.edge.inFlight() === 0, 2_000), `in flight: ${t.edge.inFlight()}`).to.equal(true);
  });
});
