import { expect } from 'chai';
import http from 'node:http';
import { EventBus, type EdgeEvent } from '../../src/observe/events.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { ADMIN_MAX_CONNECTIONS, ADMIN_MAX_EVENT_STREAMS, startAdminServer, type AdminServer } from '../../src/observe/adminServer.js';
import net from 'node:net';
import { FLOW_PAGE_CSP } from '../../src/observe/flowPage.js';
import { createObservability } from '../../src/observe/index.js';
import { Collect, DEV_CLIENT, FAKE_KEY_PEM, KEY_BODY_MARKER, requestEvent, statusFixture, T0 } from './fixtures.js';

/** Reads an SSE stream until `until` matches what arrived, then closes it. */
function readSse(port: number, until: RegExp, headers: http.OutgoingHttpHeaders = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/events', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (until.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', reject);
    setTimeout(() => {
      req.destroy();
      reject(new Error('no matching SSE data in time'));
    }, 5000);
  });
}

describe('observe/adminServer', () => {
  let admin: AdminServer | null = null;
  let ready = true;
  const bus = new EventBus();
  const base = (): string => `http://127.0.0.1:${admin?.port}`;

  before(async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    bus.subscribe(metrics); // createObservability does this wiring in the edge
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      bus,
      status: () => statusFixture({ ready, counters: { configReloads: 2 } }),
      ringSize: 5,
      logger: createLogger({ format: 'json', stream: new Collect() }),
      metrics,
    });
  });
  after(async () => {
    await admin?.close();
  });

  it('serves the flow page with a CSP that admits only its own script', async () => {
    const res = await fetch(base() + '/');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-security-policy')).to.equal(FLOW_PAGE_CSP);
    const html = await res.text();
    expect(html).to.contain('<meta name="ring-size" content="5">');
    expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//); // no external assets
  });

  it('answers /status with listeners, TLS configurations, routes, counters, version and uptime', async () => {
    bus.emit(requestEvent());
    const doc = (await (await fetch(base() + '/status')).json()) as Record<string, unknown> & { counters: Record<string, number>; tlsConfigs: { trustList: unknown[] }[] };
    expect(doc['version']).to.equal('0.1.0');
    expect(doc['uptimeSeconds']).to.be.within(3700, 3800);
    expect(doc.tlsConfigs[0]?.trustList).to.have.length(2);
    expect(doc['routes']).to.have.length(2);
    expect(doc['listeners']).to.have.length(2);
    expect(doc.counters).to.include({ configReloads: 2, requests: 1, flowPageClients: 0 });
  });

  it('answers /healthz 200 ok when ready, 503 otherwise', async () => {
    const ok = await fetch(base() + '/healthz');
    expect([ok.status, await ok.text()]).to.deep.equal([200, 'ok\n']);
    ready = false;
    expect((await fetch(base() + '/healthz')).status).to.equal(503);
    ready = true;
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(base() + '/metrics');
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await res.text()).to.contain('mtls_edge_requests_total{status="200",route="api.acme.test/"} 1');
  });

  it('refuses foreign Host names on a loopback bind (DNS rebinding) and unknown paths', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: admin?.port, path: '/status', headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).to.equal(421);
    expect((await fetch(base() + '/nope')).status).to.equal(404);
    expect((await fetch(base() + '/status', { method: 'POST' })).status).to.equal(405);
  });

  it('replays the ring over SSE, bounded to its size, then streams live, resuming after Last-Event-ID', async () => {
    for (let i = 0; i < 8; i++) bus.emit(requestEvent({ id: `ring-${i}` }));
    const first = await readSse(admin!.port, /ring-7/);
    expect(first).to.match(/^retry: 2000\nevent: hello\n/);
    const ids = [...first.matchAll(/"id":"(ring-\d)"/g)].map((m) => m[1]);
    expect(ids).to.deep.equal(['ring-3', 'ring-4', 'ring-5', 'ring-6', 'ring-7']); // ring size 5
    const seqs = [...first.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const resumeFrom = seqs[3]!;
    const live = readSse(admin!.port, /live-1/, { 'last-event-id': String(resumeFrom) });
    await new Promise((r) => setTimeout(r, 100));
    bus.emit(requestEvent({ id: 'live-1' }));
    const second = await live;
    expect([...second.matchAll(/"id":"((ring|live)-\d)"/g)].map((m) => m[1])).to.deep.equal(['ring-7', 'live-1']);
    expect(admin!.stream.recent()).to.have.length(5);
  });

  it('does not serialise events while no page is connected', async () => {
    await new Promise((r) => setTimeout(r, 50)); // let the previous streams' close events land
    expect(admin!.stream.clientCount).to.equal(0);
    let serialised = 0;
    // A certificate object per event: a summary shared by events is serialised once and cached.
    const cert = (): typeof DEV_CLIENT => ({ ...DEV_CLIENT, toJSON: () => (serialised++, DEV_CLIENT) }) as typeof DEV_CLIENT;
    for (let i = 0; i < 100; i++) bus.emit(requestEvent({ cert: cert() }));
    expect(serialised).to.equal(0);
    await readSse(admin!.port, /dev-client/);
    expect(serialised).to.equal(5); // the replay of the ring only
  });

  it('never sends a key or password to the page', async () => {
    const leaky: EdgeEvent = { kind: 'lifecycle', time: T0, level: 'error', message: `reload failed: ${FAKE_KEY_PEM}`, fields: { passphrase: 'hunter2', detail: FAKE_KEY_PEM } };
    bus.emit(leaky);
    const text = await readSse(admin!.port, /reload failed/);
    expect(text).to.not.contain(KEY_BODY_MARKER);
    expect(text).to.not.contain('hunter2');
    const api = await (await fetch(base() + '/api/events')).text();
    expect(api).to.not.contain(KEY_BODY_MARKER);
    expect(api).to.not.contain('hunter2');
  });
});

