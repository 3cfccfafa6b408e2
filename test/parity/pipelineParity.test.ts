// Parity with real HAProxy for the pipeline cases of issue "Unfoolable": Connection tokens naming
// the edge's own headers, SNI and Host selecting different TLS configurations (a crt-list with a
// client-auth-required line and a no-client-auth line), absolute-form targets, and a request
// pipelined behind a refused Upgrade. HAProxy and mtls-edge run side by side in front of one
// recording upstream. Without `haproxy` on PATH the suite says why and skips.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type net from 'node:net';
import { expect } from 'chai';
import { clientIdentity, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tlsConnect } from '../support/rawHttp.js';
import { recordingUpstream, type Recorded, type RecordingUpstream } from '../hostile/recordingUpstream.js';
import { domainFrontingRules } from '../../src/export/haproxyConfig.js';
import { findHaproxy, freePort, haproxyVersion, startHaproxy, writeServerPem, type RunningHaproxy } from './haproxy.js';

const H10_SANITIZE = ['X-Forwarded-Client-Cert', 'X-SSL-Client', 'X-SSL-Client-Verify', 'X-SSL-Client-Subject-CN'];
const SET_RULES = [
  'http-request set-header X-Forwarded-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }',
  'http-request set-header X-SSL-Client %[ssl_c_used] if { ssl_c_used }',
  'http-request set-header X-SSL-Client-Verify %[ssl_c_verify] if { ssl_c_used }',
  'http-request set-header X-SSL-Client-Subject-CN %{+Q}[ssl_c_s_dn(cn),base64] if { ssl_c_used }',
];
// The Cloud Foundry template's rules for disable_domain_fronting: true, as export haproxy renders them.
const DOMAIN_FRONTING_TRUE = domainFrontingRules(true);

