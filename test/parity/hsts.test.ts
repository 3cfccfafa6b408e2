// HSTS as the Cloud Foundry template sets it, `http-response set-header Strict-Transport-Security`,
// against real HAProxy (Debian's 2.6 and the 3.2 build when found), side by side with the edge over
// mTLS: set-header replaces the app's own header of that name, and applies to every answer from the
// app, a WebSocket 101 and a refused Upgrade included. Before, the edge sent the app's header and its
// own (two), and none on a 101 or a refused Upgrade.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { freePort, haproxyVersion, renderHaproxyConfig, startHaproxy, supportsFetch, writeServerPem, type RunningHaproxy } from './haproxy.js';
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
  let server: http.Server;
  let closeApp: () => Promise<void>;
  let edge: TestEdge;
  let identity: ClientIdentity;
  const targets: { name: string; port: number }[] = [];
  const haproxies: RunningHaproxy[] = [];
  let dir = '';

  before(async () => {
    server = http.createServer((req, res) => {
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
    const listening = await listenOnLoopback(server);
    closeApp = async () => {
      server.closeAllConnections();
      await listening.close();
    };
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    edge = await startTestEdge({}, `hsts: { max_age: ${HSTS.maxAge}, include_subdomains: true, preload: false }\nroutes:\n  - upstream: http://127.0.0.1:${listening.port}\n`);
    targets.push({ name: 'mtls-edge', port: edge.httpsPort });
    dir = mkdtempSync(join(tmpdir(), 'hsts-parity-'));
    const serverPem = writeServerPem(dir, pki.server.chain, pki.server.key);
    for (const bin of haproxyBinaries()) {
      const [httpPort, httpsPort] = [await freePort(), await freePort()];
      const cfg = renderHaproxyConfig({ httpsPort, httpPort, upstreamPort: listening.port, mode: 'sanitize_set', tls: { serverPem, caFile: pki.rootCa.cert }, withRootCaDn: supportsFetch(bin, 'ssl_c_r_dn'), hsts: HSTS });
      haproxies.push(await startHaproxy(bin, cfg, httpsPort, { dir }));
      targets.push({ name: `HAProxy ${haproxyVersion(bin)}`, port: httpsPort });
    }
    console.log(`    compared: ${targets.map((t) => t.name).join(', ')}${targets.length === 1 ? ' (no HAProxy found: the edge against the table only)' : ''}`);
  });
  after(async () => {
    for (const h of haproxies) await h.stop();
    await edge?.close();
    await closeApp?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const mtls = (port: number): Promise<net.Socket> => tlsConnect(port, { identity });

  for (const c of CASES) {
    it(`${c.name} → ${c.status} with one Strict-Transport-Security, the edge's`, async () => {
      const got: Record<string, { status: number; hsts: string[] }> = {};
      const want: Record<string, { status: number; hsts: string[] }> = {};
      for (const t of targets) {
        got[t.name] = await answerHead(await mtls(t.port), c.raw);
        want[t.name] = { status: c.status, hsts: [VALUE] };
      }
      expect(got).to.deep.equal(want);
    });
  }
});
