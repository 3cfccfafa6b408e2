// Error answers (docs/edge-behaviour.md §7): byte-exact pages with Cache-Control no-cache for upstream refused, reset
// and slow; 431 for oversized headers; the domain-fronting guard (421 / 400 missing Host); HSTS;
// and after every case the edge still serves a valid request.
import { listenOnLoopback } from '../support/loopbackServer.js';
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { clientIdentity, httpRequest, httpsRequest, startTestEdge, type ClientIdentity, type EchoReply, type TestEdge } from '../support/edgeHarness.js';
import { header, rawExchange, tlsConnect } from '../support/rawHttp.js';

const PAGE = (code: number, reason: string, text: string): string => `<html><body><h1>${code} ${reason}</h1>\n${text}\n</body></html>\n`;
const PAGES = {
  400: PAGE(400, 'Bad request', 'Your browser sent an invalid request.'),
  421: PAGE(421, 'Misdirected Request', 'Request sent to a non-authoritative server.'),
  502: PAGE(502, 'Bad Gateway', 'The server returned an invalid or incomplete response.'),
  503: PAGE(503, 'Service Unavailable', 'No server is available to handle this request.'),
  504: PAGE(504, 'Gateway Time-out', "The server didn't respond in time."),
} as const;

function expectPage(reply: EchoReply, code: keyof typeof PAGES): void {
  expect(reply.status).to.equal(code);
  expect(reply.body).to.equal(PAGES[code]);
  // HAProxy's status line carries its page's title as the reason ("504 Gateway Time-out").
  expect(reply.statusMessage, 'reason phrase').to.equal(/<h1>\d+ ([^<]+)<\/h1>/.exec(PAGES[code])![1]);
  expect(reply.headers['content-type']).to.equal('text/html');
  expect(reply.headers['cache-control']).to.equal('no-cache');
  expect(reply.headers['content-length']).to.equal(String(Buffer.byteLength(PAGES[code])));
}

