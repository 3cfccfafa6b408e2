// Hostile review 10: CONNECT (src/edge/connectMethod.ts, tunnel.ts) and the process-wide pipelined
// budget (src/edge/pipelinedResponses.ts). No defect was found: these pin what a hostile client was
// shown to get. Measured with HAProxy 2.6 and 3.2 on loopback (CF template timeouts, `timeout tunnel`
// 8 s): a client's FIN into a tunnel whose app keeps its side open is closed at `timeout tunnel`, not
// `timeout client`; a client that leaves (FIN or reset) while the app has not answered its CONNECT is
// not noticed either (the app's connection stays open), so the edge, which reads nothing from the
// client before the answer, is at parity there and that is not tested here.
import { expect } from 'chai';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { clientIdentity, httpRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { PassThrough } from 'node:stream';
import { overPipelinedBudget, PIPELINED_BUDGET, queuePipelined } from '../../src/edge/pipelinedResponses.js';
import { resetConnection, ResponseReader, tlsConnect } from '../support/rawHttp.js';
import { connectPlain, stopStarted, waitFor } from '../support/waits.js';

/** 300 KB of numbered lines: order and loss show in the comparison. */
const big = (): string => Array.from({ length: 30_000 }, (_, i) => `${String(i).padStart(9, '0')}\n`).join('');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const connectHead = (target: string, extra: readonly string[] = []): string => [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, ...extra, '', ''].join('\r\n');

describe('hostile review 10: CONNECT and the pipelined budget', function () {
  this.timeout(30_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  const appSockets = new Set<net.Socket>();
  let appGot = '';
  afterEach(async () => {
    for (const s of appSockets) s.destroy();
    appSockets.clear();
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  /** The head of every GET and CONNECT the app received, as [name, value] pairs. */
  let appHeads: { method: string; headers: [string, string][] }[] = [];
  const recordHead = (req: http.IncomingMessage): void => {
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    appHeads.push({ method: req.method ?? '', headers });
  };
  async function start(yaml = ''): Promise<TestEdge> {
    appGot = '';
    appHeads = [];
    up = http.createServer((req, res) => {
      recordHead(req);
      req.resume();
      if (req.url === '/hold') setTimeout(() => res.end('held'), 400).unref();
      else res.end('ok');
    });
    up.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      recordHead(req);
      appSockets.add(socket);
      socket.once('close', () => appSockets.delete(socket));
      socket.on('error', () => socket.destroy());
      // Node's server sockets allow half-open: the app ends its side when the edge ends its own.
      socket.on('end', () => socket.end());
      const label = (req.url ?? '').split('.')[0];
      if (label === 'silent') return;
      if (label === 'ignorefin') {
        socket.removeAllListeners('end');
        socket.write('HTTP/1.1 200 OK\r\n\r\n');
        return;
      }
      if (label === 'halfclose') {
        socket.write('HTTP/1.1 200 OK\r\n\r\n');
        appGot += head.toString('latin1');
        socket.on('data', (c: Buffer) => (appGot += c.toString('latin1')));
        socket.removeAllListeners('end');
        socket.on('end', () => socket.end(`pong after ${appGot}`));
        return;
      }
      if (label === 'slowecho') {
        // Answers after 300 ms; echoes everything, head included, as a byte count and a hash at the client's FIN.
        let got = head.toString('latin1');
        socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
        socket.removeAllListeners('end');
        socket.on('end', () => socket.end(`len=${got.length};ok=${got === big()}`));
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\n\r\n'), 300);
        return;
      }
      if (label === 'short') {
        socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nabcde');
        return;
      }
      socket.write('HTTP/1.1 200 OK\r\n\r\n');
      socket.on('data', (c: Buffer) => socket.write(c));
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `${yaml}routes:\n  - upstream: http://127.0.0.1:${port}\n`);
    return t;
  }
  const tls = async (edge: TestEdge): Promise<net.Socket> => {
    const s = await tlsConnect(edge.httpsPort, { identity: await clientIdentity('valid') });
    clients.push(s);
    return s;
  };
  const plain = async (edge: TestEdge): Promise<net.Socket> => {
    const s = await connectPlain(edge.httpPort);
    s.on('error', () => undefined);
    clients.push(s);
    return s;
  };

  it('https: a tunnel the client closes frees its max_connections slot', async () => {
    const edge = await start('max_connections: 1\n');
    const s = await tls(edge);
    const r = new ResponseReader(s);
    s.write(connectHead('echo.test:443'));
    expect((await r.head()).status).to.equal(200);
    s.write('x');
    expect((await r.bytes(1)).toString()).to.equal('x');
    s.destroy();
    await sleep(300);
    const after = await httpRequest(edge.httpPort, { path: '/after' }).catch((e: Error) => e);
    expect(after instanceof Error ? after.message : after.status).to.equal(200);
  });

  it('close() with a tunnel open and a CONNECT waiting for a silent app: ends both at once, and their app connections', async () => {
    const edge = await start();
    const a = await tls(edge);
    const ra = new ResponseReader(a);
    a.write(connectHead('echo.test:443'));
    expect((await ra.head()).status).to.equal(200);
    const b = await plain(edge);
    b.write(connectHead('silent.test:443'));
    await waitFor(() => appSockets.size === 2, 2000);
    const started = Date.now();
    await Promise.race([edge.edge.close(300), sleep(5000)]);
    const took = Date.now() - started;
    t = null;
    expect(took).to.be.below(2000);
    expect(await waitFor(() => a.destroyed && b.destroyed || (a.readableEnded && b.readableEnded), 2000)).to.equal(true);
    expect(await waitFor(() => appSockets.size === 0, 2000), 'app sockets closed').to.equal(true);
  });

  for (const kind of ['http', 'https'] as const) {
    it(`${kind}: half-close in a tunnel: the app's answer after the client's FIN reaches the client`, async () => {
      const edge = await start();
      const s = kind === 'http' ? await plain(edge) : await tls(edge);
      const r = new ResponseReader(s);
      s.write(connectHead('halfclose.test:443') + 'ping');
      expect((await r.head()).status).to.equal(200);
      await sleep(100);
      s.end();
      expect((await r.untilClosed(3000)).toString()).to.equal('pong after ping');
    });
  }

  it('a relayed refusal whose body stops short: both connections cut at timeouts.server (1 s)', async () => {
    const edge = await start('timeouts: { server: 1 }\n');
    const s = await plain(edge);
    const r = new ResponseReader(s);
    s.write(connectHead('short.test:443'));
    expect((await r.head()).status).to.equal(403);
    const from = Date.now();
    await r.untilClosed(5000);
    expect(Date.now() - from).to.be.below(2500);
    expect(await waitFor(() => appSockets.size === 0, 2000), 'app socket closed').to.equal(true);
  });

  for (const kind of ['http', 'https'] as const) {
    for (const before of kind === 'http' ? (['none'] as const) : (['get', 'pipelined'] as const)) {
      it(`${kind}, CONNECT after ${before === 'get' ? 'a keep-alive GET' : before === 'pipelined' ? 'a pipelined GET' : 'nothing'}: an idle tunnel outlives timeouts.client (1 s) up to timeouts.tunnel (3 s)`, async () => {
        const edge = await start('timeouts: { client: 1, tunnel: 3, keep_alive: 1 }\n');
        const s = kind === 'http' ? await plain(edge) : await tls(edge);
        const r = new ResponseReader(s);
        if (before === 'get') {
          s.write('GET /x HTTP/1.1\r\nHost: echo.test\r\n\r\n');
          expect((await r.next()).status).to.equal(200);
          s.write(connectHead('echo.test:443'));
        } else if (before === 'pipelined') {
          s.write('GET /x HTTP/1.1\r\nHost: echo.test\r\n\r\n' + connectHead('echo.test:443'));
          expect((await r.next()).status).to.equal(200);
        } else s.write(connectHead('echo.test:443'));
        expect((await r.head()).status).to.equal(200);
        const from = Date.now();
        await r.untilClosed(6000);
        expect(Date.now() - from).to.be.within(2500, 4500);
      });
    }
  }

  for (const kind of ['http', 'https'] as const) {
    for (const before of ['none', 'pipelined'] as const) {
      it(`${kind}, ${before === 'none' ? 'alone' : 'behind a pipelined GET'}: 300 KB sent before the app's 2xx all reach the app, in order`, async () => {
        const edge = await start();
        const s = kind === 'http' ? await plain(edge) : await tls(edge);
        const r = new ResponseReader(s);
        s.write((before === 'pipelined' ? 'GET /x HTTP/1.1\r\nHost: slowecho.test\r\n\r\n' : '') + connectHead('slowecho.test:443') + big());
        if (before === 'pipelined') expect((await r.next()).status).to.equal(200);
        expect((await r.head()).status).to.equal(200);
        s.end();
        expect((await r.untilClosed(5000)).toString()).to.equal(`len=${big().length};ok=true`);
      });
    }
  }

  /**
   * How many pipelined requests the process counts as waiting: filled up to the budget with a stream
   * of its own, then emptied. Every edge of this process shares the count.
   */
  const pipelinedCounted = (): number => {
    const probe = new PassThrough();
    const taken: (() => void)[] = [];
    while (!overPipelinedBudget() && taken.length <= PIPELINED_BUDGET) taken.push(queuePipelined(probe, () => undefined));
    for (const t of taken) t();
    probe.destroy();
    return PIPELINED_BUDGET + 1 - taken.length;
  };
  const PIPE = 'GET /hold HTTP/1.1\r\nHost: echo.test\r\n\r\n' + 'GET /x HTTP/1.1\r\nHost: echo.test\r\n\r\n'.repeat(5);
  const DRIFT: readonly { name: string; run: (edge: TestEdge, s: net.Socket) => Promise<void> }[] = [
    { name: 'the client resets while its pipeline waits', run: async (_e, s) => { s.write(PIPE); await sleep(100); resetConnection(s); } },
    { name: 'the client leaves after its answers', run: async (_e, s) => { s.write(PIPE); await new ResponseReader(s).bytes(1); await sleep(600); s.destroy(); } },
    { name: 'a CONNECT behind the pipeline, its tunnel then closed', run: async (_e, s) => { s.write(PIPE + connectHead('echo.test:443')); await sleep(700); s.destroy(); } },
    { name: 'a CONNECT behind the pipeline, the client resets while it waits', run: async (_e, s) => { s.write(PIPE + connectHead('silent.test:443')); await sleep(100); resetConnection(s); } },
    { name: 'the edge closes while the pipeline waits', run: async (e, s) => { s.write(PIPE); await sleep(100); await e.edge.close(50); } },
  ];
  for (const kind of ['http', 'https'] as const) {
    for (const d of DRIFT) {
      it(`pipelined budget, ${kind}: ${d.name}: nothing stays counted`, async () => {
        expect(pipelinedCounted(), 'before').to.equal(0);
        const edge = await start();
        const s = kind === 'http' ? await plain(edge) : await tls(edge);
        await d.run(edge, s);
        expect(await waitFor(() => pipelinedCounted() === 0, 3000), `counted: ${pipelinedCounted()}`).to.equal(true);
      });
    }
  }

  for (const kind of ['http', 'https'] as const) {
    it(`pipelined budget, ${kind}: a connection over it is refused once, and what it queued is uncounted at its close`, async () => {
      const edge = await start();
      const holder = new PassThrough();
      const held: (() => void)[] = [];
      try {
        while (held.length < PIPELINED_BUDGET - 2) held.push(queuePipelined(holder, () => undefined));
        const s = kind === 'http' ? await plain(edge) : await tls(edge);
        // 5 pipelined behind /hold: the third is over the budget.
        s.write(PIPE);
        expect(await waitFor(() => s.destroyed || s.readableEnded, 3000), 'closed').to.equal(true);
        await sleep(200);
        const refused = edge.events.filter((e) => e.kind === 'connection-refused');
        expect(refused.map((e) => e.kind === 'connection-refused' && e.cap)).to.deep.equal(['pipelined']);
        expect(pipelinedCounted(), 'only the holder counted').to.equal(held.length);
      } finally {
        for (const h of held) h();
        holder.destroy();
      }
    });
  }

  for (const row of [{ tls: 'ca', status: 200 }, { tls: 'none', status: 502 }] as const) {
    it(`CONNECT to an https upstream, ${row.tls === 'ca' ? 'its CA configured: a tunnel over TLS' : 'no CA for it: 502, no tunnel to an unverified app'}`, async () => {
      const { pki } = await testPki();
      const app = https.createServer({ cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key) });
      app.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
        appSockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.write('HTTP/1.1 200 OK\r\n\r\n');
        socket.on('data', (c: Buffer) => socket.write(`tls:${c.toString()}`));
      });
      app.on('tlsClientError', () => undefined);
      const { port } = await listenOnLoopback(app as unknown as http.Server);
      up = app as unknown as http.Server;
      const tlsBlock = row.tls === 'ca' ? `\n    tls:\n      ca: ${pki.rootCa.cert}\n      servername: localhost` : '';
      t = await startTestEdge({}, `routes:\n  - upstream: https://127.0.0.1:${port}${tlsBlock}\n`);
      const s = await plain(t);
      const r = new ResponseReader(s);
      s.write(connectHead('x.test:443'));
      expect((await r.head()).status).to.equal(row.status);
      if (row.status === 200) {
        s.write('hi');
        expect((await r.bytes(6)).toString()).to.equal('tls:hi');
      }
    });
  }

  for (const kind of ['http', 'https'] as const) {
    it(`${kind}: a client's FIN into a tunnel whose app keeps its side open: closed at timeouts.tunnel (2 s), not timeouts.client (1 s), as HAProxy 2.6 and 3.2`, async () => {
      const edge = await start('timeouts: { client: 1, tunnel: 2 }\n');
      const s = kind === 'http' ? await plain(edge) : await tls(edge);
      const r = new ResponseReader(s);
      s.write(connectHead('ignorefin.test:443'));
      expect((await r.head()).status).to.equal(200);
      const from = Date.now();
      s.end();
      await r.untilClosed(5000);
      expect(Date.now() - from).to.be.within(1700, 3500);
    });
  }

  for (const dialect of ['cf', 'envoy', 'rfc9440', 'traefik'] as const) {
    it(`https, dialect ${dialect}: forged certificate headers on a CONNECT fare as on a GET of the same connection; the dialect's own never reaches the app`, async () => {
      const forged = ['X-Forwarded-Client-Cert: forged', 'X-SSL-Client-Verify: 0', 'X-SSL-Client-Cert: forged', 'Client-Cert: :Zm9yZ2Vk:', 'Client-Cert-Chain: :Zm9yZ2Vk:', 'X-Forwarded-Tls-Client-Cert: forged', 'X-Forwarded-Tls-Client-Cert-Info: forged'];
      const edge = await start(`dialect: ${dialect}\n`);
      const s = await tls(edge);
      const r = new ResponseReader(s);
      s.write(['GET /same HTTP/1.1', 'Host: echo.test:443', ...forged, '', ''].join('\r\n'));
      expect((await r.next()).status).to.equal(200);
      s.write(connectHead('echo.test:443', forged));
      expect((await r.head()).status).to.equal(200);
      const [get, connect] = appHeads;
      const certHeaders = (h: [string, string][]): [string, string][] => h.filter(([n]) => /client|cert|ssl/i.test(n));
      expect(certHeaders(connect!.headers)).to.deep.equal(certHeaders(get!.headers));
      // Each dialect replaces only its own headers (docs/dialects.md): the client's copy of that one never reaches the app.
      const own = { cf: ['X-Forwarded-Client-Cert', 'forged'], envoy: ['X-Forwarded-Client-Cert', 'forged'], rfc9440: ['Client-Cert', ':Zm9yZ2Vk:'], traefik: ['X-Forwarded-Tls-Client-Cert', 'forged'] }[dialect];
      expect(connect!.headers).to.not.deep.include(own);
    });
  }
});
