// A request cut or malformed behind complete pipelined requests, against real HAProxy 2.6 and 3.2
// (when found), on the plain and the mTLS listener: the client sends a complete request (to a slow
// or a fast path), then part of a next one, then its FIN (over TLS close_notify + FIN); or a
// malformed next request and no FIN. Measured (20 runs per case and listener, both versions): every
// target answers the complete request first, its upstream request never cancelled; a cut head then
// gets the 400 page in 3 to 16 runs of 20 (HAProxy, depending on when it notices the FIN, may also
// drop a complete request queued behind the first, never the first), a cut body gets no answer,
// and the connection closes. Without a FIN HAProxy always answers 200, then 400, then closes. The edge
// gives the full sequence every time (src/edge/connectionEnding.ts); before, it closed at once,
// the first answer lost and its upstream request cancelled.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';
import { tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { startSideBySide, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';

const H = 'Host: localhost\r\n';
/** How long the app takes on /slow: the cut request and the FIN arrive long before its answer. */
const SLOW_MS = 400;

interface Case {
  readonly name: string;
  /** The bytes, given the run's id (so the app's records tell the runs apart). */
  readonly bytes: (id: string) => string;
  /** Half-close after the bytes. */
  readonly fin: boolean;
  /** The complete requests' paths, answered 200 in this order. */
  readonly answered: readonly string[];
  /** Then HAProxy's 400 page, or nothing. */
  readonly then400: boolean;
  /** HAProxy may stop after the first answer (measured: it depends on when it notices the FIN). */
  readonly haproxyMayStopEarly: boolean;
}

const CASES: readonly Case[] = [
  { name: 'slow request, cut head, FIN', fin: true, bytes: (id) => `GET /slow?${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo`, answered: ['/slow'], then400: true, haproxyMayStopEarly: true },
  { name: 'slow request, cut body, FIN', fin: true, bytes: (id) => `GET /slow?${id} HTTP/1.1\r\n${H}\r\nPOST /b?${id} HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, answered: ['/slow'], then400: false, haproxyMayStopEarly: false },
  { name: 'fast request, cut head, FIN', fin: true, bytes: (id) => `GET /fast?${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo`, answered: ['/fast'], then400: true, haproxyMayStopEarly: true },
  { name: 'fast request, cut body, FIN', fin: true, bytes: (id) => `GET /fast?${id} HTTP/1.1\r\n${H}\r\nPOST /b?${id} HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, answered: ['/fast'], then400: false, haproxyMayStopEarly: false },
  { name: 'slow and fast requests, cut head, FIN', fin: true, bytes: (id) => `GET /slow?${id} HTTP/1.1\r\n${H}\r\nGET /fast?${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo`, answered: ['/slow', '/fast'], then400: true, haproxyMayStopEarly: true },
  { name: 'slow request, malformed head, no FIN', fin: false, bytes: (id) => `GET /slow?${id} HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\nHo st: x\r\n\r\n`, answered: ['/slow'], then400: true, haproxyMayStopEarly: false },
  { name: 'slow request, malformed chunk size, no FIN', fin: false, bytes: (id) => `GET /slow?${id} HTTP/1.1\r\n${H}\r\nPOST /b?${id} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nab`, answered: ['/slow'], then400: true, haproxyMayStopEarly: false },
];

/** What the app saw of one request: whether its answer went out whole (false: cancelled by the proxy). */
interface AppSaw {
  readonly path: string;
  answered: boolean;
}

interface Seen {
  /** Status of each answer in order, with the path the app's body names (null: the proxy's own page). */
  readonly answers: { status: number; path: string | null }[];
  /** The target closed the connection within the watch. */
  readonly closed: boolean;
}

/** Sends the case's bytes and reads every answer until the target closes (at most 4 s). */
function run(socket: net.Socket, bytes: string, fin: boolean): Promise<Seen> {
  return new Promise((resolve) => {
    let text = '';
    const finish = (closed: boolean): void => {
      clearTimeout(limit);
      socket.destroy();
      const answers = [...text.matchAll(/HTTP\/1\.1 (\d{3})[^]*?(?=HTTP\/1\.1 \d{3}|$)/g)].map((m) => ({ status: Number(m[1]), path: /app saw (\/\w+)/.exec(m[0])?.[1] ?? null }));
      resolve({ answers, closed });
    };
    const limit = setTimeout(() => finish(false), 4000);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    if (fin) socket.end(bytes);
    else socket.write(bytes);
  });
}

describe('parity: a FIN or a malformed request behind complete pipelined requests', function () {
  this.timeout(60_000);
  /** By the run's id: what the app saw. */
  const saw = new Map<string, AppSaw[]>();
  let side: SideBySide<LoopbackServer, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const server = http.createServer((req, res) => {
      const [path = '', id = ''] = (req.url ?? '').split('?');
      const rec: AppSaw = { path, answered: false };
      saw.set(id, [...(saw.get(id) ?? []), rec]);
      res.on('finish', () => (rec.answered = true));
      req.resume();
      req.on('end', () => setTimeout(() => res.end(`app saw ${path}`), path === '/slow' ? SLOW_MS : 0));
    });
    server.on('clientError', (_e, s) => s.destroy());
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    side = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'fin-pipelined-parity-',
      startUpstream: () => listenOnLoopback(server),
      startEdge: (port) => startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => side?.stop());

  for (const listener of ['plain HTTP', 'mTLS'] as const) {
    it(`${listener}: the complete requests answered in order, never cancelled; then the 400 page (a head) or nothing (a cut body); then the close`, async () => {
      const runs = side.targets.flatMap((t) => CASES.map(async (c, i) => {
        const id = `${listener === 'mTLS' ? 'tls' : 'plain'}-${i}-${t.name.replace(/\W+/g, '_')}`;
        const socket = listener === 'mTLS' ? await tlsConnect(t.httpsPort, { identity }) : await tcpConnect(t.httpPort);
        return { target: t.name, c, id, seen: await run(socket, c.bytes(id), c.fin) };
      }));
      const results = await Promise.all(runs);
      // The app's last answer (to /fast behind /slow) may still be on its way to a proxy.
      await new Promise((r) => setTimeout(r, 100));
      const failures: string[] = [];
      for (const { target, c, id, seen } of results) {
        const full = [...c.answered.map((path) => ({ status: 200, path })), ...(c.then400 ? [{ status: 400, path: null }] : [])];
        const edge = target === 'mtls-edge';
        // HAProxy: the full sequence, or (where measured so) its start, never less than the first answer.
        const stopEarly = !edge && c.haproxyMayStopEarly && seen.answers.length >= 1 && seen.answers.length < full.length;
        const want = stopEarly ? full.slice(0, seen.answers.length) : full;
        // Every request the target answered reached the app and was answered whole there.
        const cancelled = (saw.get(id) ?? []).filter((a) => a.path !== '/b' && !a.answered).map((a) => a.path);
        const forwardedCut = edge ? (saw.get(id) ?? []).filter((a) => a.path === '/b').length : 0;
        if (JSON.stringify(seen.answers) !== JSON.stringify(want) || !seen.closed || cancelled.length > 0 || forwardedCut > 0) {
          failures.push(`${target}, ${c.name}: read ${JSON.stringify(seen.answers)}, ${seen.closed ? 'closed' : 'still open after 4 s'}, cancelled at the app: ${JSON.stringify(cancelled)}${edge ? `, cut request forwarded: ${forwardedCut}` : ''}; want ${JSON.stringify(want)} and the close`);
        }
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
