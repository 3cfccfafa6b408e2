// A reload that changes a route's upstream TLS settings takes effect at the next request: the
// connection pools are keyed by origin and TLS settings, so the old pool (with its kept-alive,
// already verified connections) is not reused, and it is closed once its requests have finished.
import { expect } from 'chai';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { failureFiles } from '../../src/pki/failures.js';
import { eventually, httpRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

describe('reload: upstream TLS settings', function () {
  this.timeout(30_000);
  let upstream: LoopbackServer | null = null;
  let t: TestEdge | null = null;
  let dir: string;
  const sockets = new Set<Socket>();
  let delayMs = 0;

  // Long keep-alive on both sides: a connection that ends did so because its pool was closed.
  const routeYaml = (ca: string): string => `
timeouts:
  keep_alive: 60
routes:
  - host: "*"
    upstream: https://127.0.0.1:${upstream!.port}
    tls:
      ca: ${ca}
      servername: localhost
`;

  before(async () => {
    const { pki } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-upstream-tls-'));
    const server = https.createServer({ cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key) }, (_req, res) => {
      setTimeout(() => res.end('upstream says hi'), delayMs);
    });
    server.keepAliveTimeout = 60_000;
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    upstream = await listenOnLoopback(server);
  });

  afterEach(async () => {
    await t?.close();
    t = null;
    delayMs = 0;
  });

  after(async () => {
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reloadTo(yaml: string): Promise<void> {
    const file = join(dir, `edge-${Date.now()}-${Math.random()}.yaml`);
    writeFileSync(file, yaml);
    const { dir: pkiDir } = await testPki();
    const loaded = await loadConfig({ file, overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir, admin: false } });
    t!.edge.reload(loaded.config, loaded.resolved);
  }

  it('uses the new CA after a reload, in both directions', async () => {
    const { pki, dir: pkiDir } = await testPki();
    const rightCa = pki.rootCa.cert;
    const wrongCa = failureFiles(pkiDir).untrustedRoot.cert;
    t = await startTestEdge({}, routeYaml(rightCa));
    expect((await httpRequest(t.httpPort)).status).to.equal(200);

    await reloadTo(routeYaml(wrongCa));
    const refused = await httpRequest(t.httpPort);
    expect(refused.status, 'the upstream certificate is not from the new CA').to.equal(502);

    await reloadTo(routeYaml(rightCa));
    expect((await httpRequest(t.httpPort)).status).to.equal(200);
  });

  it('lets a request in flight on the old pool finish, then closes that pool', async () => {
    const { pki, dir: pkiDir } = await testPki();
    t = await startTestEdge({}, routeYaml(pki.rootCa.cert));
    expect((await httpRequest(t.httpPort)).status).to.equal(200);
    expect(sockets.size, 'one kept-alive connection to the upstream').to.equal(1);

    delayMs = 400;
    const inFlight = httpRequest(t.httpPort);
    await new Promise((r) => setTimeout(r, 100));
    await reloadTo(routeYaml(failureFiles(pkiDir).untrustedRoot.cert));
    const reply = await inFlight;
    expect([reply.status, reply.body]).to.deep.equal([200, 'upstream says hi']);
    // The old pool had no route left: its connection ends (long before the 60 s keep-alive).
    await eventually(() => sockets.size === 0, 2000);
  });
});
