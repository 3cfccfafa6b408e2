// CONNECT against real HAProxy (src/edge/connectMethod.ts, stages/connectTarget.ts): each raw
// request goes to the edge and to HAProxy 2.6 and 3.2 (when found) running the Cloud Foundry
// template for the same setting (sanitize_set, client certificates optional), all in front of one
// raw app that answers by the target's first label. Compared: the first status the client reads, the
// Host the app received (null: the app got no request), and for the app's 2xx what crosses the
// tunnel and whether the head still frames a body. The table was measured with 2.6.12 and 3.2.0;
// where a version or the edge differs, the case says so and why (docs/parity.md#connect).
import { expect } from 'chai';
import net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { startSideBySide, type ComparedTarget, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';
import { tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { isH10 } from '../edge/h10Expect.js';

interface Outcome {
  readonly status: number;
  /** The Host header of the CONNECT the app received; null when it received none. */
  readonly appHost: string | null;
  /** After a 2xx: the bytes read from the tunnel (the app's `ready;`, then its echo of what the client sent). */
  readonly tunnel?: string;
  /** After a 2xx: Content-Length / Transfer-Encoding still in the head. */
  readonly framing?: readonly string[];
}

type Side = 'haproxy26' | 'haproxy32' | 'edge';

interface Case {
  readonly name: string;
  readonly raw: string;
  /** HAProxy 2.6, and everyone else unless overridden. */
  readonly want: Outcome;
  readonly differs?: Partial<Record<Side, { readonly outcome: Outcome; readonly why: string }>>;
}

const head = (line: string, host: string | null, extra: readonly string[] = []): string => [line, ...(host === null ? [] : [`Host: ${host}`]), ...extra, '', ''].join('\r\n');
const connect = (target: string, host: string | null, extra: readonly string[] = []): string => head(`CONNECT ${target} HTTP/1.1`, host, extra);
const REFUSED = (host: string | null): Outcome => ({ status: 405, appHost: host });
const PARSER_400: Outcome = { status: 400, appHost: null };
const TUNNEL = 'ready;echo:early;echo:ping';

const CASES: readonly Case[] = [
  { name: 'the app refuses (405)', raw: connect('refuse.test:443', 'refuse.test:443'), want: REFUSED('refuse.test') },
  { name: 'the app agrees (200): a tunnel, the early bytes first', raw: `${connect('tunnel.test:443', 'tunnel.test:443')}early;`, want: { status: 200, appHost: 'tunnel.test', tunnel: TUNNEL, framing: [] } },
  { name: 'the app answers 204: a tunnel too (any 2xx)', raw: `${connect('nocontent.test:443', 'nocontent.test:443')}early;`, want: { status: 204, appHost: 'nocontent.test', tunnel: TUNNEL, framing: [] } },
  {
    name: 'the app\'s 200 with a Content-Length: a tunnel', raw: `${connect('framed.test:443', 'framed.test:443')}early;`, want: { status: 200, appHost: 'framed.test', tunnel: TUNNEL, framing: ['content-length'] },
    differs: {
      haproxy32: { outcome: { status: 200, appHost: 'framed.test', tunnel: TUNNEL, framing: [] }, why: '3.2 drops the framing headers of a 2xx to CONNECT' },
      edge: { outcome: { status: 200, appHost: 'framed.test', tunnel: TUNNEL, framing: [] }, why: 'as 3.2: a tunnel has no body to frame' },
    },
  },
  { name: 'Host without port, target port 443', raw: connect('refuse.test:443', 'refuse.test'), want: REFUSED('refuse.test') },
  { name: 'Host in upper case (kept, port dropped)', raw: connect('refuse.test:443', 'REFUSE.TEST:443'), want: REFUSED('REFUSE.TEST') },
  { name: 'Host and target on port 8443 (kept)', raw: connect('refuse.test:8443', 'refuse.test:8443'), want: REFUSED('refuse.test:8443') },
  { name: 'Host with an empty port (kept as sent)', raw: connect('refuse.test:443', 'refuse.test:'), want: REFUSED('refuse.test:') },
  { name: 'userinfo in the target', raw: connect('u@refuse.test:443', 'refuse.test:443'), want: REFUSED('refuse.test') },
  { name: 'no Host', raw: connect('refuse.test:443', null), want: REFUSED(null), differs: { edge: { outcome: { status: 400, appHost: null }, why: 'Gorouter\'s 400 for an HTTP/1.1 request without Host, as for any method (edge-behaviour §7.3)' } } },
  { name: 'Host names another server', raw: connect('refuse.test:443', 'other.test'), want: PARSER_400 },
  { name: 'Host without port, target port 8443', raw: connect('refuse.test:8443', 'refuse.test'), want: PARSER_400 },
  { name: 'Host on another port', raw: connect('refuse.test:443', 'refuse.test:444'), want: PARSER_400 },
  { name: 'target without port', raw: connect('refuse.test', 'refuse.test'), want: PARSER_400 },
  { name: 'target with an empty port', raw: connect('refuse.test:', 'refuse.test'), want: PARSER_400 },
  { name: 'origin-form target', raw: connect('/refuse', 'refuse.test'), want: PARSER_400 },
  {
    name: 'absolute-form target', raw: connect('http://refuse.test:443/', 'refuse.test:443'), want: REFUSED('refuse.test'),
    differs: { haproxy32: { outcome: PARSER_400, why: '3.2 refuses a scheme in a CONNECT target' }, edge: { outcome: PARSER_400, why: 'as 3.2' } },
  },
  {
    name: 'a Content-Length body', raw: `${connect('refuse.test:443', 'refuse.test:443', ['Content-Length: 5'])}hello`, want: REFUSED('refuse.test'),
    differs: { haproxy32: { outcome: { status: 502, appHost: null }, why: '3.2.0 connects to the app, sends nothing and answers 502' }, edge: { outcome: REFUSED('refuse.test'), why: 'as 2.6: no body, Content-Length not forwarded' } },
  },
  { name: 'a WebSocket Upgrade without Sec-WebSocket-Key', raw: connect('refuse.test:443', 'refuse.test:443', ['Connection: Upgrade', 'Upgrade: websocket']), want: PARSER_400 },
  {
    name: 'the app answers 100, then 405', raw: connect('interim.test:443', 'interim.test:443'), want: { status: 100, appHost: 'interim.test' },
    differs: { edge: { outcome: { status: 502, appHost: 'interim.test' }, why: 'node:http\'s client takes the first answer head to a CONNECT as the answer: an interim one is a 502' } },
  },
  { name: 'the app answers 101', raw: connect('switch.test:443', 'switch.test:443'), want: { status: 502, appHost: 'switch.test' } },
  {
    name: 'lower-case method', raw: head('connect refuse.test:443 HTTP/1.1', 'refuse.test:443'), want: REFUSED('refuse.test:443'),
    differs: { haproxy32: { outcome: PARSER_400, why: 'methods are case-sensitive: an unknown method with an authority-form target' }, edge: { outcome: PARSER_400, why: 'Node\'s parser refuses a lower-case method' } },
  },
];

interface App {
  readonly port: number;
  /** Every request head the app received, in order. */
  readonly heads: string[];
  close(): Promise<void>;
}

/** The app: answers a CONNECT by the first label of its target's host, records every request head. */
async function startApp(): Promise<App> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let bytes = '';
    let tunnel = false;
    s.on('data', (c: Buffer) => {
      if (tunnel) {
        s.write(`echo:${c.toString('latin1')}`);
        return;
      }
      bytes += c.toString('latin1');
      const end = bytes.indexOf('\r\n\r\n');
      if (end < 0) return;
      heads.push(bytes.slice(0, end));
      const after = bytes.slice(end + 4);
      const target = bytes.slice(0, bytes.indexOf('\r\n')).split(' ')[1] ?? '';
      const label = target.replace(/^[a-z]+:\/\//i, '').replace(/^.*@/, '').split('.')[0];
      const open = (answer: string): void => {
        tunnel = true;
        s.write(`${answer}ready;`);
        if (after) s.write(`echo:${after}`);
      };
      if (label === 'tunnel') open('HTTP/1.1 200 Connection Established\r\n\r\n');
      else if (label === 'nocontent') open('HTTP/1.1 204 No Content\r\n\r\n');
      else if (label === 'framed') open('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
      else if (label === 'interim') s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
      else if (label === 'switch') s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      else s.write('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 11\r\n\r\nno tunnels\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** The Host header of a recorded request head, or null. */
const hostOf = (h: string): string | null => /\r\nhost: *([^\r]*)/i.exec(h)?.[1] ?? null;

/** One exchange: the first head's status, and after a 2xx the tunnel's bytes once `ping` was sent (bounded). */
function exchange(socket: net.Socket, raw: string): Promise<Omit<Outcome, 'appHost'>> {
  return new Promise((resolve) => {
    let text = '';
    let status = 0;
    let framing: string[] = [];
    let bodyAt = -1;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const tunnelled = status >= 200 && status < 300;
      resolve(tunnelled ? { status, tunnel: text.slice(bodyAt), framing } : { status });
    };
    const timer = setTimeout(done, 2_000);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (bodyAt < 0) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        bodyAt = end + 4;
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
        framing = [...text.slice(0, end).matchAll(/\r\n(content-length|transfer-encoding):/gi)].map((m) => m[1]!.toLowerCase());
        if (status < 200 || status >= 300) return done();
      }
      if (text.endsWith('ready;echo:early;')) socket.write('ping');
      if (text.endsWith('echo:ping')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(raw);
  });
}

/** Which of a case's `differs` applies to a target. */
const sideOf = (t: ComparedTarget): Side => (t.version === null ? 'edge' : t.version.startsWith('2.') ? 'haproxy26' : 'haproxy32');

describe('parity: CONNECT, edge and HAProxy side by side', function () {
  this.timeout(120_000);
  let run: SideBySide<App, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    run = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'connect-parity-',
      startUpstream: startApp,
      startEdge: (port) => startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => run?.stop());

  const plain = (port: number): Promise<net.Socket> => tcpConnect(port);
  const mtls = (port: number): Promise<net.Socket> => tlsConnect(port, { identity });

  /** The outcome of `raw` at one target; the app's heads are read once the exchange is over. */
  async function outcome(socket: net.Socket, raw: string): Promise<{ outcome: Outcome; head: string | null }> {
    const before = run.upstream.heads.length;
    const seen = await exchange(socket, raw);
    // The app records the head when it arrives, before it answers: nothing is late here.
    const head = run.upstream.heads.slice(before).find((h) => /^connect /i.test(h)) ?? null;
    return { outcome: { ...seen, appHost: head === null ? null : hostOf(head) }, head };
  }

  for (const c of CASES) {
    it(`plain HTTP: ${c.name} → ${c.want.status}`, async () => {
      const got: Record<string, Outcome> = {};
      const want: Record<string, Outcome> = {};
      for (const t of run.targets) {
        got[t.name] = (await outcome(await plain(t.httpPort), c.raw)).outcome;
        want[t.name] = c.differs?.[sideOf(t)]?.outcome ?? c.want;
      }
      const whys = Object.values(c.differs ?? {}).map((d) => d.why).join('; ');
      expect(got, whys || undefined).to.deep.equal(want);
    });
  }

  it('mTLS (sanitize_set): the app gets the same certificate headers as from HAProxy; forged ones removed', async () => {
    const forged = ['X-Forwarded-Client-Cert: forged', 'X-SSL-Client-Verify: 0-forged'];
    const got: Record<string, { status: number; h10: string[]; verify: string | null; xfcc: string | null }> = {};
    for (const t of run.targets) {
      const { outcome: o, head: h } = await outcome(await mtls(t.httpsPort), connect('refuse.test:443', 'refuse.test:443', forged));
      const lines = (h ?? '').split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as const);
      // 2.6 has no ssl_c_r_dn: Root-CA-DN is not compared (the parity suite's `root-ca-dn`).
      const h10 = lines.filter(([n]) => isH10(n) && n.toLowerCase() !== 'x-ssl-client-root-ca-dn');
      const value = (name: string): string | null => h10.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
      got[t.name] = { status: o.status, h10: h10.map(([n]) => n.toLowerCase()).sort(), verify: value('x-ssl-client-verify'), xfcc: value('x-forwarded-client-cert') === 'forged' ? 'forged' : 'set' };
    }
    const edgeView = got['mtls-edge']!;
    expect(edgeView).to.include({ status: 405, verify: '0', xfcc: 'set' });
    expect(edgeView.h10).to.have.length(9);
    for (const t of run.targets) expect(got[t.name], t.name).to.deep.equal(edgeView);
  });
});
