// HSTS as the Cloud Foundry template sets it, `http-response set-header Strict-Transport-Security`,
// against real HAProxy (Debian's 2.6 and the 3.2 build when found), side by side with the edge over
// mTLS: set-header replaces the app's own header of that name, and applies to every answer from the
// app, a WebSocket 101 and a refused Upgrade included. Before, the edge sent the app's header and its
// own (two), and none on a 101 or a refused Upgrade.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';
import { startSideBySide, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';
import { tlsConnect } from '../support/rawHttp.js';

const HSTS = { maxAge: 31536000, includeSubdomains: true, preload: false };
const VALUE = 'max-age=31536000; includeSubDomains;';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const OWN = 'Strict-Transport-Security: max-age=5';

const request = (path: string, lines: readonly string[] = []): string => [`GET ${path} HTTP/1.1`, 'Host: localhost', ...lines, '', ''].join('\r\n');
const WS = ['Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${KEY}`];

const CASES: readonly { name: string; raw: string; status: number }[] = [
  { name: 'a response without the header', raw: request('/plain'), status: 200 },
  { name: 'a response with the app\'s own Strict-Transport-Security', raw: request('/own'), status: 200 },
  { name: 'an error status from the app, with its own header', raw: request('/own-404'), status: 404 },
  { name: 'a WebSocket 101', raw: request('/ws', WS), status: 101 },
  { name: 'a WebSocket 101 with the app\'s own header', raw: request('/ws-own', WS), status: 101 },
  { name: 'an Upgrade the app refuses (401, its own header)', raw: request('/ws-refused', WS), status: 401 },
];

/** The status and every Strict-Transport-Security value of the first answer head (2 s at most). */
function answerHead(socket: net.Socket, raw: string): Promise<{ status: number; hsts: string[] }> {
  return new Promise((resolve) => {
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const head = text.slice(0, text.indexOf('\r\n\r\n') >>> 0);
      const lines = head.split('\r\n');
      const hsts = lines.slice(1).filter((l) => /^strict-transport-security:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), hsts });
    };
    const timer = setTimeout(done, 2_000);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n\r\n')) done();
    });
    socket.on('error', done);
    socket.write(raw);
  });
}

describe('parity: HSTS (set-header) on every answer from the app, edge and HAProxy side by side', function () {
  this.timeout(60_000);
  let run: SideBySide<LoopbackServer, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/own') res.setHeader('Strict-Transport-Security', 'max-age=5');
      if (req.url === '/own-404') {
        res.writeHead(404, { 'Strict-Transport-Security': 'max-age=5' });
        res.end('no');
        return;
      }
      res.end('ok');
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.on('error', () => socket.destroy());
      if (req.url === '/ws-refused') socket.end(`HTTP/1.1 401 Unauthorized\r\n${OWN}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno`);
      else socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n${req.url === '/ws-own' ? `${OWN}\r\n` : ''}\r\n`);
    });
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    run = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'hsts-parity-', haproxy: { hsts: HSTS },
      startUpstream: () => listenOnLoopback(server),
      startEdge: (port) => startTestEdge({}, `hsts: { max_age: ${HSTS.maxAge}, include_subdomains: true, preload: false }\nroutes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => run?.stop());

  const mtls = (port: number): Promise<net.Socket> => tlsConnect(port, { identity });

  for (const c of CASES) {
    it(`${c.name} → ${c.status} with one Strict-Transport-Security, the edge's`, async () => {
      const got: Record<string, { status: number; hsts: string[] }> = {};
      const want: Record<string, { status: number; hsts: string[] }> = {};
      for (const t of run.targets) {
        got[t.name] = await answerHead(await mtls(t.httpsPort), c.raw);
        want[t.name] = { status: c.status, hsts: [VALUE] };
      }
      expect(got).to.deep.equal(want);
    });
  }
});
