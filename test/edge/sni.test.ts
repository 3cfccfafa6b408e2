// Per-SNI TLS configurations (crt-list lines) from a YAML file: each hostname pattern with its own
// server certificate and client-auth mode; the first entry as default; strict SNI.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { issueCertificate } from '../../src/pki/issue.js';
import { generateKeyPem } from '../../src/pki/keys.js';
import type { HandshakeRejectedEvent, RequestEvent } from '../../src/observe/events.js';
import { clientIdentity, eventually, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tlsConnect, upstreamValues, type RawResponse } from '../support/rawHttp.js';

interface Served {
  readonly serverCn: string;
  readonly response: RawResponse;
}

/** One request on a fresh connection with the given SNI; reports the server certificate seen. */
async function get(port: number, servername: string, identity?: ClientIdentity): Promise<Served> {
  // Test names such as a.b.optional.localhost are not in the server certificate's SANs.
  const socket: TLSSocket = await tlsConnect(port, { servername, identity, anyServerName: true });
  try {
    const serverCn = String(socket.getPeerCertificate().subject?.CN ?? '');
    const reader = new ResponseReader(socket);
    socket.write(`GET / HTTP/1.1\r\nHost: ${servername || 'localhost'}\r\n\r\n`);
    return { serverCn, response: await reader.next() };
  } finally {
    socket.destroy();
  }
}

/** The handshake or the first read must fail; returns the error text. */
async function failing(port: number, servername: string, identity?: ClientIdentity): Promise<string> {
  try {
    const served = await get(port, servername, identity);
    expect.fail(`expected a TLS failure, got HTTP ${served.response.status}`);
  } catch (e) {
    if ((e as Error).name === 'AssertionError') throw e;
    const err = e as Error & { code?: string };
    return `${err.code ?? ''} ${err.message}`;
  }
  return '';
}