describe('observe/adminServer: bounded connections (a hostile client needs no token to connect)', function () {
  this.timeout(30_000);
  let admin: AdminServer | null = null;
  const log = new Collect();
  const bus = new EventBus();
  const sockets: net.Socket[] = [];
  before(async () => {
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, bus, status: () => statusFixture({}), ringSize: 5, logger: createLogger({ format: 'json', stream: log }) });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await admin?.close();
  });

  it(`holds at most ${ADMIN_MAX_CONNECTIONS} connections, closes idle ones within seconds, keeps a page's /events stream, and serves again after`, async () => {
    // A page's event stream, open for longer than the request timeouts.
    let sse = '';
    let sseClosed = false;
    const page = http.get({ host: '127.0.0.1', port: admin!.port, path: '/events' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => (sse += c));
    });
    page.on('close', () => (sseClosed = true));
    page.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const closedAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < ADMIN_MAX_CONNECTIONS + 10; i++) {
      const s = net.connect({ host: '127.0.0.1', port: admin!.port });
      s.on('error', () => undefined);
      s.on('close', () => closedAt.push(Date.now() - start));
      // Reading, so the client sees the server's close.
      s.resume();
      sockets.push(s);
    }
    // Over the cap (one slot is the page's): closed at accept.
    for (let i = 0; i < 50 && closedAt.length < 11; i++) await new Promise((r) => setTimeout(r, 100));
    expect(closedAt.length, 'closed at accept').to.equal(11);
    expect(log.text).to.include(`admin listener: ${ADMIN_MAX_CONNECTIONS} connections open`);
    // The idle ones: closed by the header timeout (5 s, checked every second), not held for 90 s.
    for (let i = 0; i < 100 && closedAt.length < ADMIN_MAX_CONNECTIONS + 10; i++) await new Promise((r) => setTimeout(r, 100));
    expect(closedAt.length, 'all idle connections closed').to.equal(ADMIN_MAX_CONNECTIONS + 10);
    expect(Math.max(...closedAt)).to.be.below(9_000);
    // Past both request timeouts the page's stream is still open and still delivers events.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_500 - (Date.now() - start))));
    bus.emit(requestEvent());
    for (let i = 0; i < 30 && !/"kind":"request"/.test(sse); i++) await new Promise((r) => setTimeout(r, 100));
    expect(sseClosed, 'the /events stream was closed').to.equal(false);
    expect(sse).to.match(/"kind":"request"/);
    page.destroy();
    const res = await fetch(`http://127.0.0.1:${admin!.port}/healthz`);
    expect(res.status).to.equal(200);
  });

  it(`serves at most ${ADMIN_MAX_EVENT_STREAMS} /events streams, so /healthz and /metrics keep room`, async () => {
    const pages: http.ClientRequest[] = [];
    try {
      const statuses: number[] = [];
      for (let i = 0; i < ADMIN_MAX_EVENT_STREAMS + 2; i++) {
        statuses.push(
          await new Promise<number>((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: admin!.port, path: '/events' }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.on('error', reject);
            pages.push(req);
          }),
        );
      }
      expect(statuses.filter((s) => s === 200)).to.have.length(ADMIN_MAX_EVENT_STREAMS);
      expect(statuses.slice(ADMIN_MAX_EVENT_STREAMS)).to.deep.equal([503, 503]);
      expect((await fetch(`http://127.0.0.1:${admin!.port}/healthz`)).status).to.equal(200);
    } finally {
      for (const p of pages) p.destroy();
    }
  });
});

