// Issue "Unfoolable": requests that tried to get past the pipeline, with raw sockets and real TLS,
// and a recording upstream that shows what reached the app.
import { expect } from 'chai';
import { clientIdentity, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, header, tlsConnect, tcpConnect } from '../support/rawHttp.js';
import { recordingUpstream, type Recorded, type RecordingUpstream } from './recordingUpstream.js';
import type net from 'node:net';

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
    for (const [name, upgrade] of [['websocket', WS_UPGRADE], ['h2c', H2C_UPGRADE]] as const) {
      it(`${name}: the upstream's non-101 answer is relayed, the connection closes, the second request never reaches the app`, async () => {
        await withSocket(tlsConnect(t.httpsPort), async (s, reader) => {
          const first = ['GET / HTTP/1.1', 'Host: localhost', ...upgrade, '', ''].join('\r\n');
          const smuggled = ['GET /admin HTTP/1.1', 'Host: localhost', ...FORGED_ADMIN, '', ''].join('\r\n');
          s.write(first + smuggled);
          const r = await reader.next();
          expect(r.status, r.statusLine).to.equal(200); // the recording upstream does not upgrade
          expect(header(r, 'connection')).to.equal('close');
          await reader.untilClosed();
        });
        expect(up.seen.map((x) => x.url)).to.deep.equal(['/']);
        for (const x of up.seen) expect(values(x, 'X-SSL-Client')).to.deep.equal([]);
        const ev = t.events.filter((e) => e.kind === 'request' && e.websocket).at(-1);
        expect(ev && ev.kind === 'request' ? ev.status : 0).to.equal(200);
      });
    }

    it('a plain listener refused Upgrade also closes (the next request is not piped raw)', async () => {
      await withSocket(tcpConnect(t.httpPort), async (s, reader) => {
        s.write(['GET / HTTP/1.1', 'Host: localhost', ...WS_UPGRADE, '', ''].join('\r\n') + ['GET /second HTTP/1.1', 'Host: localhost', '', ''].join('\r\n'));
        expect((await reader.next()).status).to.equal(200);
        await reader.untilClosed();
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
