// CONNECT through the edge, on both listeners (real TLS with a client certificate on the HTTPS
// port), as HAProxy 2.6 and 3.2 forward it in `mode http` (docs/edge-behaviour.md §7.9,
// docs/parity.md#connect): the app's answer reaches the client, a 2xx opens a tunnel, the edge's
// own refusals are HAProxy's statuses, the app gets the headers a GET gets, and every CONNECT is
// one request event. Before, Node's server had no 'connect' listener and reset the connection.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { clientIdentity, httpRequest, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';
import { ResponseReader, tcpConnect, tlsConnect, type RawResponse } from '../support/rawHttp.js';
import { freePort } from '../support/processes.js';
import type { RequestEvent } from '../../src/observe/events.js';
import { isH10 } from './h10Expect.js';

type Pair = [string, string];
type Listener = 'http' | 'https';

/** What the app received, per request (a GET's or a CONNECT's head). */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Pair[];
}

/**
 * The app: a GET gets 200 with its path; a CONNECT is answered by the first label of its target.
 * Sockets handed over at 'connect' leave the server's bookkeeping: close() ends them itself.
 */
async function startApp(): Promise<LoopbackServer & { seen: Received[] }> {
  const seen: Received[] = [];
  const tunnels = new Set<net.Socket>();
  const record = (req: http.IncomingMessage): void => {
    const headers: Pair[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers });
  };
  const server = http.createServer((req, res) => {
    record(req);
    req.resume();
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
    else res.end(`got ${req.url}`);
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    record(req);
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    socket.on('error', () => socket.destroy());
    switch ((req.url ?? '').split('.')[0]) {
      case 'refuse':
        // Left open: the edge relays the announced length and closes, without waiting for the app.
        socket.write('HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nno tunnels\n');
        return;
      case 'chunked':
        socket.end('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nnope!\r\n0\r\n\r\n');
        return;
      case 'interim':
        socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'silent':
        return;
      case 'tunnel': {
        // A Content-Length on a 2xx to CONNECT frames nothing: HAProxy 3.2 drops it, so does the edge.
        socket.write('HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\nready;');
        const echo = (c: Buffer): void => {
          const text = c.toString('latin1');
          if (text.includes('bye')) socket.end(`echo:${text}`);
          else socket.write(`echo:${text}`);
        };
        if (head.length) echo(head);
        socket.on('data', echo);
        return;
      }
      default:
        socket.destroy();
    }
  });
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    seen,
    close: async () => {
      for (const s of tunnels) s.destroy();
      await listening.close();
    },
  };
}

const connectHead = (target: string, host: string | null, extra: readonly string[] = []): string =>
  [`CONNECT ${target} HTTP/1.1`, ...(host === null ? [] : [`Host: ${host}`]), ...extra, '', ''].join('\r\n');

interface Case {
  readonly name: string;
  readonly raw: string;
  /** Which edge: the one in front of the app, one whose app is not listening, one with timeouts.server and .tunnel 1 s and HSTS. */
  readonly edge?: 'app' | 'unreachable' | 'stalled';
  readonly status: number;
  /** What the client gets after the head, up to the close: the body as framed, nothing after it. */
  readonly body?: string;
  /** The app received the CONNECT (false: the edge answered it itself). */
  readonly reachesApp: boolean;
  /** The request event's error: null when the app answered. */
  readonly error: RegExp | null;
  /** The Host header the app received. */
  readonly appHost?: string;
}

