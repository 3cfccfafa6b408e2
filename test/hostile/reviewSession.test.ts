// Findings of the review of 7dabd6b..f5591e0 (docs: /work/tmp/review-session.md), each a real edge
// on loopback. Every case failed on main (f5591e0) when written: they pin fixes still to be made.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { resetConnection, tlsConnect } from '../support/rawHttp.js';
import { waitFor } from '../support/waits.js';

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** A TLS client over a TCP socket of its own, so the test can reset that socket (RST). */
async function tlsOverTcp(port: number, servername = 'localhost', timeoutMs = 5000): Promise<{ tcp: net.Socket; tls: tls.TLSSocket }> {
  const { pki } = await testPki();
  const tcp = net.connect({ host: '127.0.0.1', port });
  tcp.on('error', () => undefined);
  const t = tls.connect({ socket: tcp, servername, ca: readFileSync(pki.rootCa.cert), checkServerIdentity: () => undefined });
  t.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      t.destroy();
      reject(new Error('TLS connect timed out'));
    }, timeoutMs);
    t.once('secureConnect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { tcp, tls: t };
}

/** An upstream whose /stream answer is 1 MiB chunks, at most `maxMiB` of them, written as fast as the edge takes them. */
async function streamingUpstream(maxMiB: number): Promise<{ server: http.Server; port: number; streaming: () => boolean }> {
  let open = 0;
  const chunk = Buffer.alloc(1 << 20, 97);
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end('slow done'), 1500).unref();
      return;
    }
    if (req.url !== '/stream') return void res.end('ok');
    open++;
    res.on('close', () => open--);
    let sent = 0;
    const pump = (): void => {
      while (sent < maxMiB) {
        sent++;
        if (!res.write(chunk)) return;
      }
      res.end();
    };
    res.on('drain', pump);
    pump();
  });
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  const { port } = await listenOnLoopback(server);
  return { server, port, streaming: () => open > 0 };
}