function values(r: Recorded, name: string): string[] {
  return r.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

interface Side {
  readonly name: string;
  readonly port: number;
}

describe('parity: pipeline cases against real HAProxy (issue "Unfoolable")', function () {
  this.timeout(60_000);
  const bin = findHaproxy();
  let dir: string;
  let up: RecordingUpstream;
  const started: { stop(): Promise<void> }[] = [];

  before(async function () {
    if (!bin) {
      console.log('    (skipped: no haproxy on PATH or in /usr/sbin)');
      this.skip();
    }
    console.log(`    HAProxy ${haproxyVersion(bin!)}`);
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-pipeline-parity-'));
    up = await recordingUpstream();
  });
  after(async () => {
    for (const s of started) await s.stop().catch(() => undefined);
    await up?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    if (up) up.seen.length = 0;
  });

  async function haproxyWith(extraRules: readonly string[]): Promise<Side> {
    const { pki } = await testPki();
    const pem = writeServerPem(dir, pki.server.chain, pki.server.key);
    const crtList = join(dir, `crt-list-${started.length}`);
    // Line 1 (the default for unmatched SNI): no client certificates; line 2: partner API, required.
    writeFileSync(crtList, `${pem} [verify none] www.localhost\n${pem} [ca-file ${pki.rootCa.cert} verify required] api.cert.localhost\n`);
    const port = await freePort();
    const cfg = [
      'global', '  maxconn 200', '  ssl-default-bind-options no-sslv3 no-tls-tickets', '',
      'defaults', '  mode http', '  option forwardfor', '  option http-server-close',
      '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s', '  timeout tunnel 3600s', '  timeout http-keep-alive 6s', '  timeout http-request 5s', '',
      'frontend https-in', `  bind 127.0.0.1:${port} ssl crt-list ${crtList}`,
      ...extraRules.map((l) => `  ${l}`),
      ...H10_SANITIZE.map((h) => `  http-request del-header ${h}`),
      ...SET_RULES.map((l) => `  ${l}`),
      '  default_backend upstream', '',
      'backend upstream', `  server upstream 127.0.0.1:${up.port}`, '',
    ].join('\n');
    const h: RunningHaproxy = await startHaproxy(bin!, cfg, port, { dir });
    started.push(h);
    return { name: 'haproxy', port };
  }

  async function edgeWith(extraYaml: string): Promise<Side> {
    const { pki } = await testPki();
    const e: TestEdge = await startTestEdge({}, [
      'tls:',
      '  - name: partner-api', '    hosts: [api.cert.localhost]', `    cert: ${pki.server.chain}`, `    key: ${pki.server.key}`, '    client_auth: required', `    trust: [${pki.rootCa.cert}]`,
      '  - name: public', "    hosts: ['*']", `    cert: ${pki.server.chain}`, `    key: ${pki.server.key}`, '    client_auth: disabled',
      'routes:', '  - host: "*"', `    upstream: http://127.0.0.1:${up.port}`,
      extraYaml, '',
    ].join('\n'));
    started.push({ stop: () => e.close() });
    return { name: 'mtls-edge', port: e.httpsPort };
  }

  /** Sends raw request bytes; returns the status of the first response and the requests the app saw. */
  async function exchange(side: Side, servername: string, raw: string, withCert = false): Promise<{ status: number; seen: Recorded[] }> {
    up.seen.length = 0;
    const socket: net.Socket = await tlsConnect(side.port, { servername, anyServerName: true, identity: withCert ? await clientIdentity('valid') : undefined });
    try {
      const reader = new ResponseReader(socket);
      socket.write(Buffer.from(raw, 'latin1'));
      const r = await reader.next();
      // Let a pipelined second request (if any) reach the app, or not.
      await new Promise((res) => setTimeout(res, 300));
      return { status: r.status, seen: [...up.seen] };
    } finally {
      socket.destroy();
    }
  }

  const req = (lines: string[]): string => [...lines, '', ''].join('\r\n');

  it('Connection: close, X-SSL-Client-Subject-CN, X-Forwarded-Client-Cert: both deliver their own CN and XFCC', async () => {
    const sides = [await haproxyWith([]), await edgeWith('')];
    const cn = Buffer.from('dev-client').toString('base64');
    for (const side of sides) {
      const r = await exchange(side, 'api.cert.localhost', req(['GET /c HTTP/1.1', 'Host: api.cert.localhost', 'Connection: close, X-SSL-Client-Subject-CN, X-Forwarded-Client-Cert', 'X_SSL_Client_Subject_CN: YWRtaW4=']), true);
      expect(r.status, side.name).to.equal(200);
      expect(values(r.seen[0]!, 'X-SSL-Client-Subject-CN'), side.name).to.deep.equal([cn]);
      expect(values(r.seen[0]!, 'X-Forwarded-Client-Cert'), side.name).to.have.length(1);
      // Both pass the underscore look-alike (HAProxy does; the edge flags it by default).
      expect(values(r.seen[0]!, 'X_SSL_Client_Subject_CN'), side.name).to.deep.equal(['YWRtaW4=']);
    }
  });

  it('SNI www.localhost without a certificate, Host api.cert.localhost: HAProxy forwards it; mtls-edge answers 421 by default (disable_client_auth_fronting), and forwards with it off', async () => {
    const raw = req(['GET /admin HTTP/1.1', 'Host: api.cert.localhost']);
    const h = await exchange(await haproxyWith([]), 'www.localhost', raw);
    expect(h.status).to.equal(200);
    expect(h.seen.map((x) => x.url)).to.deep.equal(['/admin']);
    const e = await exchange(await edgeWith(''), 'www.localhost', raw);
    expect(e.status).to.equal(421);
    expect(e.seen).to.deep.equal([]);
    const same = await exchange(await edgeWith('disable_client_auth_fronting: false'), 'www.localhost', raw);
    expect(same.status).to.equal(200);
    expect(same.seen.map((x) => x.url)).to.deep.equal(['/admin']);
  });

  it('disable_domain_fronting: true: same answers for a Host mismatch (421) and an absolute-form target naming another host (400)', async () => {
    const sides = [await haproxyWith(DOMAIN_FRONTING_TRUE), await edgeWith('disable_domain_fronting: true\ndisable_client_auth_fronting: false')];
    const cases: [string, number][] = [
      [req(['GET /a HTTP/1.1', 'Host: api.cert.localhost']), 421],
      [req(['GET http://api.cert.localhost/admin HTTP/1.1', 'Host: www.localhost']), 400],
      [req(['GET http://api.cert.localhost/admin HTTP/1.1', 'Host: api.cert.localhost']), 421],
      [req(['GET http://www.localhost/ok HTTP/1.1', 'Host: www.localhost']), 200],
      // Host spellings: case and port do not matter to HAProxy's check, a trailing dot does.
      [req(['GET /a HTTP/1.1', 'Host: WWW.LocalHost:443']), 200],
      [req(['GET /a HTTP/1.1', 'Host: www.localhost.']), 421],
      // The port is what follows the last colon; an empty Host names no server.
      [req(['GET /a HTTP/1.1', 'Host: www.localhost:443:1']), 421],
      [req(['GET /a HTTP/1.1', 'Host: ']), 421],
      // Several Host lines: different values refused, identical ones forwarded as one request.
      [req(['GET /a HTTP/1.1', 'Host: www.localhost', 'Host: evil.localhost']), 400],
      [req(['GET /a HTTP/1.1', 'Host: www.localhost', 'Host: www.localhost']), 200],
    ];
    for (const [raw, status] of cases) {
      for (const side of sides) {
        const r = await exchange(side, 'www.localhost', raw);
        expect(r.status, `${side.name}: ${raw.split('\r\n')[0]}`).to.equal(status);
        expect(r.seen.length, side.name).to.equal(status === 200 ? 1 : 0);
      }
    }
  });

  it('an absolute-form target naming another host is refused with 400 without any domain-fronting rule too', async () => {
    const raw = req(['GET http://api.cert.localhost/admin HTTP/1.1', 'Host: www.localhost']);
    for (const side of [await haproxyWith([]), await edgeWith('disable_client_auth_fronting: false')]) {
      const r = await exchange(side, 'www.localhost', raw);
      expect(r.status, side.name).to.equal(400);
      expect(r.seen, side.name).to.deep.equal([]);
    }
  });

  it('a forged request pipelined behind a refused Upgrade reaches the app sanitised (HAProxy) or not at all (mtls-edge closes)', async () => {
    const raw = req(['GET / HTTP/1.1', 'Host: www.localhost', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'])
      + req(['GET /admin HTTP/1.1', 'Host: www.localhost', 'X-SSL-Client: 1', 'X-SSL-Client-Verify: 0', 'X-SSL-Client-Subject-CN: YWRtaW4=']);
    const h = await exchange(await haproxyWith([]), 'www.localhost', raw);
    expect(h.seen.map((x) => x.url)).to.deep.equal(['/', '/admin']);
    expect(values(h.seen[1]!, 'X-SSL-Client')).to.deep.equal([]);
    const e = await exchange(await edgeWith(''), 'www.localhost', raw);
    expect(e.seen.map((x) => x.url)).to.deep.equal(['/']);
  });
});