/** A local upstream whose behaviour each path chooses. */
async function hostileUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/reset-before') {
      req.socket.destroy();
    } else if (req.url === '/reset-mid') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('x'.repeat(1000));
      setTimeout(() => req.socket.destroy(), 20);
    } else if (req.url === '/never') {
      // no answer at all; the edge's server timeout must give up
    } else if (req.url === '/garbage') {
      req.socket.end('NOT HTTP AT ALL\r\n\r\n');
    } else {
      res.end('fine');
    }
  });
  return listenOnLoopback(server);
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('edge: error pages and guards (docs/edge-behaviour.md §7)', function () {
  this.timeout(60_000);
  let valid: ClientIdentity;
  let upstream: Awaited<ReturnType<typeof hostileUpstream>>;
  let t: TestEdge;

  before(async () => {
    valid = await clientIdentity('valid');
    upstream = await hostileUpstream();
    const dead = await closedPort();
    t = await startTestEdge(
      {},
      `
timeouts: { server: 1 }
hsts: { max_age: 31536000, include_subdomains: true, preload: true }
routes:
  - host: refused.localhost
    upstream: http://127.0.0.1:${dead}
  - host: echo.localhost
    upstream: echo
  - upstream: http://127.0.0.1:${upstream.port}
`,
    );
  });
  after(async () => {
    await t?.close();
    await upstream?.close();
  });

  afterEach(async () => {
    const ok = await httpsRequest(t.httpsPort, { identity: valid, headers: { host: 'echo.localhost' } });
    expect(ok.status, 'the edge still serves a valid request').to.equal(200);
  });

  const get = (host: string, path = '/'): Promise<EchoReply> => httpsRequest(t.httpsPort, { identity: valid, headers: { host }, path });

  it('upstream refuses the connection → 503 page', async () => {
    expectPage(await get('refused.localhost'), 503);
  });

  it('the page says why in x-mtls-edge-error: an unreachable upstream is told apart from no route', async () => {
    const refused = await get('refused.localhost');
    expect(refused.headers['x-mtls-edge-error']).to.match(/^upstream .*127\.0\.0\.1.*connection refused.*\(ECONNREFUSED\)$/);
    const t2 = await startTestEdge({}, 'routes:\n  - host: only.localhost\n    upstream: echo\n');
    try {
      const none = await httpsRequest(t2.httpsPort, { identity: valid, headers: { host: 'other.localhost' }, path: '/x' });
      expect(none.status).to.equal(503);
      expect(none.headers['x-mtls-edge-error']).to.equal('no route for host "other.localhost" and path "/x"');
    } finally {
      await t2.close();
    }
  });

  it('Accept: application/json gets the same status as JSON with the reason; a browser keeps the HTML page', async () => {
    const json = await httpsRequest(t.httpsPort, { identity: valid, headers: { host: 'refused.localhost', accept: 'application/json' } });
    expect(json.status).to.equal(503);
    expect(json.headers['content-type']).to.equal('application/json');
    const body = JSON.parse(json.body) as { status: number; title: string; error: string };
    expect(body.status).to.equal(503);
    expect(body.title).to.equal('Service Unavailable');
    expect(body.error).to.match(/ECONNREFUSED/);
    const browser = await httpsRequest(t.httpsPort, { identity: valid, headers: { host: 'refused.localhost', accept: 'text/html,application/json;q=0.9' } });
    expectPage(browser, 503);
  });

  it('upstream resets before answering → 502 page', async () => {
    expectPage(await get('app.localhost', '/reset-before'), 502);
  });

  it('upstream answers garbage → 502 page', async () => {
    expectPage(await get('app.localhost', '/garbage'), 502);
  });

  it('upstream resets mid-response → the client sees a broken response, never a complete success', async () => {
    let outcome: string;
    try {
      const reply = await get('app.localhost', '/reset-mid');
      outcome = `complete response ${reply.status} with ${reply.body.length} bytes`;
      expect(reply.body.length, outcome).to.be.lessThan(100_000);
    } catch (e) {
      outcome = (e as Error).message;
    }
    expect(outcome).to.not.match(/complete response 200 with 100000 bytes/);
  });

  it('upstream too slow (timeouts.server 1 s) → 504 page', async () => {
    expectPage(await get('app.localhost', '/never'), 504);
  });

  it('request headers over max_header_size → 431', async () => {
    const socket = await tlsConnect(t.httpsPort, { identity: valid });
    try {
      const r = await rawExchange(socket, `GET / HTTP/1.1\r\nHost: echo.localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(r.status).to.equal(431);
      expect(header(r, 'cache-control')).to.equal('no-cache');
      expect(r.body.toString()).to.equal(PAGE(431, 'Request Header Fields Too Large', 'The request header fields are too large.'));
    } finally {
      socket.destroy();
    }
  });

  it('malformed request line → 400 page', async () => {
    const socket = await tlsConnect(t.httpsPort, { identity: valid });
    try {
      const r = await rawExchange(socket, 'GET / HTTP/9.Z\r\nHost: echo.localhost\r\n\r\n');
      expect(r.status).to.equal(400);
      expect(r.body.toString()).to.equal(PAGES[400]);
    } finally {
      socket.destroy();
    }
  });

  it('guard off: HTTP/1.1 without Host → the same 400 text/plain; HTTP/1.0 without Host is routed', async () => {
    for (const [version, status] of [['1.1', 400], ['1.0', 200]] as const) {
      const socket = await tlsConnect(t.httpsPort, { identity: valid });
      try {
        const r = await rawExchange(socket, `GET /${version === '1.0' ? 'never' : ''} HTTP/${version}\r\nX-No-Host: 1\r\n\r\n`);
        if (status === 400) {
          expect(r.status).to.equal(400);
          expect(r.body.toString()).to.equal('400 Bad Request: missing required Host header');
        } else {
          expect(r.status, 'routed to the catch-all upstream (which never answers → 504)').to.equal(504);
        }
      } finally {
        socket.destroy();
      }
    }
  });

  it('Expect other than 100-continue → 417, as HAProxy relays Gorouter\'s (the connection kept), with a request event; the app is not reached', async () => {
    const before = t.events.length;
    for (const send of [(o: Parameters<typeof httpRequest>[1]) => httpRequest(t.httpPort, o), (o: Parameters<typeof httpRequest>[1]) => httpsRequest(t.httpsPort, { ...o, identity: valid })]) {
      const reply = await send({ path: '/expect-foo', headers: { host: 'echo.localhost', expect: 'foo' } });
      // The connection kept (this client closes its own) is checked on raw sockets in test/hostile/review11.test.ts.
      expect({ status: reply.status, body: reply.body }).to.deep.equal({ status: 417, body: '' });
    }
    const events = t.events.slice(before).filter((e) => e.kind === 'request' && e.path === '/expect-foo');
    expect(events.map((e) => (e.kind === 'request' ? [e.status, e.forwarded] : null))).to.deep.equal([[417, null], [417, null]]);
  });

  it('HSTS on TLS responses: max-age=N; includeSubDomains; preload;', async () => {
    const reply = await get('echo.localhost');
    expect(reply.headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains; preload;');
    const plain = await httpRequest(t.httpPort, { headers: { host: 'echo.localhost' } });
    expect(plain.status).to.equal(200);
    expect(plain.headers['strict-transport-security'], 'not on plain HTTP').to.equal(undefined);
  });

  describe('domain fronting guard', () => {
    let guard: TestEdge;
    let mtlsOnly: TestEdge;
    before(async () => {
      guard = await startTestEdge({}, 'disable_domain_fronting: true\n');
      mtlsOnly = await startTestEdge({}, 'disable_domain_fronting: mtls_only\n');
    });
    after(async () => {
      await guard?.close();
      await mtlsOnly?.close();
    });

    it('true: SNI ≠ Host → 421 page; same name (any case, with port) → 200', async () => {
      expectPage(await httpsRequest(guard.httpsPort, { identity: valid, servername: 'localhost', headers: { host: 'other.localhost' } }), 421);
      expectPage(await httpsRequest(guard.httpsPort, { servername: 'localhost', headers: { host: 'other.localhost' } }), 421);
      expect((await httpsRequest(guard.httpsPort, { identity: valid, servername: 'localhost', headers: { host: 'LocalHost:8443' } })).status).to.equal(200);
      expect((await httpsRequest(guard.httpsPort, { identity: valid, servername: 'localhost', headers: { host: 'localhost' } })).status).to.equal(200);
      expect(guard.events.filter((e) => e.kind === 'request' && e.status === 421)).to.have.length(2);
    });

    for (const version of ['1.1', '1.0'] as const) {
      it(`true: HTTP/${version} request without Host → 400 text/plain "missing required Host header"`, async () => {
        const socket = await tlsConnect(guard.httpsPort, { identity: valid });
        try {
          const r = await rawExchange(socket, `GET / HTTP/${version}\r\nX-No-Host: 1\r\n\r\n`);
          expect(r.status).to.equal(400);
          expect(header(r, 'content-type')).to.equal('text/plain');
          expect(r.body.toString()).to.equal('400 Bad Request: missing required Host header');
        } finally {
          socket.destroy();
        }
      });
    }

    it('mtls_only: SNI ≠ Host → 421 only when a certificate was used', async () => {
      expectPage(await httpsRequest(mtlsOnly.httpsPort, { identity: valid, servername: 'localhost', headers: { host: 'other.localhost' } }), 421);
      const noCert = await httpsRequest(mtlsOnly.httpsPort, { servername: 'localhost', headers: { host: 'other.localhost' } });
      expect(noCert.status).to.equal(200);
    });

    it('the guarded edges still serve', async () => {
      expect((await httpsRequest(guard.httpsPort, { identity: valid })).status).to.equal(200);
      expect((await httpsRequest(mtlsOnly.httpsPort, { identity: valid })).status).to.equal(200);
    });
  });
});