const CASES: readonly Case[] = [
  { name: 'the app refuses: its 405 and body reach the client, then the connection closes', raw: connectHead('refuse.test:443', 'refuse.test:443'), status: 405, body: 'no tunnels\n', reachesApp: true, error: null, appHost: 'refuse.test' },
  { name: 'the app refuses with a chunked body: relayed as framed', raw: connectHead('chunked.test:8443', 'chunked.test:8443'), status: 403, body: '5\r\nnope!\r\n0\r\n\r\n', reachesApp: true, error: null, appHost: 'chunked.test:8443' },
  { name: 'a Content-Length body: not read (a CONNECT has none), not forwarded', raw: connectHead('refuse.test:443', 'refuse.test', ['Content-Length: 5']) + 'hello', status: 405, body: 'no tunnels\n', reachesApp: true, error: null, appHost: 'refuse.test' },
  { name: 'the Host names another server: 400, as HAProxy\'s parser', raw: connectHead('refuse.test:443', 'other.test'), status: 400, reachesApp: false, error: /Host is "other\.test"/ },
  { name: 'a Host without port for a port other than 80/443: 400', raw: connectHead('refuse.test:8443', 'refuse.test'), status: 400, reachesApp: false, error: /stands for 80 or 443/ },
  { name: 'a target without port: 400', raw: connectHead('refuse.test', 'refuse.test'), status: 400, reachesApp: false, error: /names no port/ },
  { name: 'an origin-form target: 400', raw: connectHead('/refuse', 'refuse.test'), status: 400, reachesApp: false, error: /authority-form/ },
  { name: 'the app answers 100 first: 502', raw: connectHead('interim.test:443', 'interim.test:443'), status: 502, reachesApp: true, error: /interim status 100/ },
  { name: 'the app is unreachable: 503', raw: connectHead('refuse.test:443', 'refuse.test:443'), edge: 'unreachable', status: 503, reachesApp: false, error: /ECONNREFUSED/ },
  { name: 'the app does not answer within timeouts.server: 504', raw: connectHead('silent.test:443', 'silent.test:443'), edge: 'stalled', status: 504, reachesApp: true, error: /UND_ERR_HEADERS_TIMEOUT/ },
];

/** The answer's head and the raw bytes after it up to the close (the edge closes after any answer but a 2xx). */
async function exchange(socket: net.Socket, raw: string): Promise<{ res: Pick<RawResponse, 'status' | 'statusLine' | 'headers'>; rest: string }> {
  const reader = new ResponseReader(socket);
  socket.write(Buffer.from(raw, 'latin1'));
  const res = await reader.head(10_000);
  return { res, rest: (await reader.untilClosed(5_000)).toString('latin1') };
}