describe('observe/index createObservability', () => {
  it('keeps no metrics without an admin listener (nothing could scrape them)', async () => {
    const obs = await createObservability({ stdout: new Collect(), logFormat: 'json', accessLogFormat: 'off', admin: null, status: () => statusFixture() });
    try {
      expect(obs.metrics).to.equal(null);
      expect(obs.adminPort).to.equal(null);
    } finally {
      await obs.close();
    }
  });

  it('wires log, access log, metrics and the admin listener, and closes cleanly', async () => {
    const out = new Collect();
    const obs = await createObservability({ stdout: out, logFormat: 'json', accessLogFormat: 'cpi', admin: { host: '127.0.0.1', port: 0 }, status: () => statusFixture(), defaultMetrics: false });
    try {
      expect(obs.adminPort).to.be.a('number');
      expect(out.lines, 'the flow page is announced by the caller, once every listener is up').to.deep.equal([]);
      obs.announceAdmin();
      obs.bus.emit(requestEvent({ mappedUser: 'SALES_SENDER' }));
      obs.bus.emit({ kind: 'handshake-rejected', time: T0, listener: 'https', clientAddress: '203.0.113.5', sni: null, tlsConfig: 'acme', cert: null, verify: null, alert: 'certificate_required', reason: 'no client certificate sent', hint: '', explained: false });
      expect(obs.metrics, 'metrics exist with an admin listener').to.not.equal(null);
      obs.metrics!.connectionOpened();
      const metrics = await (await fetch(`http://127.0.0.1:${obs.adminPort}/metrics`)).text();
      expect(metrics).to.contain('mtls_edge_open_connections 1');
    } finally {
      await obs.close();
    }
    // A JSON log is JSON on every line, the access log's too (its text under msg).
    const json = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.find((j) => j['event'] === 'access')).to.include({ level: 'info', format: 'cpi', status: 200 });
    expect(String(json.find((j) => j['event'] === 'access')?.['msg'])).to.match(/^192\.0\.2\.10 - SALES_SENDER \[/);
    expect(json.find((j) => j['event'] === 'handshake-rejected')).to.include({ codeName: 'NO_CERTIFICATE', level: 'warn' });
    expect(String(json[0]?.['msg'])).to.match(/^flow page: http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('reports a busy admin port in plain words', async () => {
    const a = await createObservability({ stdout: new Collect(), admin: { host: '127.0.0.1', port: 0 }, status: () => statusFixture(), defaultMetrics: false });
    try {
      let err: Error | null = null;
      try {
        await createObservability({ stdout: new Collect(), admin: { host: '127.0.0.1', port: a.adminPort! }, status: () => statusFixture(), defaultMetrics: false });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/port is in use/);
    } finally {
      await a.close();
    }
  });
});

describe('observe/adminServer: /api/events is bounded, pipelined admin requests are answered one at a time', function () {
  this.timeout(60_000);
  let admin: AdminServer | null = null;
  const bus = new EventBus();
  const BIG_EVENTS = 300;
  before(async () => {
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, bus, status: () => statusFixture({}), ringSize: 500, logger: createLogger({ format: 'json', stream: new Collect() }) });
    // 12 KB of U+0085 in the path: escaped as \u0085 in the JSON, about 72 KB per event, 21 MB for the ring.
    for (let i = 0; i < BIG_EVENTS; i++) bus.emit(requestEvent({ id: `big-${i}`, path: `/${'\u0085'.repeat(12_000)}` }));
  });
  after(async () => {
    await admin?.close();
  });

  it('answers the newest events that fit in 4 MiB, in order, and says how many older ones it left out', async () => {
    const r = await new Promise<{ status: number; omitted: string | undefined; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: admin!.port, path: '/api/events' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, omitted: res.headers['x-mtls-edge-events-omitted'] as string | undefined, body }));
      }).on('error', reject);
    });
    expect(r.status).to.equal(200);
    expect(r.body.length).to.be.at.most(4 * 1024 * 1024);
    const events = (JSON.parse(r.body) as { event: { id: string } }[]).map((e) => e.event.id);
    expect(events.length).to.be.above(10);
    expect(events[events.length - 1]).to.equal(`big-${BIG_EVENTS - 1}`);
    expect(Number(r.omitted)).to.equal(BIG_EVENTS - events.length);
  });

  it('40 pipelined GET /api/events from a client that reads nothing build one answer, not forty; read later, all forty arrive', async () => {
    const socket = net.connect(admin!.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    try {
      socket.pause();
      const heapBefore = process.memoryUsage().heapUsed;
      socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(40));
      await new Promise((r) => setTimeout(r, 1500));
      // Forty answers would be 40 × 4 MiB of strings (before the bound, 40 × 21 MB, past the heap limit).
      expect(process.memoryUsage().heapUsed - heapBefore).to.be.below(64 * 1024 * 1024);
      let received = 0;
      let statusLines = 0;
      let tail = '';
      await new Promise<void>((resolve, reject) => {
        const limit = setTimeout(() => reject(new Error(`only ${statusLines} answers within 30 s`)), 30_000);
        socket.on('data', (d: Buffer) => {
          received += d.length;
          // A status line may straddle two reads: `tail` carries the last bytes of the previous one,
          // and only a line that ends in this read is counted.
          const text = tail + d.toString('latin1');
          for (const m of text.matchAll(/HTTP\/1\.1 200 OK\r\n/g)) if (m.index + m[0].length > tail.length) statusLines++;
          tail = text.slice(-16);
          if (statusLines === 40) {
            clearTimeout(limit);
            resolve();
          }
        });
        socket.resume();
      });
      expect(received).to.be.above(40 * 1024 * 1024);
    } finally {
      socket.destroy();
    }
  });
});
