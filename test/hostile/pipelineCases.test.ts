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
async function refusingApp(answer = 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope'): Promise<{ port: number; heads: string[]; close(): Promise<void> }> {
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
        c.write(answer);
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

  describe('an Upgrade answered with a status below 100 (reviewer case)', () => {
    it('gets 502 at once, no fault: the status is checked before it reaches writeHead', async () => {
      const app = await refusingApp('HTTP/1.1 099 Weird\r\n\r\n');
      const t3 = await startTestEdge({}, routesTo(app.port));
      try {
        const res = await withSocket(tlsConnect(t3.httpsPort), async (s, reader) => {
          s.write(['GET / HTTP/1.1', 'Host: localhost', ...WS_UPGRADE, '', ''].join('\r\n'));
          return reader.next(3000);
        });
        expect(res.status, res.statusLine).to.equal(502);
        await new Promise((r) => setTimeout(r, 100));
        expect(t3.events.filter((e) => e.kind === 'connection-error')).to.deep.equal([]);
        const ev = t3.events.filter((e) => e.kind === 'request' && e.websocket).at(-1);
        expect(ev && ev.kind === 'request' ? ev.status : 0).to.equal(502);
      } finally {
        await t3.close();
        await app.close();
      }
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

  describe('case 5: SNI and Host select different TLS configurations', () => {
    const twoConfigs = async (extra: string): Promise<TestEdge> => {
      const { pki } = t;
      return startTestEdge(
        {},
        [
          'tls:',
          '  - name: partner-api',
          '    hosts: [api.cert.localhost]',
          `    cert: ${pki.server.chain}`,
          `    key: ${pki.server.key}`,
          '    client_auth: required',
          `    trust: [${pki.rootCa.cert}]`,
          '  - name: public',
          "    hosts: ['*']",
          `    cert: ${pki.server.chain}`,
          `    key: ${pki.server.key}`,
          '    client_auth: disabled',
          routesTo(up.port),
          extra,
        ].join('\n'),
      );
    };
    const ask = async (port: number, servername: string, lines: string[], withCert = false): Promise<number> =>
      withSocket(tlsConnect(port, { servername, anyServerName: true, identity: withCert ? await clientIdentity('valid') : undefined }), async (s, reader) => {
        s.write([...lines, '', ''].join('\r\n'));
        return (await reader.next()).status;
      });

    for (const setting of ['', 'disable_domain_fronting: mtls_only', 'disable_domain_fronting: false']) {
      it(`${setting || 'defaults'}: SNI www.localhost without a certificate, Host api.cert.localhost → 421, the partner app is not reached`, async () => {
        const e = await twoConfigs(setting);
        try {
          expect(await ask(e.httpsPort, 'www.localhost', ['GET /admin HTTP/1.1', 'Host: api.cert.localhost'])).to.equal(421);
          expect(up.seen).to.deep.equal([]);
          const ev = e.events.find((x) => x.kind === 'request');
          expect(ev && ev.kind === 'request' ? ev.error : '').to.match(/partner-api/);
        } finally {
          await e.close();
        }
      });
    }

    it('the other way round (a certificate connection for a public Host) is forwarded', async () => {
      const e = await twoConfigs('');
      try {
        expect(await ask(e.httpsPort, 'api.cert.localhost', ['GET /x HTTP/1.1', 'Host: www.localhost'], true)).to.equal(200);
        expect(up.seen.map((x) => x.url)).to.deep.equal(['/x']);
      } finally {
        await e.close();
      }
    });

    it('disable_client_auth_fronting: false reproduces HAProxy (forwarded without a certificate)', async () => {
      const e = await twoConfigs('disable_client_auth_fronting: false');
      try {
        expect(await ask(e.httpsPort, 'www.localhost', ['GET /admin HTTP/1.1', 'Host: api.cert.localhost'])).to.equal(200);
        expect(up.seen.map((x) => x.url)).to.deep.equal(['/admin']);
      } finally {
        await e.close();
      }
    });

    it('disable_domain_fronting: true: an absolute-form target whose authority is not the Host → 400 (as HAProxy)', async () => {
      const e = await twoConfigs('disable_domain_fronting: true');
      try {
        expect(await ask(e.httpsPort, 'www.localhost', ['GET http://api.cert.localhost/admin HTTP/1.1', 'Host: www.localhost'])).to.equal(400);
        expect(await ask(e.httpsPort, 'www.localhost', ['GET http://www.localhost/ok HTTP/1.1', 'Host: www.localhost'])).to.equal(200);
        // Origin-form upstream, as the app behind Gorouter gets it.
        expect(up.seen.map((x) => x.url)).to.deep.equal(['/ok']);
      } finally {
        await e.close();
      }
    });
  });

  describe('case 6: header names with underscores', () => {
    const FORGED = ['GET /u HTTP/1.1', 'Host: localhost', 'X_SSL_Client_Verify: 0', 'X_SSL_Client_Subject_CN: YWRtaW4=', '', ''].join('\r\n');

    it('default (flag): passed as HAProxy does, and named in the request event', async () => {
      await withSocket(tlsConnect(t.httpsPort), async (s, reader) => {
        s.write(FORGED);
        expect((await reader.next()).status).to.equal(200);
      });
      expect(values(up.seen[0]!, 'X_SSL_Client_Verify')).to.deep.equal(['0']);
      const ev = t.events.filter((x) => x.kind === 'request').at(-1);
      expect(ev && ev.kind === 'request' ? ev.underscoreHeaders : null).to.deep.equal(['X_SSL_Client_Verify', 'X_SSL_Client_Subject_CN']);
    });

    it('headers_with_underscores: drop removes them before the app', async () => {
      const e = await startTestEdge({}, `${routesTo(up.port)}headers_with_underscores: drop\n`);
      try {
        await withSocket(tlsConnect(e.httpsPort), async (s, reader) => {
          s.write(FORGED);
          expect((await reader.next()).status).to.equal(200);
        });
        expect(up.seen[0]!.headers.filter(([k]) => k.includes('_'))).to.deep.equal([]);
      } finally {
        await e.close();
      }
    });
  });
});