describe('edge: per-SNI TLS configurations and strict SNI', function () {
  this.timeout(60_000);
  let tmp: string;
  let t: TestEdge;
  let strict: TestEdge;
  let valid: ClientIdentity;

  before(async () => {
    const { pki } = await testPki();
    valid = await clientIdentity('valid');
    tmp = mkdtempSync(join(tmpdir(), 'mtls-edge-sni-'));
    // A second server certificate, so the test sees which configuration answered.
    const key = join(tmp, 'required.key');
    writeFileSync(key, await generateKeyPem('ec-p256'));
    const pem = await issueCertificate({
      subject: [[['C', 'DE']], [['O', 'mtls-edge test']], [['CN', 'required-server']]],
      keyPath: key,
      issuer: pki.intermediateCa,
      profile: 'server',
      san: ['DNS:required.localhost'],
      validity: { days: 30 },
    });
    const { readFileSync } = await import('node:fs');
    writeFileSync(join(tmp, 'required-chain.crt'), pem + readFileSync(pki.intermediateCa.cert, 'utf8'));

    const tlsList = `
tls:
  - name: default-optional
    hosts: [optional.localhost, "*.optional.localhost"]
    cert: ${pki.server.chain}
    key: ${pki.server.key}
    trust: [${pki.rootCa.cert}]
  - name: no-client-auth
    hosts: [disabled.localhost]
    cert: ${pki.server.chain}
    key: ${pki.server.key}
    client_auth: disabled
  - name: mtls-required
    hosts: [REQUIRED.localhost]
    cert: ${join(tmp, 'required-chain.crt')}
    key: ${key}
    trust: ${pki.rootCa.cert}
    client_auth: required
`;
    t = await startTestEdge({}, tlsList);
    strict = await startTestEdge({}, `strict_sni: true\n${tlsList}`);
  });

  after(async () => {
    await t?.close();
    await strict?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const lastRequest = (e: TestEdge): RequestEvent => e.events.filter((x): x is RequestEvent => x.kind === 'request').at(-1)!;

  it('optional entry: with and without a certificate', async () => {
    const withCert = await get(t.httpsPort, 'optional.localhost', valid);
    expect(withCert.serverCn).to.equal('localhost');
    expect(upstreamValues(withCert.response, 'X-SSL-Client')).to.deep.equal(['1']);
    expect(lastRequest(t).tlsConfig).to.equal('default-optional');
    const without = await get(t.httpsPort, 'a.b.optional.localhost');
    expect(without.response.status).to.equal(200);
    expect(upstreamValues(without.response, 'X-SSL-Client')).to.deep.equal([]);
    expect(lastRequest(t).sni).to.equal('a.b.optional.localhost');
  });

  it('disabled entry: no certificate is requested, so none is used even when the client has one', async () => {
    const r = await get(t.httpsPort, 'disabled.localhost', valid);
    expect(r.response.status).to.equal(200);
    expect(upstreamValues(r.response, 'X-SSL-Client')).to.deep.equal([]);
    expect(lastRequest(t).tlsConfig).to.equal('no-client-auth');
  });

  it('required entry: its own server certificate; valid cert → 200', async () => {
    const r = await get(t.httpsPort, 'required.localhost', valid);
    expect(r.serverCn).to.equal('required-server');
    expect(upstreamValues(r.response, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    expect(lastRequest(t).tlsConfig).to.equal('mtls-required');
  });

  it('required entry (SNI matched case-insensitively): no certificate → certificate_required', async () => {
    const before = t.events.length;
    const err = await failing(t.httpsPort, 'Required.LOCALHOST');
    expect(err).to.match(/CERTIFICATE_REQUIRED|certificate required/i);
    await eventually(() => t.events.slice(before).some((e) => e.kind === 'handshake-rejected'));
    const ev = t.events.slice(before).find((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected')!;
    expect(ev.tlsConfig).to.equal('mtls-required');
    expect(ev.alert).to.equal('certificate_required');
  });

  it('no SNI match (and no SNI at all) → the first entry is the default', async () => {
    const r = await get(t.httpsPort, 'elsewhere.localhost', valid);
    expect(r.serverCn).to.equal('localhost');
    expect(upstreamValues(r.response, 'X-SSL-Client')).to.deep.equal(['1']);
    expect(lastRequest(t).tlsConfig).to.equal('default-optional');
    const noSni = await get(t.httpsPort, '', valid);
    expect(noSni.response.status).to.equal(200);
    expect(lastRequest(t).sni).to.equal(null);
    expect(lastRequest(t).tlsConfig).to.equal('default-optional');
  });

  it('strict SNI: an unknown name gets alert unrecognized_name, no HTTP', async () => {
    const before = strict.events.length;
    const err = await failing(strict.httpsPort, 'elsewhere.localhost', valid);
    expect(err).to.match(/UNRECOGNIZED_NAME|unrecognized name/i);
    await eventually(() => strict.events.slice(before).some((e) => e.kind === 'handshake-rejected'));
    const ev = strict.events.slice(before).find((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected')!;
    expect(ev.alert).to.equal('unrecognized_name');
    expect(ev.sni).to.equal('elsewhere.localhost');
    expect(strict.events.some((e) => e.kind === 'request')).to.equal(false);
  });

  it('strict SNI: no SNI at all is refused too', async () => {
    const err = await failing(strict.httpsPort, '', valid);
    expect(err).to.match(/UNRECOGNIZED_NAME|unrecognized name/i);
  });

  it('strict SNI: listed names still work, with their own modes', async () => {
    const r = await get(strict.httpsPort, 'required.localhost', valid);
    expect(r.serverCn).to.equal('required-server');
    expect(upstreamValues(r.response, 'X-SSL-Client')).to.deep.equal(['1']);
    const d = await get(strict.httpsPort, 'disabled.localhost', valid);
    expect(upstreamValues(d.response, 'X-SSL-Client')).to.deep.equal([]);
  });
});
