// The SNI the edge sends to an https upstream is the route's, never the client's Host: undici would
// otherwise take it from each request's Host header (and check the upstream's certificate against it).
import { expect } from 'chai';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { httpRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

describe('edge: SNI towards an https upstream', function () {
  this.timeout(20_000);
  let upstream: LoopbackServer;
  const sniSeen: (string | false)[] = [];

  before(async () => {
    const { pki } = await testPki();
    const server = https.createServer({ cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key) }, (_req, res) => res.end('ok'));
    server.on('secureConnection', (s: TLSSocket) => sniSeen.push(s.servername ?? false));
    upstream = await listenOnLoopback(server);
  });
  after(() => upstream.close());
  beforeEach(() => {
    sniSeen.length = 0;
  });

  const table: readonly { name: string; host: string; tls: string; sni: string | false }[] = [
    { name: 'a host name upstream', host: 'localhost', tls: '', sni: 'localhost' },
    { name: 'a configured servername', host: '127.0.0.1', tls: '\n      servername: localhost', sni: 'localhost' },
    { name: 'an IP address upstream, no servername', host: '127.0.0.1', tls: '', sni: false },
  ];
  for (const row of table) {
    it(`${row.name}: SNI ${row.sni === false ? 'none' : row.sni}, whatever Host the clients send; one connection serves them all`, async () => {
      const { pki } = await testPki();
      let t: TestEdge | null = null;
      try {
        t = await startTestEdge({}, `routes:\n  - host: "*"\n    upstream: https://${row.host}:${upstream.port}\n    tls:\n      ca: ${pki.rootCa.cert}\n      reject_unauthorized: false${row.tls}\n`);
        for (const host of ['evil.example', 'other.example', 'localhost']) {
          const reply = await httpRequest(t.httpPort, { headers: { host } });
          expect(reply.status, `Host ${host}`).to.equal(200);
        }
        expect(sniSeen).to.deep.equal([row.sni]);
      } finally {
        await t?.close();
      }
    });
  }
});

// Without a route `tls` block the upstream's certificate is checked against Node's default CAs (the
// dev one is not among them, so these requests get 502), but the ClientHello is already sent: its
// SNI must follow the same rule, not the request's servername (an IP address there also made Node
// warn with DEP0123).
describe('edge: SNI towards an https upstream without a route tls block', function () {
  this.timeout(20_000);
  let upstream: LoopbackServer;
  const sniSeen: string[] = [];
  let handshakes = 0;

  before(async () => {
    const { pki } = await testPki();
    const server = https.createServer({
      cert: readFileSync(pki.server.chain),
      key: readFileSync(pki.server.key),
      // Called with the ClientHello's SNI, only when there is one.
      SNICallback: (name, cb) => {
        sniSeen.push(name);
        cb(null);
      },
    });
    server.on('connection', () => handshakes++);
    server.on('tlsClientError', () => undefined);
    upstream = await listenOnLoopback(server);
  });
  after(() => upstream.close());
  beforeEach(() => {
    sniSeen.length = 0;
    handshakes = 0;
  });

  const table: readonly { host: string; sni: readonly string[] }[] = [
    { host: '127.0.0.1', sni: [] },
    { host: 'localhost', sni: ['localhost'] },
  ];
  for (const row of table) {
    it(`upstream https://${row.host}: SNI ${row.sni.length === 0 ? 'none' : row.sni[0]}`, async () => {
      let t: TestEdge | null = null;
      try {
        t = await startTestEdge({}, `routes:\n  - host: "*"\n    upstream: https://${row.host}:${upstream.port}\n`);
        const reply = await httpRequest(t.httpPort, { headers: { host: 'evil.example' } });
        expect(reply.status).to.equal(502);
        expect(handshakes).to.be.at.least(1);
        expect([...new Set(sniSeen)]).to.deep.equal(row.sni);
      } finally {
        await t?.close();
      }
    });
  }
});
