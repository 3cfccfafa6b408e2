// The lesson runner against a real edge (test PKI, echo upstream): "each mode side by side" sends the
// same request (client certificate, forged headers) through the edge under each of the four
// forwarded_client_cert modes, and the echo upstream's report shows what each mode let through. The
// one-connection lesson listeners serve no other client.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { statusSnapshot } from '../../src/edge/statusSnapshot.js';
import { EventBus, type EdgeEvent } from '../../src/observe/events.js';
import { EventStream } from '../../src/observe/eventStream.js';
import { lessonRunner } from '../../src/observe/lessonRunner.js';
import type { EchoDescription } from '../../src/echo/echoServer.js';
import { clientIdentity, testPki } from '../support/edgeHarness.js';
import { crlPaths } from '../../src/pki/devPki.js';

interface Run {
  mode?: string;
  outcome: { kind: string; status?: number; body?: string };
  seqs: number[];
}

const cnReceived = (run: Run): string[] =>
  (JSON.parse(run.outcome.body!) as EchoDescription).headers.filter(([n]) => n.toLowerCase() === 'x-ssl-client-subject-cn').map(([, v]) => Buffer.from(v, 'base64').toString());

describe('observe/lessonRunner with a real edge', function () {
  this.timeout(30_000);
  let edge: RunningEdge | null = null;
  let stream: EventStream;
  let runner: ReturnType<typeof lessonRunner>;

  before(async () => {
    const { dir } = await testPki();
    const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir, admin: false } });
    const bus = new EventBus();
    stream = new EventStream({ ringSize: 100 });
    bus.subscribe(stream);
    edge = await startEdge(loaded.config, loaded.resolved, bus);
    const running = edge;
    runner = lessonRunner(stream, () => statusSnapshot(running, 'test', Date.now(), '127.0.0.1'), {
      pkiDir: () => dir,
      openModeListener: (mode) => running.openLessonListener(mode),
    });
  });

  after(async () => {
    await edge?.close(1000);
  });

  it('sends the same request through the edge under each mode; the upstream gets what that mode lets through', async () => {
    const result = await runner.run('modes');
    expect(result.status).to.equal(200);
    const body = result.body as { outcome: Run['outcome']; seqs: number[]; modes: Run[] };
    // The edge's own listener runs sanitize_set (the default), and stays so.
    expect(cnReceived(body)).to.deep.equal(['dev-client']);
    expect(body.modes.map((m) => m.mode)).to.deep.equal(['always_forward_only', 'forward_only', 'sanitize_set', 'forward_only_if_route_service']);
    const byMode = new Map(body.modes.map((m) => [m.mode, m]));
    // With a certificate used: forward_only deletes only when no certificate was used.
    expect(cnReceived(byMode.get('always_forward_only')!)).to.deep.equal(['admin']);
    expect(cnReceived(byMode.get('forward_only')!)).to.deep.equal(['admin']);
    expect(cnReceived(byMode.get('sanitize_set')!)).to.deep.equal(['dev-client']);
    expect(cnReceived(byMode.get('forward_only_if_route_service')!)).to.deep.equal(['dev-client']);
    for (const run of body.modes) {
      expect(run.seqs, run.mode).to.have.length(1);
      const event = stream.recent().find((i) => i.seq === run.seqs[0])!.event;
      expect(event.kind === 'request' && event.forwardedClientCert, run.mode).to.equal(run.mode);
    }
    expect(edge!.runtime().settings.forwardedClientCert).to.equal('sanitize_set');
  });

  it('the route-service gap: any X-Cf-Proxy-Signature keeps the forged identity only in forward_only_if_route_service', async () => {
    const body = (await runner.run('route-service-gap')).body as { modes: Run[] };
    const byMode = new Map(body.modes.map((m) => [m.mode, m]));
    expect(cnReceived(byMode.get('forward_only_if_route_service')!)).to.deep.equal(['admin']);
    expect(cnReceived(byMode.get('sanitize_set')!)).to.deep.equal([]);
  });

  it('the revoked lesson: accepted and a note naming the --crl start command without CRLs; refused with 23 with them', async () => {
    const without = (await runner.run('revoked')).body as { outcome: Run['outcome']; note: string | null };
    expect(without.outcome.kind).to.equal('response');
    expect(without.note).to.match(/restart it with: npm start -- --crl \S*crl\/root-ca\.crl --crl \S*crl\/intermediate-ca\.crl$/);

    const { dir } = await testPki();
    const crls = crlPaths(dir);
    const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir, admin: false, crl: [crls.root, crls.intermediate] } });
    const bus = new EventBus();
    const withCrls = new EventStream({ ringSize: 20 });
    bus.subscribe(withCrls);
    const checking = await startEdge(loaded.config, loaded.resolved, bus);
    try {
      const crlRunner = lessonRunner(withCrls, () => statusSnapshot(checking, 'test', Date.now(), '127.0.0.1'), { pkiDir: () => dir, openModeListener: (mode) => checking.openLessonListener(mode) });
      const body = (await crlRunner.run('revoked')).body as { outcome: Run['outcome']; seqs: number[]; note: string | null };
      expect(body.outcome.kind).to.equal('refused');
      expect(body.note).to.equal(null);
      const event = withCrls.recent().find((i) => i.seq === body.seqs[0])!.event;
      expect(event.kind === 'handshake-rejected' ? event.verify?.code : null).to.equal(23);
    } finally {
      await checking.close(1000);
    }
  });

  it('names only the events of its own connection, while other clients are refused and served at the same time', async () => {
    // Another client on loopback keeps sending a self-signed certificate (refused, code 18) and a
    // valid request to the lesson's own path while the lessons run; none of its events is theirs.
    const selfSigned = await clientIdentity('self-signed');
    const valid = await clientIdentity('valid');
    const ca = readFileSync((await testPki()).pki.rootCa.cert);
    const strangerPorts = new Set<number>();
    let stop = false;
    const once = (identity: { cert: Buffer; key: Buffer }, path: string): Promise<void> => new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: edge!.httpsPort, servername: 'localhost', ca, ...identity }, () => {
        socket.end(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      });
      socket.once('connect', () => strangerPorts.add(socket.localPort!));
      socket.on('data', () => undefined);
      socket.once('error', () => resolve());
      socket.once('close', () => resolve());
    });
    const stranger = (async () => {
      for (let i = 0; i < 400 && !stop; i++) await Promise.all([once(selfSigned, '/'), once(valid, '/lesson/valid')]);
    })();
    // Read right after each run, before the other client's events push them out of the ring.
    const eventsOf = async (id: string): Promise<{ outcome: Run['outcome']; events: EdgeEvent[] }> => {
      const body = (await runner.run(id)).body as { outcome: Run['outcome']; seqs: number[] };
      return { outcome: body.outcome, events: body.seqs.map((seq) => stream.recent().find((i) => i.seq === seq)!.event) };
    };
    try {
      const expired = await eventsOf('expired');
      const served = await eventsOf('valid');
      expect(expired.outcome.kind).to.equal('refused');
      expect(served.outcome.kind).to.equal('response');
      expect(expired.events.map((e) => (e.kind === 'handshake-rejected' ? e.verify?.code : e.kind))).to.deep.equal([10]);
      expect(served.events.map((e) => (e.kind === 'request' ? e.path : e.kind))).to.deep.equal(['/lesson/valid']);
      for (const e of [...expired.events, ...served.events]) {
        expect(e.kind === 'request' || e.kind === 'handshake-rejected' ? strangerPorts.has(e.clientPort!) : true, 'an event of the other client').to.equal(false);
      }
    } finally {
      stop = true;
      await stranger;
    }
    // The other client's refused handshakes carry its port too: the lesson runner tells them apart by it.
    const rejected = stream.recent().map((i) => i.event).filter((e) => e.kind === 'handshake-rejected' && e.verify?.code === 18);
    expect(rejected.length, 'the other client was refused meanwhile').to.be.greaterThan(0);
    expect(rejected.every((e) => e.kind === 'handshake-rejected' && e.clientPort !== undefined && strangerPorts.has(e.clientPort))).to.equal(true);
  });

  it('a lesson listener serves only the connection the runner names, then accepts nothing', async () => {
    const listener = await edge!.openLessonListener('always_forward_only');
    try {
      const stranger = net.connect(listener.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        stranger.once('connect', () => resolve());
        stranger.once('error', reject);
      });
      const closed = new Promise<void>((resolve) => stranger.once('close', () => resolve()));
      stranger.on('error', () => undefined);
      // Another client port is named: the stranger is closed without a byte.
      listener.admit(1);
      await closed;
      expect(stranger.bytesRead).to.equal(0);
    } finally {
      listener.close();
    }
    // Closed: nothing listens there any more.
    const refused = await new Promise<string>((resolve) => {
      const late = net.connect(listener.port, '127.0.0.1');
      late.once('connect', () => {
        late.once('close', () => resolve('closed'));
        late.destroy();
      });
      late.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(refused).to.equal('ECONNREFUSED');
  });
});