describe('review session: an Upgrade waiting behind a response, the IP Host, descriptors of the built-in echo', function () {
  this.timeout(40_000);
  let t: TestEdge | null = null;
  let up: Awaited<ReturnType<typeof streamingUpstream>> | null = null;
  const clients: net.Socket[] = [];
  // On main a reset reaches an edge socket without an 'error' listener: an uncaught exception in
  // this process. Collected here (mocha's own handler set aside meanwhile), so one case fails by
  // itself instead of failing whichever hook or case runs when the error surfaces.
  const uncaught: string[] = [];
  let mochaHandlers: NodeJS.UncaughtExceptionListener[] = [];
  const collect = (e: Error): void => void uncaught.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
  beforeEach(() => {
    uncaught.length = 0;
    mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', collect);
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    clients.length = 0;
    // Bounded: on main close() never ends while an Upgrade waits behind a download.
    if (t) await Promise.race([t.close(), new Promise((r) => setTimeout(r, 3000))]);
    t = null;
    if (up) {
      up.server.closeAllConnections();
      up.server.close();
      up = null;
    }
    await new Promise((r) => setTimeout(r, 200));
    process.removeListener('uncaughtException', collect);
    for (const h of mochaHandlers) process.on('uncaughtException', h);
  });

  async function edgeInFront(extra = ''): Promise<TestEdge> {
    up = await streamingUpstream(512);
    return startTestEdge({}, `routes:\n  - { host: "*", path: /, upstream: "http://127.0.0.1:${up.port}" }\n${extra}`);
  }

  it('a client that resets its connection while its pipelined Upgrade waits is no fault (no uncaught ECONNRESET)', async () => {
    t = await edgeInFront();
    const c = await tlsOverTcp(t.httpsPort);
    clients.push(c.tls, c.tcp);
    c.tls.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n' + UPGRADE);
    await new Promise((r) => setTimeout(r, 300));
    c.tcp.resetAndDestroy();
    // On main the edge's socket has no 'error' listener while it waits: the reset is an uncaught
    // exception (mocha reports it here; the CLI's last resort logs it with stage "uncaught").
    await new Promise((r) => setTimeout(r, 500));
    expect(uncaught, 'uncaught exceptions').to.deep.equal([]);
    expect(t.events.filter((e) => e.kind === 'connection-error')).to.deep.equal([]);
  });

  it('timeouts.client still ends a connection whose Upgrade waits behind an answer the client does not read', async () => {
    t = await edgeInFront('timeouts: { client: 1, server: 3 }\n');
    const c = await tlsOverTcp(t.httpsPort);
    clients.push(c.tls, c.tcp);
    c.tls.pause();
    c.tls.write('GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n' + UPGRADE);
    expect(await waitFor(() => up!.streaming(), 3000), 'the download started').to.equal(true);
    // The same pipeline with a plain GET instead of the Upgrade ends at about 1 s.
    expect(await waitFor(() => !up!.streaming(), 6000), 'the download to the client that reads nothing ended').to.equal(true);
  });

  it('close() ends a connection whose Upgrade waits behind a download, within its grace', async () => {
    t = await edgeInFront('timeouts: { client: 30, server: 30 }\n');
    const c = await tlsOverTcp(t.httpsPort);
    clients.push(c.tls, c.tcp);
    c.tls.pause();
    c.tls.write('GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n' + UPGRADE);
    expect(await waitFor(() => up!.streaming(), 3000), 'the download started').to.equal(true);
    const edge = t.edge;
    const started = Date.now();
    const closed = await Promise.race([edge.close(500).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    expect(closed, `close(500) still pending after ${Date.now() - started} ms`).to.equal(true);
    t = null;
  });

  // The review proposed 200 here (an IP Host could only ever be served by the first configuration).
  // Kept 421: the route behind `*` is the cf app's, and a client connecting by IP gets kyma-app's
  // envoy dialect, so the cf app would get the client's own X-SSL-Client-* (the High finding again,
  // by IP). What changed is the advice: a name, not an SNI no client can send.
  it('the README\'s Kyma example reached by IP address (no SNI: the first configuration): 421 that says to connect by name', async () => {
    const { pki } = await testPki();
    const app = http.createServer((_req, res) => res.end('app'));
    const { port: appPort } = await listenOnLoopback(app);
    try {
      t = await startTestEdge({}, `dialect: envoy
tls:
  - name: kyma-app
    hosts: ["kyma.localhost"]
    cert: ${pki.server.chain}
    key: ${pki.server.key}
    trust: [${pki.rootCa.cert}]
  - name: cf-app
    hosts: ["*"]
    cert: ${pki.server.chain}
    key: ${pki.server.key}
    trust: [${pki.rootCa.cert}]
    dialect: cf
routes:
  - { host: "*", path: /, upstream: "http://127.0.0.1:${appPort}" }
`);
      // No servername: what curl, Node, Java and OpenSSL send for https://127.0.0.1:PORT/.
      const s = tls.connect({ host: '127.0.0.1', port: t.httpsPort, ca: readFileSync(pki.rootCa.cert) });
      clients.push(s);
      s.on('error', () => undefined);
      const head = await new Promise<string>((resolve) => {
        let out = '';
        const timer = setTimeout(() => resolve(out), 5000);
        s.on('data', (d: Buffer) => {
          out += d.toString('latin1');
          if (out.includes('\r\n\r\n')) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${t!.httpsPort}\r\nConnection: close\r\n\r\n`);
      });
      expect(head.split('\r\n')[0]).to.equal('HTTP/1.1 421 Misdirected Request');
      expect(head).to.match(/x-mtls-edge-error: .*a client connecting to an IP address sends no SNI and gets the first TLS configuration: connect by a host name that "cf-app" lists/i);
      expect(head).to.not.match(/connect with SNI 127/);
    } finally {
      app.closeAllConnections();
      app.close();
    }
  });

  // Bytes after a request that closes the connection (an old client's extra CRLF, a pipelined
  // request or Upgrade): llhttp refuses them with HPE_CLOSED_CONNECTION, and the edge used to
  // destroy the connection with the first answer still in progress (the client got 0 bytes).
  // HAProxy sends that answer and ignores the rest.
  for (const [name, first, after] of [
    ['Connection: close, then a pipelined GET', 'GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 'GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['HTTP/1.0, then a pipelined Upgrade', 'GET /slow HTTP/1.0\r\nHost: localhost\r\n\r\n', 'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['HTTP/1.0 POST, then an extra CRLF', 'POST /slow HTTP/1.0\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nok', '\r\n'],
  ] as const) {
    it(`${name}: the first answer arrives whole, then the connection closes`, async () => {
      const slow = http.createServer((req, res) => {
        req.resume();
        setTimeout(() => res.end(`body of ${req.url}`), 300);
      });
      const { port } = await listenOnLoopback(slow);
      try {
        t = await startTestEdge({}, `routes:\n  - { host: "*", path: /, upstream: "http://127.0.0.1:${port}" }\n`);
        const s = await tlsConnect(t.httpsPort);
        clients.push(s);
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString('latin1')));
        const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
        s.write(first + after);
        await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
        expect(out.split('\r\n')[0]).to.equal('HTTP/1.1 200 OK');
        expect(out.endsWith('body of /slow')).to.equal(true);
        expect(t.events.filter((e) => e.kind === 'connection-error')).to.deep.equal([]);
      } finally {
        slow.closeAllConnections();
        slow.close();
      }
    });
  }

  it('a pipelined request queued behind another on a connection that dies is no longer in flight, and a stop ends within its grace', async () => {
    // /slow answers after 20 s (since 1aa6bda its upstream request is cancelled when the client leaves).
    const upstream = http.createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('x'), 20_000).unref();
      else res.end('ok');
    });
    const { port } = await listenOnLoopback(upstream);
    try {
      t = await startTestEdge({}, `routes:\n  - { host: "*", path: /, upstream: "http://127.0.0.1:${port}" }\ntimeouts: { client: 1, server: 30 }\n`);
      const s = await tlsConnect(t.httpsPort);
      clients.push(s);
      s.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await waitFor(() => t!.edge.inFlight() === 2, 3000), 'both in flight').to.equal(true);
      resetConnection(s);
      expect(await waitFor(() => t!.edge.inFlight() === 0, 3000), `in flight after the client left: ${t.edge.inFlight()}`).to.equal(true);
      const started = Date.now();
      await t.edge.close(1500);
      expect(Date.now() - started).to.be.below(4000);
      expect(t.events.filter((e) => e.kind === 'lifecycle' && /still in flight/.test(e.message))).to.deep.equal([]);
    } finally {
      upstream.closeAllConnections();
      upstream.close();
    }
  });

  describe('the built-in echo under ulimit -n 256 (Linux)', function () {
    this.timeout(120_000);
    let dir: string;
    let edge: EdgeProcess | null = null;
    before(async function () {
      if (!existsSync('/proc/self/limits')) this.skip();
      const { pki } = await testPki();
      dir = mkdtempSync(join(tmpdir(), 'mtls-edge-review-fds-'));
      writeFileSync(join(dir, 'edge.yaml'), [`tls:\n  - cert: ${pki.server.chain}\n    key: ${pki.server.key}`, 'https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'admin: false', ''].join('\n'));
      edge = await startCli(['--config', join(dir, 'edge.yaml')], dir, [], { openFiles: 256 });
    });
    after(async () => {
      if (edge) await stopCli(edge);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('WebSocket tunnels to the echo up to the lowered cap are all served: the cap counts the echo\'s own descriptors', async () => {
      // Three descriptors per connection through the built-in echo, 128 reserved: (256 - 128) / 3.
      const notice = await waitForLine(edge!, /caps connections at \d+/);
      const cap = Number(/caps connections at (\d+)/.exec(notice)![1]);
      expect(cap).to.equal(42);
      const statuses = new Map<string, number>();
      let failures = 0;
      for (let i = 0; i < cap && failures < 3; i++) {
        let line: string;
        try {
          const c = await tlsOverTcp(edge!.httpsPort, 'localhost', 2000);
          clients.push(c.tls, c.tcp);
          line = await new Promise<string>((resolve) => {
            let out = '';
            const timer = setTimeout(() => resolve(out.split('\r\n')[0] || 'no answer'), 3000);
            c.tls.on('data', (d: Buffer) => {
              out += d.toString('latin1');
              if (out.includes('\r\n')) {
                clearTimeout(timer);
                resolve(out.split('\r\n')[0]!);
              }
            });
            c.tls.once('close', () => {
              clearTimeout(timer);
              resolve(out.split('\r\n')[0] || 'closed');
            });
            c.tls.write(UPGRADE);
          });
        } catch (e) {
          line = (e as Error).message;
        }
        if (!line.includes(' 101 ')) failures++;
        statuses.set(line, (statuses.get(line) ?? 0) + 1);
      }
      // On main: 77 or 78 tunnels, then the echo's accept or the edge's hits EMFILE: 502 "upstream
      // echo: ECONNRESET", or a TLS handshake that never starts, with no refusal logged.
      expect([...statuses]).to.deep.equal([['HTTP/1.1 101 Switching Protocols', cap]]);
    });
  });
});
