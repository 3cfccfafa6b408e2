// Log injection end to end: a client whose SNI carries CR LF and ESC, and requests whose path, Host and
// header values carry ESC, C1, line separators and bidi overrides. Every log the edge writes (pretty
// and JSON process log, cpi and haproxy access logs) must show them as visible escapes: no raw control
// byte, no forged line, no terminal colour.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue.js';
import { generateKeyPem } from '../../src/pki/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { createObservability, type Observability } from '../../src/observe/index.js';
import { clientIdentity, eventually, testPki } from '../support/edgeHarness.js';
import { rawExchange, tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { Collect } from '../observe/fixtures.js';

// Raw in no line: C0 (except the line feed that ends each line), DEL, C1, U+2028/2029, bidi controls.
const RAW_UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('hostile: log injection (SNI, path, Host, headers)', function () {
  this.timeout(30_000);
  const outputs: { name: string; out: Collect; obs: Observability }[] = [];
  let edge: RunningEdge | null = null;

  before(async () => {
    const { dir } = await testPki();
    for (const [name, logFormat, access] of [['pretty+haproxy', 'pretty', 'haproxy'], ['json+cpi', 'json', 'cpi']] as const) {
      const out = new Collect();
      // debug: every request gets a process-log line too, not only the access-log line.
      const obs = await createObservability({ stdout: out, logFormat, logLevel: 'debug', accessLogFormat: access, admin: null, status: () => { throw new Error('unused'); } });
      outputs.push({ name, out, obs });
    }
    outputs[0]!.obs.bus.subscribe(outputs[1]!.obs.bus);
    const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir, admin: false } });
    edge = await startEdge(loaded.config, loaded.resolved, outputs[0]!.obs.bus);
  });

  after(async () => {
    await edge?.close(2000);
    for (const o of outputs) await o.obs.close();
  });

  const linesWith = (marker: string): string[] => outputs.flatMap((o) => o.out.lines.filter((l) => l.includes(marker)).map((l) => `${o.name}: ${l}`));

  it('escapes an SNI with CR LF and ESC in the rejection log lines', async () => {
    const sni = 'sni-marker.localhost\r\n2026-01-01T00:00:00.000Z INFO  forged line \x1b[32mgreen\x1b[0m';
    // An untrusted client certificate: the handshake is refused and logged with its SNI.
    await tlsConnect(edge!.httpsPort, { servername: sni, identity: await clientIdentity('untrusted-ca'), anyServerName: true })
      .then(async (s) => {
        // TLS 1.3: the refusal arrives at the first read.
        s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
        await new Promise((r) => s.once('close', r));
      })
      .catch(() => undefined);
    await eventually(() => linesWith('sni-marker').length >= 2, 5000);
    const lines = linesWith('sni-marker');
    for (const l of lines) expect(l, l).to.not.match(RAW_UNSAFE);
    expect(lines.join('\n')).to.not.match(/^\S+ INFO {2}forged line/m);
    const pretty = lines.find((l) => l.startsWith('pretty'))!;
    expect(pretty).to.include('sni-marker.localhost\\x0D\\x0A2026-01-01').and.include('\\x1B[32mgreen');
    const json = lines.find((l) => l.startsWith('json'))!;
    expect(JSON.parse(json.slice('json+cpi: '.length)).sni).to.equal(sni);
  });

  it('answers a path, Host or header with ESC, C1 or U+2028 with 400, and logs no raw byte of it', async () => {
    const requests = [
      'GET /path-marker/\x1b[31mred HTTP/1.1\r\nHost: localhost\r\n\r\n',
      'GET /path-marker/\x85nel\xe2\x80\xa8sep\xe2\x80\xaertl HTTP/1.1\r\nHost: localhost\r\n\r\n',
      'GET /path-marker HTTP/1.1\r\nHost: host\x1b[31m.localhost\r\n\r\n',
      'GET /path-marker HTTP/1.1\r\nHost: localhost\r\nX-Note: v\x1b[1mbold\r\n\r\n',
    ];
    for (const request of requests) {
      const socket: Socket = await tcpConnect(edge!.httpPort!);
      try {
        const reply = await rawExchange(socket, Buffer.from(request, 'latin1'));
        expect(reply.status, JSON.stringify(request)).to.equal(400);
      } finally {
        socket.destroy();
      }
    }
    for (const o of outputs) for (const l of o.out.lines) expect(l, l).to.not.match(RAW_UNSAFE);
  });

  it('escapes ESC, CR LF, U+2028 and a bidi override in a client certificate name in every log', async () => {
    const { pki } = await testPki();
    const cn = 'cn-marker\x1b[31m\r\n2026-01-01T00:00:00.000Z INFO  forged\u2028x\u202eevil';
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-hostile-cn-'));
    try {
      const keyPath = join(dir, 'client.key');
      const keyPem = await generateKeyPem('ec-p256');
      writeFileSync(keyPath, keyPem, { mode: 0o600 });
      const certPem = await issueCertificate({ subject: [[['CN', cn]]], keyPath, issuer: pki.intermediateCa, profile: 'client', validity: { days: 1 } });
      const identity = { cert: Buffer.from(certPem + readFileSync(pki.intermediateCa.cert, 'utf8')), key: Buffer.from(keyPem) };
      const socket = await tlsConnect(edge!.httpsPort, { identity });
      try {
        const reply = await rawExchange(socket, 'GET /cert-request HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
        expect(reply.status).to.equal(200);
      } finally {
        socket.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // pretty (debug line) + haproxy access line (no CN in it) + JSON (debug line) + cpi access line
    await eventually(() => linesWith('/cert-request').length >= 4, 5000);
    const lines = linesWith('cn-marker');
    expect(lines.length, 'pretty and JSON process log, cpi access log').to.be.at.least(3);
    for (const l of lines) expect(l, l).to.not.match(RAW_UNSAFE);
    expect(lines.join('\n')).to.not.match(/^\S+ INFO {2}forged/m);
    // Node already writes the C0 bytes of a certificate name as RFC 2253 `\\1B`; the separator and
    // the bidi override arrive raw and are escaped here.
    const cpi = lines.find((l) => l.startsWith('json+cpi') && l.includes('"GET /cert-request'))!;
    expect(cpi).to.include(' - cn-marker#5C1B[31m#5C0D#5C0A2026-01-01T00:00:00.000Z INFO  forged#E2#80#A8x#E2#80#AEevil@');
    const pretty = lines.find((l) => l.startsWith('pretty') && l.includes('DEBUG GET'))!;
    expect(pretty).to.include('subject="CN=cn-marker\\\\1B[31m\\\\0D\\\\0A2026').and.include('forged\\u2028x\\u202eevil"');
    const expiry = lines.find((l) => l.startsWith('pretty') && l.includes('WARN'));
    if (expiry) expect(expiry).to.include('forged\\u{2028}x\\u{202E}evil (client certificate');
  });
});