describe('edge: CONNECT, forwarded to the app as HAProxy does', function () {
  this.timeout(60_000);
  let app: Awaited<ReturnType<typeof startApp>>;
  const edges: Record<'app' | 'unreachable' | 'stalled', TestEdge | null> = { app: null, unreachable: null, stalled: null };
  const sockets: net.Socket[] = [];

  before(async () => {
    app = await startApp();
    edges.app = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
    edges.unreachable = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${await freePort()}\n`);
    edges.stalled = await startTestEdge({}, `hsts: { max_age: 60 }\ntimeouts: { server: 1, tunnel: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  after(async () => {
    for (const e of Object.values(edges)) await e?.close();
    await app?.close();
  });

  const open = async (edge: TestEdge, listener: Listener): Promise<net.Socket> => {
    const s = listener === 'https' ? await tlsConnect(edge.httpsPort, { identity: await clientIdentity('valid') }) : await tcpConnect(edge.httpPort);
    sockets.push(s);
    return s;
  };
  const connectEvents = (edge: TestEdge): RequestEvent[] => edge.events.filter((e): e is RequestEvent => e.kind === 'request' && e.method === 'CONNECT');

  for (const listener of ['http', 'https'] as const) {
    for (const c of CASES) {
      it(`${listener}: ${c.name}`, async () => {
        const edge = edges[c.edge ?? 'app']!;
        const seenBefore = app.seen.length;
        const eventsBefore = connectEvents(edge).length;
        const { res, rest } = await exchange(await open(edge, listener), c.raw);
        expect(res.status, res.statusLine).to.equal(c.status);
        if (c.body !== undefined) expect(rest).to.equal(c.body);
        const received = app.seen.slice(seenBefore);
        expect(received.map((r) => r.method), 'what the app received').to.deep.equal(c.reachesApp ? ['CONNECT'] : []);
        if (c.appHost !== undefined) expect(received[0]!.headers.filter(([n]) => n.toLowerCase() === 'host')).to.deep.equal([['Host', c.appHost]]);
        // A CONNECT has no body: the app is sent no framing for one.
        for (const r of received) expect(r.headers.map(([n]) => n.toLowerCase())).to.not.include.members(['content-length', 'transfer-encoding']);
        const events = connectEvents(edge).slice(eventsBefore);
        expect(events, 'one request event per CONNECT').to.have.length(1);
        expect(events[0]).to.include({ listener, method: 'CONNECT', path: c.raw.split(' ')[1], status: c.status, websocket: false });
        if (c.error === null) expect(events[0]!.error).to.equal(null);
        else expect(events[0]!.error).to.match(c.error);
      });
    }

    it(`${listener}: the app's 200 opens a tunnel: early and later bytes both ways, closed when the app closes`, async () => {
      const edge = edges.app!;
      const eventsBefore = connectEvents(edge).length;
      const socket = await open(edge, listener);
      const reader = new ResponseReader(socket);
      // Bytes right behind the head wait for the app's answer, then go into the tunnel.
      socket.write(connectHead('tunnel.test:443', 'tunnel.test:443') + 'early;');
      const res = await reader.head(10_000);
      expect(res.status).to.equal(200);
      expect(res.headers.map(([n]) => n.toLowerCase()), 'no body framing on a tunnel').to.not.include('content-length');
      expect((await reader.bytes('ready;echo:early;'.length)).toString()).to.equal('ready;echo:early;');
      socket.write('ping');
      expect((await reader.bytes('echo:ping'.length)).toString()).to.equal('echo:ping');
      socket.write('bye');
      expect((await reader.untilClosed(5_000)).toString()).to.equal('echo:bye');
      expect(reader.closed).to.equal(true);
      const events = connectEvents(edge).slice(eventsBefore);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ listener, method: 'CONNECT', path: 'tunnel.test:443', status: 200, error: null });
    });
  }

  it('https: an idle tunnel closes after timeouts.tunnel (1 s)', async () => {
    const socket = await open(edges.stalled!, 'https');
    const reader = new ResponseReader(socket);
    socket.write(connectHead('tunnel.test:443', 'tunnel.test:443'));
    expect((await reader.head()).status).to.equal(200);
    expect((await reader.bytes('ready;'.length)).toString()).to.equal('ready;');
    const idleFrom = Date.now();
    await reader.untilClosed(5_000);
    expect(reader.closed).to.equal(true);
    expect(Date.now() - idleFrom).to.be.within(800, 4_000);
  });

  it('http: after a refusal, a client that never closes its side is cut at timeouts.client (1 s): its max_connections slot is free again', async () => {
    const capped = await startTestEdge({}, `max_connections: 1\ntimeouts: { client: 1 }\nroutes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
    try {
      const socket = net.connect({ host: '127.0.0.1', port: capped.httpPort, allowHalfOpen: true });
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      const reader = new ResponseReader(socket);
      socket.write(connectHead('refuse.test:443', 'refuse.test:443'));
      expect((await reader.head()).status).to.equal(405);
      // The edge ended its side and reads on: the slot stays taken until it cuts the connection.
      const during = await httpRequest(capped.httpPort, { path: '/during' }).catch((e: Error) => e);
      expect(during, 'the one slot is still taken').to.be.instanceOf(Error);
      await new Promise((r) => setTimeout(r, 1_500));
      const after = await httpRequest(capped.httpPort, { path: '/after' }).catch((e: Error) => e);
      expect(after instanceof Error ? after.message : after.status).to.equal(200);
    } finally {
      await capped.close();
    }
  });

  it('HSTS on every answer of the app over TLS (the refusal and the tunnel\'s head), as HAProxy\'s http-response rule; none on plain HTTP', async () => {
    const hsts = (r: Pick<RawResponse, 'headers'>): string | undefined => r.headers.find(([n]) => n.toLowerCase() === 'strict-transport-security')?.[1];
    const refused = await exchange(await open(edges.stalled!, 'https'), connectHead('refuse.test:443', 'refuse.test:443'));
    expect([refused.res.status, hsts(refused.res)]).to.deep.equal([405, 'max-age=60;']);
    const plain = await exchange(await open(edges.stalled!, 'http'), connectHead('refuse.test:443', 'refuse.test:443'));
    expect([plain.res.status, hsts(plain.res)]).to.deep.equal([405, undefined]);
    const socket = await open(edges.stalled!, 'https');
    const reader = new ResponseReader(socket);
    socket.write(connectHead('tunnel.test:443', 'tunnel.test:443'));
    const tunnel = await reader.head();
    expect([tunnel.status, hsts(tunnel)]).to.deep.equal([200, 'max-age=60;']);
  });

  it('http: a CONNECT pipelined behind a slow answer is handled after it, in order', async () => {
    const socket = await open(edges.app!, 'http');
    const reader = new ResponseReader(socket);
    socket.write(['GET /slow HTTP/1.1', 'Host: refuse.test', '', ''].join('\r\n') + connectHead('refuse.test:443', 'refuse.test:443'));
    const first = await reader.next();
    expect([first.status, first.body.toString()]).to.deep.equal([200, 'slow']);
    const second = await reader.next();
    expect([second.status, second.body.toString()]).to.deep.equal([405, 'no tunnels\n']);
    await reader.untilClosed(5_000);
    expect(reader.closed).to.equal(true);
  });

  it('https, sanitize_set (the default): the app gets the headers a GET on the same connection gets; forged ones removed', async () => {
    const forged = ['X-Forwarded-Client-Cert: forged', 'X-SSL-Client-Verify: 0', 'X-SSL-Client-Subject-CN: YWRtaW4='];
    const socket = await open(edges.app!, 'https');
    const reader = new ResponseReader(socket);
    const seenBefore = app.seen.length;
    socket.write([`GET /same HTTP/1.1`, 'Host: refuse.test', ...forged, '', ''].join('\r\n'));
    expect((await reader.next()).status).to.equal(200);
    socket.write(connectHead('refuse.test:443', 'refuse.test:443', forged));
    expect((await reader.next()).status).to.equal(405);
    const [get, connect] = app.seen.slice(seenBefore);
    expect([get?.method, connect?.method]).to.deep.equal(['GET', 'CONNECT']);
    const h10 = (r: Received): Pair[] => r.headers.filter(([n]) => isH10(n));
    expect(h10(connect!)).to.deep.equal(h10(get!));
    expect(h10(connect!)).to.have.length(10);
    expect(connect!.headers).to.deep.include(['X-SSL-Client', '1']);
    expect(connect!.headers).to.not.deep.include(['X-Forwarded-Client-Cert', 'forged']);
    const forwarded = (r: Received): Pair[] => r.headers.filter(([n]) => n.startsWith('X-Forwarded-') && !isH10(n));
    expect(forwarded(connect!)).to.deep.equal(forwarded(get!));
    expect(forwarded(connect!)).to.deep.equal([['X-Forwarded-Proto', 'https'], ['X-Forwarded-For', '127.0.0.1']]);
  });

  it('http: the plain listener forwards the client\'s certificate headers, as for a GET', async () => {
    const socket = await open(edges.app!, 'http');
    const seenBefore = app.seen.length;
    await exchange(socket, connectHead('refuse.test:443', 'refuse.test:443', ['X-SSL-Client-Verify: 0']));
    expect(app.seen.slice(seenBefore)[0]!.headers).to.deep.include(['X-SSL-Client-Verify', '0']);
  });
});
