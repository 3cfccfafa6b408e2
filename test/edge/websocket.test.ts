// WebSocket upgrades through the edge with a client certificate: the echo's first message lists
// the headers the upstream got, with the same H10 handling as plain requests (docs/edge-behaviour.md §7.8).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Agent, WebSocket } from 'undici';
import { clientIdentity, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { isH10 } from './h10Expect.js';

type Pair = [string, string];

/** A masked client text frame (RFC 6455 §5.3). */
function clientFrame(text: string, opcode = 0x1): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  if (payload.length >= 126) throw new Error('short frames only');
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

/** Reads one unmasked server text frame. */
async function serverFrame(reader: ResponseReader): Promise<string> {
  const head = await reader.bytes(2);
  let len = head[1]! & 0x7f;
  if (len === 126) len = (await reader.bytes(2)).readUInt16BE(0);
  else if (len === 127) len = Number((await reader.bytes(8)).readBigUInt64BE(0));
  return (await reader.bytes(len)).toString('utf8');
}

const UPGRADE_HEAD = (extra: Pair[]): string =>
  ['GET /ws?x=1 HTTP/1.1', 'Host: localhost', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...extra.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');

const SPOOF: Pair[] = [
  ['x-ssl-client', '1'],
  ['X-Forwarded-Client-Cert', 'c3Bvb2Y='],
  ['X-SSL-CLIENT-SUBJECT-CN', 'YWRtaW4='],
  ['X-SSL-Client-Cert', 'passes'],
];

describe('edge: WebSocket through the edge (same H10 rules as requests)', function () {
  this.timeout(60_000);
  let t: TestEdge;
  let routeService: TestEdge;
  before(async () => {
    t = await startTestEdge();
    routeService = await startTestEdge({ forwardedClientCert: 'forward_only_if_route_service' });
  });
  after(async () => {
    await t?.close();
    await routeService?.close();
  });

  async function upgrade(port: number, extra: Pair[], withCert: boolean): Promise<{ headers: Pair[]; path: string; echoed: string }> {
    const socket = await tlsConnect(port, { identity: withCert ? await clientIdentity('valid') : undefined });
    try {
      const reader = new ResponseReader(socket);
      socket.write(UPGRADE_HEAD(extra));
      const res = await reader.next();
      expect(res.status, res.statusLine).to.equal(101);
      const first = JSON.parse(await serverFrame(reader)) as { path: string; headers: Pair[] };
      socket.write(clientFrame('ping through the tunnel'));
      const echoed = await serverFrame(reader);
      socket.write(clientFrame('', 0x8));
      return { headers: first.headers, path: first.path, echoed };
    } finally {
      socket.destroy();
    }
  }

  it('sanitize_set with a cert: spoofed H10 removed, the ten set, then X-Forwarded-Proto/For; tunnel echoes', async () => {
    const r = await upgrade(t.httpsPort, SPOOF, true);
    expect(r.path).to.equal('/ws?x=1');
    expect(r.echoed).to.equal('ping through the tunnel');
    const names = r.headers.map(([n]) => n);
    expect(r.headers.filter(([n]) => isH10(n)).map(([n]) => n)).to.deep.equal([
      'X-Forwarded-Client-Cert', 'X-SSL-Client', 'X-SSL-Client-Session-ID', 'X-SSL-Client-Verify', 'X-SSL-Client-NotBefore',
      'X-SSL-Client-NotAfter', 'X-SSL-Client-Subject-DN', 'X-SSL-Client-Subject-CN', 'X-SSL-Client-Issuer-DN', 'X-SSL-Client-Root-CA-DN',
    ]);
    expect(r.headers.find(([n]) => n === 'X-SSL-Client')?.[1]).to.equal('1');
    expect(r.headers.find(([n]) => n === 'X-SSL-Client-Subject-CN')?.[1]).to.equal(Buffer.from('dev-client').toString('base64'));
    expect(r.headers).to.deep.include(['X-SSL-Client-Cert', 'passes']);
    expect(r.headers.slice(-2)).to.deep.equal([['X-Forwarded-Proto', 'https'], ['X-Forwarded-For', '127.0.0.1']]);
    expect(names.map((n) => n.toLowerCase())).to.include.members(['upgrade', 'connection', 'sec-websocket-key']);
  });

  it('sanitize_set without a cert: spoofed H10 removed, nothing set', async () => {
    const r = await upgrade(t.httpsPort, SPOOF, false);
    expect(r.headers.filter(([n]) => isH10(n))).to.deep.equal([]);
    expect(r.headers).to.deep.include(['X-SSL-Client-Cert', 'passes']);
  });

  it('forward_only_if_route_service: with a signature the client XFCC is kept when no cert is used', async () => {
    const r = await upgrade(routeService.httpsPort, [['X-Cf-Proxy-Signature', 'sig'], ...SPOOF], false);
    expect(r.headers.filter(([n]) => isH10(n))).to.deep.equal(SPOOF.filter(([n]) => isH10(n)));
    const without = await upgrade(routeService.httpsPort, SPOOF, false);
    expect(without.headers.filter(([n]) => isH10(n))).to.deep.equal([]);
  });

  it('plain listener: the upgrade passes every header through', async () => {
    const socket = await tcpConnect(t.httpPort);
    try {
      const reader = new ResponseReader(socket);
      socket.write(UPGRADE_HEAD(SPOOF));
      expect((await reader.next()).status).to.equal(101);
      const first = JSON.parse(await serverFrame(reader)) as { headers: Pair[] };
      expect(first.headers.filter(([n]) => isH10(n))).to.deep.equal(SPOOF.filter(([n]) => isH10(n)));
      expect(first.headers.slice(-2)).to.deep.equal([['X-Forwarded-Proto', 'http'], ['X-Forwarded-For', '127.0.0.1']]);
    } finally {
      socket.destroy();
    }
  });

  it("undici's WebSocket client with a client certificate", async () => {
    const { pki } = await testPki();
    const id = await clientIdentity('valid');
    const dispatcher = new Agent({ connect: { ca: readFileSync(pki.rootCa.cert), cert: id.cert, key: id.key, servername: 'localhost' } });
    const ws = new WebSocket(`wss://localhost:${t.httpsPort}/undici`, { dispatcher, headers: { 'X-SSL-Client-Verify': '0-spoofed' } } as never);
    try {
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no WebSocket messages within 10 s')), 10_000);
        ws.addEventListener('error', () => {
          clearTimeout(timer);
          reject(new Error('WebSocket error'));
        });
        ws.addEventListener('message', (ev) => {
          messages.push(String(ev.data));
          if (messages.length === 1) ws.send('hello');
          else {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const first = JSON.parse(messages[0]!) as { path: string; headers: Pair[] };
      expect(first.path).to.equal('/undici');
      const h = (n: string): string[] => first.headers.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
      expect(h('X-SSL-Client')).to.deep.equal(['1']);
      expect(h('X-SSL-Client-Verify')).to.deep.equal(['0']);
      expect(messages[1]).to.equal('hello');
    } finally {
      ws.close();
      await dispatcher.close().catch(() => undefined);
    }
  });

  it('the edge still serves plain requests afterwards', async () => {
    const socket = await tlsConnect(t.httpsPort, { identity: await clientIdentity('valid') });
    try {
      const reader = new ResponseReader(socket);
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect((await reader.next()).status).to.equal(200);
    } finally {
      socket.destroy();
    }
  });
});