describe('observe/lessonRunner with a route to a real app', function () {
  this.timeout(30_000);
  let edge: RunningEdge | null = null;
  let app: http.Server | null = null;
  const appSaw: string[][] = [];

  before(async () => {
    const { dir } = await testPki();
    app = http.createServer((req, res) => {
      appSaw.push(req.rawHeaders);
      res.end('app');
    });
    await new Promise<void>((resolve) => app!.listen(0, '127.0.0.1', resolve));
    const upstream = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir, admin: false, upstream } });
    const bus = new EventBus();
    const stream = new EventStream({ ringSize: 100 });
    bus.subscribe(stream);
    edge = await startEdge(loaded.config, loaded.resolved, bus);
    const running = edge;
    const runner = lessonRunner(stream, () => statusSnapshot(running, 'test', Date.now(), '127.0.0.1'), {
      pkiDir: () => dir,
      openModeListener: (mode) => running.openLessonListener(mode),
    });
    const result = await runner.run('modes');
    expect(result.status).to.equal(200);
    const body = result.body as { modes: Run[] };
    // The mode columns come from the built-in echo, which reports what it received.
    expect(cnReceived(body.modes.find((m) => m.mode === 'forward_only')!)).to.deep.equal(['admin']);
  });

  after(async () => {
    await edge?.close(1000);
    await new Promise((resolve) => app?.close(resolve));
  });

  it('the forged identity of a weaker mode never reaches the app: only the edge-mode request does', () => {
    // One request on the edge's own listener (sanitize_set: the forged headers are replaced).
    expect(appSaw).to.have.length(1);
    const cn = appSaw[0]!.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-ssl-client-subject-cn');
    expect(Buffer.from(appSaw[0]![cn + 1]!, 'base64').toString()).to.equal('dev-client');
  });
});
