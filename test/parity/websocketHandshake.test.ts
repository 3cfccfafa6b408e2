// HAProxy's WebSocket handshake checks (src/edge/websocketHandshake.ts) against real HAProxy: each
// request below goes to the edge's plain port and to an HAProxy frontend (Debian's 2.6 and the 3.2
// build when found), both in front of one app, and the first status each answers must be the one in
// the table, which was measured with both versions (where 3.2 or the edge differs from 2.6, the
// table says so and why). Without `haproxy` on PATH only the edge runs.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { freePort, haproxyVersion, startHaproxy, type RunningHaproxy } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** The app's 101 heads, chosen by the request's `?m=`. */
const APP_101: Record<string, string> = {
  ok: `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
  noaccept: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  badaccept: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: nope\r\n\r\n',
  bare: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n',
  h2c: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
};

const request = (m: string, lines: readonly string[], version = 'HTTP/1.1'): string => [`GET /ws?m=${m} ${version}`, 'Host: localhost', ...lines, '', ''].join('\r\n');
const WS = ['Connection: Upgrade', 'Upgrade: websocket'];

// HAProxy 3.2 no longer performs an h2c upgrade: it drops `Upgrade: h2c` and forwards a plain request.
const H2C_DROPPED_BY_32 = 200;

/**
 * Measured with HAProxy 2.6.12 and 3.2.0 on loopback. `status`: 2.6 and the edge; `haproxy32` where
 * 3.2 answers otherwise; `edge` where the edge does (a known difference, with its reason).
 */
const CASES: readonly { name: string; raw: string; status: number; haproxy32?: number; edge?: { status: number; why: string } }[] = [
  { name: 'no Sec-WebSocket-Key', raw: request('ok', WS), status: 400 },
  { name: 'Upgrade: websocket without Connection: upgrade, no key (a plain request)', raw: request('ok', ['Upgrade: websocket']), status: 200 },
  { name: 'Upgrade: WebSocket (case), no key', raw: request('ok', ['Connection: upgrade', 'Upgrade: WebSocket']), status: 400 },
  { name: 'Upgrade: foo, websocket, no key', raw: request('ok', ['Connection: Upgrade', 'Upgrade: foo, websocket']), status: 400 },
  { name: 'Connection: keep-alive, Upgrade, no key', raw: request('ok', ['Connection: keep-alive, Upgrade', 'Upgrade: websocket']), status: 400 },
  { name: 'Connection in two headers, no key', raw: request('ok', ['Connection: keep-alive', 'Connection: Upgrade', 'Upgrade: websocket']), status: 400 },
  { name: 'empty key', raw: request('ok', [...WS, 'Sec-WebSocket-Key:']), status: 400 },
  { name: 'key of 1 character', raw: request('ok', [...WS, 'Sec-WebSocket-Key: x']), status: 400 },
  { name: 'key of 23 characters', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${KEY.slice(0, 23)}`]), status: 400 },
  { name: 'key of 25 characters', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${KEY}=`]), status: 400 },
  { name: 'two keys in one header', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${KEY}, ${KEY}`]), status: 400 },
  { name: 'two short keys', raw: request('ok', [...WS, 'Sec-WebSocket-Key: x', 'Sec-WebSocket-Key: y']), status: 400 },
  { name: 'a short key, then a good one', raw: request('ok', [...WS, 'Sec-WebSocket-Key: x', `Sec-WebSocket-Key: ${KEY}`]), status: 101 },
  { name: 'a good key, then a short one', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Key: x']), status: 101 },
  { name: 'a good key', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${KEY}`]), status: 101 },
  { name: '24 characters that are not base64', raw: request('ok', [...WS, `Sec-WebSocket-Key: ${'!'.repeat(24)}`]), status: 101 },
  { name: 'Upgrade: websocket, then Upgrade: h2c (the last decides), no key', raw: request('ok', ['Connection: Upgrade', 'Upgrade: websocket', 'Upgrade: h2c']), status: 101, haproxy32: H2C_DROPPED_BY_32 },
  { name: 'Upgrade: h2c, then Upgrade: websocket, no key', raw: request('ok', ['Connection: Upgrade', 'Upgrade: h2c', 'Upgrade: websocket']), status: 400 },
  { name: 'Upgrade: h2c, no key', raw: request('ok', ['Connection: Upgrade', 'Upgrade: h2c']), status: 101, haproxy32: H2C_DROPPED_BY_32 },
  { name: 'the app\'s 101 without Sec-WebSocket-Accept', raw: request('noaccept', [...WS, `Sec-WebSocket-Key: ${KEY}`]), status: 502 },
  { name: 'the app\'s 101 with a wrong Sec-WebSocket-Accept (not checked)', raw: request('badaccept', [...WS, `Sec-WebSocket-Key: ${KEY}`]), status: 101 },
  {
    name: 'the app\'s 101 without an Upgrade header or accept', raw: request('bare', [...WS, `Sec-WebSocket-Key: ${KEY}`]), status: 101,
    edge: { status: 502, why: 'Node\'s HTTP client switches protocols only on a 101 with an Upgrade header; the edge cannot relay such a 101 as a tunnel' },
  },
  { name: 'the app\'s 101 to h2c', raw: request('h2c', [...WS, `Sec-WebSocket-Key: ${KEY}`]), status: 101 },
  { name: 'an h2c request, the app\'s websocket 101 without accept', raw: request('noaccept', ['Connection: Upgrade', 'Upgrade: h2c']), status: 502, haproxy32: H2C_DROPPED_BY_32 },
];

/** The status of the first answer to `raw` (0 when none came within 2 s). */
function firstStatus(port: number, raw: string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(raw));
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0));
    };
    const timer = setTimeout(done, 2_000);
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n')) done();
    });
    s.on('error', done);
  });
}

describe('parity: WebSocket handshake checks, edge and HAProxy side by side', function () {
  this.timeout(60_000);
  let app: { port: number; close: () => Promise<void> };
  let edge: TestEdge;
  const haproxies: { name: string; major: number; port: number; h: RunningHaproxy }[] = [];
  let dir = '';

  before(async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.end('plain');
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.on('error', () => socket.destroy());
      const m = new URL(req.url ?? '/', 'http://x').searchParams.get('m') ?? 'ok';
      socket.end(APP_101[m] ?? APP_101.ok);
    });
    const listening = await listenOnLoopback(server);
    app = { port: listening.port, close: async () => { server.closeAllConnections(); await listening.close(); } };
    edge = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${app.port}\n`);
    dir = mkdtempSync(join(tmpdir(), 'ws-parity-'));
    for (const bin of haproxyBinaries()) {
      const port = await freePort();
      const cfg = ['defaults', '  mode http', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s', '',
        'frontend plain', `  bind 127.0.0.1:${port}`, '  default_backend app', '', 'backend app', `  server app 127.0.0.1:${app.port}`, ''].join('\n');
      const version = haproxyVersion(bin);
      haproxies.push({ name: `HAProxy ${version}`, major: Number.parseInt(version, 10), port, h: await startHaproxy(bin, cfg, port, { dir }) });
    }
  });
  after(async () => {
    for (const { h } of haproxies) await h.stop();
    await edge?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name} → ${c.status}`, async () => {
      const got: Record<string, number> = { 'mtls-edge': await firstStatus(edge.httpPort, c.raw) };
      const want: Record<string, number> = { 'mtls-edge': c.edge?.status ?? c.status };
      for (const h of haproxies) {
        got[h.name] = await firstStatus(h.port, c.raw);
        want[h.name] = h.major >= 3 ? (c.haproxy32 ?? c.status) : c.status;
      }
      expect(got, c.edge ? `the edge's known difference: ${c.edge.why}` : undefined).to.deep.equal(want);
    });
  }
});
