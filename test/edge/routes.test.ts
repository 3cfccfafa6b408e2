// Routes: host + path prefix to two local HTTP upstreams, an HTTPS upstream that requires a client
// certificate from the edge (mTLS to the backend), the echo, and the 503 page when nothing matches.
import { listenOnLoopback } from '../support/loopbackServer.js';
import { expect } from 'chai';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { clientIdentity, httpsRequest, received, startTestEdge, testPki, type EchoReply, type TestEdge } from '../support/edgeHarness.js';

interface Upstream {
  readonly port: number;
  readonly seen: { url: string; headers: [string, string][]; peerCn: string | null }[];
  close(): Promise<void>;
}

function respond(name: string, seen: Upstream['seen']) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const sock = req.socket as TLSSocket;
    const peerCn = typeof sock.getPeerCertificate === 'function' ? String(sock.getPeerCertificate().subject?.CN ?? '') || null : null;
    seen.push({ url: req.url ?? '', headers, peerCn });
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ upstream: name, url: req.url, peerCn });
      res.writeHead(200, { 'content-type': 'application/x-upstream', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    });
  };
}

async function listen(server: http.Server, seen: Upstream['seen']): Promise<Upstream> {
  return { ...(await listenOnLoopback(server)), seen };
}

describe('edge: routes (host + path prefix), HTTPS upstream with mTLS, no route', function () {
  this.timeout(60_000);
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;
  let t: TestEdge;

  before(async () => {
    const { pki } = await testPki();
    const seenA: Upstream['seen'] = [];
    const seenB: Upstream['seen'] = [];
    const seenC: Upstream['seen'] = [];
    a = await listen(http.createServer(respond('A', seenA)), seenA);
    b = await listen(http.createServer(respond('B', seenB)), seenB);
    c = await listen(
      https.createServer(
        {
          cert: readFileSync(pki.server.chain),
          key: readFileSync(pki.server.key),
          ca: readFileSync(pki.rootCa.cert),
          requestCert: true,
          rejectUnauthorized: true,
        },
        respond('C', seenC),
      ),
      seenC,
    );
    t = await startTestEdge(
      {},
      `
routes:
  - host: api.localhost
    path: /v1
    upstream: http://127.0.0.1:${a.port}
  - host: api.localhost
    upstream: http://127.0.0.1:${b.port}/
  - host: "*.secure.localhost"
    upstream: https://127.0.0.1:${c.port}
    tls:
      ca: ${pki.rootCa.cert}
      cert: ${pki.client.chain}
      key: ${pki.client.key}
      servername: localhost
  - host: echo.localhost
    path: /
    upstream: echo
`,
    );
  });

  after(async () => {
    await t?.close();
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  const via = async (host: string, path: string): Promise<EchoReply> =>
    httpsRequest(t.httpsPort, { identity: await clientIdentity('valid'), headers: { host }, path });

  const ROUTING: readonly { host: string; path: string; upstream: 'A' | 'B' }[] = [
    { host: 'api.localhost', path: '/v1', upstream: 'A' },
    { host: 'api.localhost', path: '/v1/users?x=1', upstream: 'A' },
    { host: 'api.localhost', path: '/v1?q', upstream: 'A' },
    { host: 'API.localhost:8443', path: '/v1/', upstream: 'A' },
    { host: 'api.localhost', path: '/v1x', upstream: 'B' },
    { host: 'api.localhost', path: '/', upstream: 'B' },
    { host: 'api.localhost', path: '/v2/v1', upstream: 'B' },
  ];
  for (const r of ROUTING) {
    it(`Host ${r.host} ${r.path} → upstream ${r.upstream}`, async () => {
      const reply = await via(r.host, r.path);
      expect(reply.status).to.equal(200);
      expect(reply.headers['x-upstream']).to.equal(r.upstream);
      expect(JSON.parse(reply.body).url).to.equal(r.path);
    });
  }

  it('the HTTP upstreams get the ten headers set by the edge', async () => {
    await via('api.localhost', '/v1/h10');
    const last = a.seen.at(-1)!;
    expect(last.url).to.equal('/v1/h10');
    expect(last.headers.filter(([n]) => n === 'X-SSL-Client')).to.deep.equal([['X-SSL-Client', '1']]);
    expect(last.headers.at(-1)).to.deep.equal(['X-Forwarded-For', '127.0.0.1']);
  });

  it('HTTPS upstream: the edge presents its client certificate (mTLS to the backend)', async () => {
    const reply = await via('app.secure.localhost', '/secure');
    expect(reply.status, JSON.stringify(t.events.at(-1))).to.equal(200);
    expect(JSON.parse(reply.body)).to.deep.equal({ upstream: 'C', url: '/secure', peerCn: 'dev-client' });
    expect(c.seen.at(-1)!.headers.some(([n, v]) => n === 'X-SSL-Client-Verify' && v === '0')).to.equal(true);
    // Keep-alive to the upstream: a second request reuses the pool and still works.
    const again = await via('app.secure.localhost', '/secure2');
    expect(JSON.parse(again.body).url).to.equal('/secure2');
  });

  it('echo route by host', async () => {
    const reply = await via('echo.localhost', '/e');
    expect(reply.echo?.path).to.equal('/e');
    expect(received(reply, 'X-SSL-Client')).to.deep.equal(['1']);
  });

  for (const host of ['nothing.localhost', 'secure.localhost', 'api.localhost.evil']) {
    it(`no route for Host ${host} → 503 page, byte-exact`, async () => {
      const reply = await via(host, '/');
      expect(reply.status).to.equal(503);
      expect(reply.body).to.equal('<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n');
      expect(reply.headers['content-type']).to.equal('text/html');
      expect(reply.headers['cache-control']).to.equal('no-cache');
    });
  }

  it('still serves after the 503s', async () => {
    expect((await via('api.localhost', '/v1')).status).to.equal(200);
  });
});
