// Issue "Unfoolable": requests that tried to get past the pipeline, with raw sockets and real TLS,
// and a recording upstream that shows what reached the app.
import { expect } from 'chai';
import { clientIdentity, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, header, tlsConnect, tcpConnect } from '../support/rawHttp.js';
import { recordingUpstream, type Recorded, type RecordingUpstream } from './recordingUpstream.js';
import net from 'node:net';

const routesTo = (port: number): string => `routes:\n  - host: "*"\n    upstream: http://127.0.0.1:${port}\n`;

function values(r: Recorded, name: string): string[] {
  return r.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

const FORGED_ADMIN = ['X-SSL-Client: 1', 'X-SSL-Client-Verify: 0', 'X-SSL-Client-Subject-CN: YWRtaW4='];
const WS_UPGRADE = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const H2C_UPGRADE = ['Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'];

async function withSocket<T>(open: Promise<net.Socket>, use: (s: net.Socket, r: ResponseReader) => Promise<T>): Promise<T> {
  const s = await open;
  try {
    return await use(s, new ResponseReader(s));
  } finally {
    s.destroy();
  }
}

/**
 * An app that refuses every Upgrade with 401 and keeps the connection alive, parsing whatever
 * follows as further requests (as many HTTP servers do): records each request head it reads.
 */
async function refusingApp(): Promise<{ port: number; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => c.destroy());
    let buf = '';
    c.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0 && heads.length < 100; end = buf.indexOf('\r\n\r\n')) {
        heads.push(buf.slice(0, end));
        buf = buf.slice(end + 4);
        c.write('HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    close: async () => {
      for (const c of sockets) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('hostile: pipeline cases (issue "Unfoolable")', function () {
  this.timeout(30_000);
  let up: RecordingUpstream;
  let t: TestEdge;
  before(async () => {
    up = await recordingUpstream();
    t = await startTestEdge({}, routesTo(up.port));
  });
  after(async () => {
    await t?.close();
    await up?.close();
  });
  beforeEach(() => {
    up.seen.length = 0;
  });

  describe('case 2: a request pipelined behind a refused Upgrade', () => {
    let app: Awaited<ReturnType<typeof refusingApp>>;
    let t2: TestEdge;
    before(async () => {
      app = await refusingApp();
      t2 = await startTestEdge({}, routesTo(app.port));
    });
    after(async () => {
      await t2?.close();
      await app?.close();
    });
    beforeEach(() => {
      app.heads.length = 0;
    });

    for (const [name, upgrade] of [['websocket', WS_UPGRADE], ['h2c', H2C_UPGRADE]] as const) {
      it(`${name}: the app's 401 is relayed, the connection closes, the forged second request never reaches the app`, async () => {
        const r = await withSocket(tlsConnect(t2.httpsPort), async (s, reader) => {
          const first = ['GET / HTTP/1.1', 'Host: localhost', ...upgrade, '', ''].join('\r\n');
          const smuggled = ['GET /admin HTTP/1.1', 'Host: localhost', ...FORGED_ADMIN, '', ''].join('\r\n');
          s.write(first + smuggled);
          const res = await reader.next();
          await reader.untilClosed(3000).catch(() => undefined);
          return { res, closed: reader.closed };
        });
        await new Promise((res) => setTimeout(res, 200));
        expect(app.heads.map((h) => h.split(' ')[1])).to.deep.equal(['/']);
        expect(app.heads.join('\n')).not.to.match(/X-SSL-Client/i);
        expect(r.res.status, r.res.statusLine).to.equal(401);
        expect(header(r.res, 'connection')).to.equal('close');
        expect(r.closed).to.equal(true);
        const ev = t2.events.filter((e) => e.kind === 'request' && e.websocket).at(-1);
        expect(ev && ev.kind === 'request' ? ev.status : 0).to.equal(401);
      });
    }

    it('a plain listener refused Upgrade also closes (the next request is not piped raw)', async () => {
      await withSocket(tcpConnect(t.httpPort), async (s, reader) => {
        s.write(['GET / HTTP/1.1', 'Host: localhost', ...WS_UPGRADE, '', ''].join('\r\n') + ['GET /second HTTP/1.1', 'Host: localhost', '', ''].join('\r\n'));
        expect((await reader.next()).status).to.equal(200);
        // Closed right after the response (a raw pipe would stay open until an idle timeout).
        await reader.untilClosed(3000);
        expect(reader.closed).to.equal(true);
      });
      expect(up.seen.map((x) => x.url)).to.deep.equal(['/']);
    });
  });

  describe('case 4: Connection tokens cannot remove the headers the edge sets', () => {
    it('Connection: close, X-SSL-Client-Subject-CN, X-Forwarded-Client-Cert with a certificate: the edge values arrive', async () => {
      await withSocket(tlsConnect(t.httpsPort, { identity: await clientIdentity('valid') }), async (s, reader) => {
        s.write(['GET /who HTTP/1.1', 'Host: localhost', 'Connection: close, X-SSL-Client-Subject-CN, X-Forwarded-Client-Cert', 'X_SSL_Client_Subject_CN: YWRtaW4=', '', ''].join('\r\n'));
        expect((await reader.next()).status).to.equal(200);
      });
      const got = up.seen[0]!;
      expect(values(got, 'X-SSL-Client-Subject-CN')).to.deep.equal([Buffer.from('dev-client').toString('base64')]);
      expect(values(got, 'X-Forwarded-Client-Cert')).to.have.length(1);
      expect(values(got, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    });
  });

  describe('case 7: header bytes >= 0x80 on the WebSocket path', () => {
    it('reach the upstream as the same single bytes (latin1), as on the plain-HTTP path', async () => {
      await withSocket(tlsConnect(t.httpsPort), async (s, reader) => {
        s.write(Buffer.from(['GET /ws HTTP/1.1', 'Host: localhost', ...WS_UPGRADE, 'X-Latin: caf\xe9 \xff', '', ''].join('\r\n'), 'latin1'));
        await reader.next();
      });
      expect(values(up.seen[0]!, 'X-Latin')).to.deep.equal(['caf\xe9 \xff']);
    });
  });
});
