// Hostile review 9: the edge stops reading a connection while more than 32 of its pipelined requests
// wait (src/edge/pipelinedResponses.ts). What a hostile client does around that stop: an Upgrade
// behind it, a request head the edge held back when its deadline passed, a reset the edge cannot see.
// Each case was run against HAProxy 2.6 on loopback (`timeout http-request 1s`): the tunnel carries
// the client's bytes; a head dripped after the pipeline gets a 408 about 1 s after its turn.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { resetConnection, tlsConnect } from '../support/rawHttp.js';
import { connectPlain, stopStarted, waitFor } from '../support/waits.js';

const H = 'Host: localhost\r\n';
const get = (path: string): string => `GET ${path} HTTP/1.1\r\n${H}\r\n`;
/** /hold and 40 GETs behind it: more than the 32 the edge lets wait before it stops reading. */
const DEEP = get('/hold') + Array.from({ length: 40 }, (_, i) => get(`/p${i}`)).join('');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!);

describe('hostile review 9: a pipeline deep enough that the edge stops reading it', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  /** Paths the app received, and those whose connection closed before the app answered. */
  let seen: string[] = [];
  let cancelled: string[] = [];
  /** What the app's WebSocket end received through the tunnel. */
  let tunnel = '';
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  /** An app that answers /hold after `holdMs`, the rest at once, and echoes a WebSocket tunnel. */
  async function start(holdMs: number, timeouts = ''): Promise<TestEdge> {
    seen = [];
    cancelled = [];
    tunnel = '';
    up = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      let answered = false;
      res.on('close', () => {
        if (!answered) cancelled.push(req.url ?? '');
      });
      const answer = (): void => {
        setTimeout(() => {
          answered = true;
          res.end(`answer ${req.url};`);
        }, req.url === '/hold' ? holdMs : 0).unref();
      };
      // /early answers before reading the body, the rest once it has read it.
      if (req.url === '/early') answer();
      else req.once('end', answer);
      req.resume();
    });
    up.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.on('error', () => undefined);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      tunnel += head.toString('latin1');
      socket.on('data', (d: Buffer) => {
        tunnel += d.toString('latin1');
        socket.write(d);
      });
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `${timeouts}routes:\n  - upstream: http://127.0.0.1:${port}\n`);
    return t;
  }

  function open(socket: net.Socket): { s: net.Socket; text: () => string } {
    clients.push(socket);
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    return { s: socket, text: () => text };
  }

  const connections: { name: string; connect: (e: TestEdge) => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: (e) => connectPlain(e.httpPort) },
    { name: 'mTLS', connect: async (e) => tlsConnect(e.httpsPort, { identity: await clientIdentity('valid') }) },
  ];
  for (const c of connections) {
    it(`${c.name}: a WebSocket Upgrade pipelined behind 41 requests gets its tunnel, with what the client sent before the 101 (HAProxy 2.6 too)`, async () => {
      // Before: the stop had halted the socket's reading where only Node's parser, gone at the Upgrade,
      // starts it again, so the tunnel read nothing; and the end of the stop resumed the socket while
      // the Upgrade waited for its turn, with no one reading it.
      const e = await start(1000);
      const k = open(await c.connect(e));
      const ws = `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
      k.s.write(DEEP + ws);
      await sleep(300);
      k.s.write('early tunnel bytes;');
      expect(await waitFor(() => k.text().includes('early tunnel bytes;'), 5_000), `the app received ${JSON.stringify(tunnel)}`).to.equal(true);
      expect(statuses(k.text())).to.deep.equal([...Array<string>(41).fill('200'), '101']);
      k.s.write('later;');
      expect(await waitFor(() => k.text().endsWith('later;'), 3_000)).to.equal(true);
      expect(tunnel).to.equal('early tunnel bytes;later;');
    });
  }

  it('a WebSocket Upgrade whose head the edge held back past its deadline keeps its tunnel past that deadline', async () => {
    const e = await start(1500, 'timeouts: { request_headers: 1, request: 2, client: 30 }\n');
    const k = open(await connectPlain(e.httpPort));
    k.s.write(`${DEEP}GET /ws HTTP/1.1\r\n${H}`);
    expect(await waitFor(() => statuses(k.text()).length === 41, 5_000)).to.equal(true);
    k.s.write('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    expect(await waitFor(() => statuses(k.text()).length === 42, 3_000)).to.equal(true);
    await sleep(1_500);
    k.s.write('tunnel;');
    expect(await waitFor(() => k.text().endsWith('tunnel;'), 3_000), k.text().slice(-120)).to.equal(true);
    expect(statuses(k.text())).to.deep.equal([...Array<string>(41).fill('200'), '101']);
  });

  // The head of the request after the 41 is incomplete when reading stops; its deadline
  // (timeouts.request_headers, 1 s) passes while the edge holds the rest of it back. Once the edge
  // reads again, the client drips: before, nothing timed that request again, so one header line (or
  // body byte) every 300 ms kept it open for good, under no deadline but the idle timeouts.client.
  const drips: { name: string; path: string; rest: string; drip: string; deadline: string; answers: number }[] = [
    { name: 'its head', path: '/last', rest: '', drip: 'X-Drip: a\r\n', deadline: 'timeouts.request_headers', answers: 41 },
    { name: 'its body', path: '/last', rest: 'Content-Length: 100\r\n\r\n', drip: 'a', deadline: 'timeouts.request', answers: 41 },
    // Node reads and drops the rest of a body the app did not wait for, under the request's deadline.
    { name: 'its body, answered before the app read it', path: '/early', rest: 'Content-Length: 100\r\n\r\n', drip: 'a', deadline: 'timeouts.request', answers: 42 },
  ];
  for (const d of drips) {
    it(`a request whose head the edge held back past its deadline, then drips ${d.name}: a 408 after the ${d.answers} answers, from ${d.deadline} run again from its turn`, async () => {
      const e = await start(1500, 'timeouts: { request_headers: 1, request: 2, client: 30 }\n');
      const k = open(await connectPlain(e.httpPort));
      k.s.write(`${DEEP}POST ${d.path} HTTP/1.1\r\n${H}`);
      // The 41 answers are out at about 1.5 s; the edge reads again.
      expect(await waitFor(() => statuses(k.text()).length === 41, 5_000)).to.equal(true);
      const read = Date.now();
      k.s.write(d.rest);
      while (!k.s.readableEnded && Date.now() - read < 6_000) {
        await sleep(300);
        if (k.s.writable) k.s.write(d.drip);
      }
      expect(k.s.readableEnded, `the edge closed the connection (${Date.now() - read} ms after it read again)`).to.equal(true);
      expect(statuses(k.text())).to.deep.equal([...Array<string>(d.answers).fill('200'), '408']);
      // request_headers 1 s from its turn (the 41st answer), or request 2 s from its head; checked every 250 ms.
      expect(Date.now() - read).to.be.below(3_500);
      expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
    });
  }

  it('a head cut by the stop and completed at once is answered, no 408 (its deadline runs again, it is not shortened)', async () => {
    const e = await start(1500, 'timeouts: { request_headers: 1, request: 2, client: 30 }\n');
    const k = open(await connectPlain(e.httpPort));
    k.s.write(`${DEEP}GET /last HTTP/1.1\r\n`);
    expect(await waitFor(() => statuses(k.text()).length === 41, 5_000)).to.equal(true);
    await sleep(500);
    k.s.write(`${H}\r\n`);
    expect(await waitFor(() => k.text().includes('answer /last;'), 3_000), k.text().slice(-200)).to.equal(true);
    await sleep(2_500);
    expect(statuses(k.text())).to.deep.equal(Array<string>(42).fill('200'));
    expect(k.s.readableEnded).to.equal(false);
  });

  it('a client that resets while the edge holds its pipeline back: noticed once the answer in progress is written, no waiting request reaches the app', async () => {
    // The edge reads nothing from the connection then, so the reset reaches it with the next write
    // (HAProxy 2.6 lets the server finish after a reset whatever the pipeline). The connection keeps
    // its place under the caps until then, and the app never holds more than the one request.
    const e = await start(1500);
    const k = open(await connectPlain(e.httpPort));
    k.s.write(DEEP);
    await sleep(300);
    resetConnection(k.s);
    expect(await waitFor(() => e.edge.inFlight() === 0, 5_000), `in flight: ${e.edge.inFlight()}`).to.equal(true);
    expect(seen).to.deep.equal(['/hold']);
    expect(cancelled).to.deep.equal([]);
  });
});
