// Header dialects through a real edge (docs/dialects.md): real TLS handshakes on loopback,
// the built-in echo upstream reporting what it received, for a valid certificate, no certificate,
// a certificate with an ignored error, and client-forged dialect headers. The expected values are
// derived here from the certificate files (and openssl for the RFC 2253 DNs), not from the edge's code.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { clientIdentity, eventually, httpsRequest, received, startTestEdge, testPki, type ClientIdentity, type EchoReply, type TestEdge } from '../support/edgeHarness.js';
import { failurePaths } from '../../src/pki/failures.js';
import { buildCertificate, certKeyFromPem, generateCertKey, privateKeyPem, signerOf, simpleName } from '../../src/pki/certBuilder.js';
import { openssl } from '../headers/fixtures.js';
import type { EdgeEvent } from '../../src/observe/events.js';

type Pair = [string, string];

const cert = (file: string): X509Certificate => new X509Certificate(readFileSync(file));
const sha256Hex = (c: X509Certificate): string => c.fingerprint256.replace(/:/g, '').toLowerCase();

async function rfc2253(file: string, which: 'subject' | 'issuer'): Promise<string> {
  const { stdout } = await openssl(['x509', '-in', file, '-noout', `-${which}`, '-nameopt', 'RFC2253']);
  return stdout.toString('latin1').replace(new RegExp(`^${which}=`), '').replace(/\n$/, '');
}

/** Client headers the edge must treat as forged: every dialect's names plus cf's, mixed case, repeated. */
const FORGED: Pair[] = [
  ['x-forwarded-client-cert', 'By=spoofed;Hash=00'],
  ['Client-Cert', ':c3Bvb2Y=:'],
  ['client-cert-chain', ':c3Bvb2Y=:'],
  ['X-SSL-Client-Cert', 'spoofed'],
  ['x-ssl-client-verify', 'SUCCESS'],
  ['X-SSL-Client-S-DN', 'CN=admin'],
  ['X-SSL-Client-I-DN', 'CN=evil'],
  ['X-Forwarded-Tls-Client-Cert', 'spoofed'],
  ['x-forwarded-tls-client-cert-info', 'Subject%3D%22CN%3Dadmin%22'],
  ['X-SSL-Client-Subject-DN', 'L0NOPWFkbWlu'],
  ['X-Forwarded-Client-Cert', 'second-copy'],
];

function ok(reply: EchoReply): EchoReply {
  expect(reply.status, reply.body).to.equal(200);
  expect(reply.echo, 'the echo upstream answered').to.not.equal(null);
  return reply;
}

/** Forged headers of names outside `owned` reach the upstream unchanged (a dialect touches only its own names). */
function othersUntouched(reply: EchoReply, owned: readonly string[]): void {
  const lower = new Set(owned.map((n) => n.toLowerCase()));
  for (const [name, value] of FORGED) {
    if (lower.has(name.toLowerCase())) continue;
    expect(received(reply, name), name).to.include(value);
  }
}

describe('edge: header dialects (docs/dialects.md), real handshakes', function () {
  this.timeout(60_000);
  let valid: ClientIdentity;
  let expired: ClientIdentity;
  let leaf: X509Certificate;
  let intermediate: X509Certificate;
  let root: X509Certificate;
  let leafFile: string;
  let expiredFile: string;

  before(async () => {
    const { dir, pki } = await testPki();
    valid = await clientIdentity('valid');
    expired = await clientIdentity('expired');
    leafFile = pki.client.cert;
    expiredFile = failurePaths(dir, 'expired').cert;
    leaf = cert(pki.client.cert);
    intermediate = cert(pki.intermediateCa.cert);
    root = cert(pki.rootCa.cert);
  });

  describe('envoy, sanitize_set (default details: cert, subject, uri, dns)', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: envoy\n');
    });
    after(async () => t?.close());

    it('valid certificate: one XFCC element, Hash, Cert, Subject, URI, DNS; the client\'s copies gone', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      const dns = (leaf.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => `;DNS=${s.slice(4)}`).join('');
      const expected = `Hash=${sha256Hex(leaf)};Cert="${encodeURIComponent(leaf.toString())}";Subject="${await rfc2253(leafFile, 'subject')}";URI=${dns}`;
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([expected]);
      expect(expected).to.include('Cert="-----BEGIN%20CERTIFICATE-----%0A');
      // Written in place of the client's first copy, as Envoy overwrites its one XFCC entry.
      expect(reply.echo!.headers.findIndex(([n]) => n.toLowerCase() === 'x-forwarded-client-cert') + 1).to.equal(reply.echo!.headers.findIndex(([n]) => n === 'Client-Cert'));
      othersUntouched(reply, ['X-Forwarded-Client-Cert']);
    });

    it('no certificate: the client\'s XFCC is removed, nothing set', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([]);
      othersUntouched(reply, ['X-Forwarded-Client-Cert']);
    });

    it('the request event names the dialect and mode, and lists the XFCC copies removed', async () => {
      await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ['X-Forwarded-Client-Cert', 'forged-for-the-event']] });
      const mine = (ev: EdgeEvent): boolean => ev.kind === 'request' && ev.h10.sent.some(([, v]) => v === 'forged-for-the-event');
      await eventually(() => t.events.some(mine));
      const e = t.events.find(mine);
      expect(e?.kind === 'request' ? [e.forwardedClientCert, e.h10.removed, e.h10.set.map(([n]) => n)] : null).to.deep.equal(['envoy sanitize_set', [['X-Forwarded-Client-Cert', 'forged-for-the-event']], ['X-Forwarded-Client-Cert']]);
    });
    it('a URI SAN holding CR LF (an IA5String may): 400 with the reason, nothing forwarded, the edge serves on', async () => {
      const { pki } = await testPki();
      const interPem = readFileSync(pki.intermediateCa.cert, 'utf8');
      const key = await generateCertKey('ec-p256');
      const signer = signerOf(interPem, certKeyFromPem(readFileSync(pki.intermediateCa.key)));
      const now = Date.now();
      const crlf = buildCertificate({
        subject: simpleName([['CN', 'crlf-uri']]), subjectKey: key, signer, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000),
        extensions: [{ kind: 'subjectAltName', names: [{ uri: 'spiffe://a\r\nX-Injected: 1' }] }, { kind: 'extKeyUsage', purposes: ['1.3.6.1.5.5.7.3.2'] }],
      });
      const reply = await httpsRequest(t.httpsPort, { identity: { cert: Buffer.from(crlf.pem + interPem), key: Buffer.from(privateKeyPem(key)) }, headers: [['Host', 'localhost']] });
      expect([reply.status, reply.echo]).to.deep.equal([400, null]);
      expect(String(reply.headers['x-mtls-edge-error'])).to.match(/X-Forwarded-Client-Cert a control character/);
      await eventually(() => t.events.some((e) => e.kind === 'request' && e.status === 400 && /control character/.test(e.error ?? '')));
      expect(ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost']] })).status).to.equal(200);
    });
  });

  describe('envoy, append_forward with chain only', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: envoy\nenvoy:\n  forward_client_cert_details: APPEND_FORWARD\n  set_current_client_cert_details: { cert: false, chain: true, subject: false, uri: false, dns: false }\n');
    });
    after(async () => t?.close());

    it('valid certificate: the client\'s copies joined with ",", then the edge\'s element', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      const chain = encodeURIComponent([leaf, intermediate, root].map((c) => c.toString()).join(''));
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([`By=spoofed;Hash=00,second-copy,Hash=${sha256Hex(leaf)};Chain="${chain}"`]);
    });

    it('no certificate: removed', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([]);
    });
  });

  describe('envoy, always_forward_only, on one TLS configuration only (tls[].dialect)', () => {
    let t: TestEdge;
    before(async () => {
      const { pki } = await testPki();
      t = await startTestEdge({}, [
        'envoy: { forward_client_cert_details: always_forward_only }',
        'tls:',
        `  - { hosts: ["*"], cert: ${JSON.stringify(pki.server.chain)}, key: ${JSON.stringify(pki.server.key)}, trust: [${JSON.stringify(pki.rootCa.cert)}], dialect: envoy }`,
        '',
      ].join('\n'));
    });
    after(async () => t?.close());

    it('valid certificate: the client\'s XFCC copies pass, joined into one line where the first stood (Envoy\'s codec)', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal(['By=spoofed;Hash=00,second-copy']);
      expect(reply.echo!.headers.findIndex(([n]) => n.toLowerCase() === 'x-forwarded-client-cert') + 1).to.equal(reply.echo!.headers.findIndex(([n]) => n === 'Client-Cert'));
    });
  });

  describe('rfc9440', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: rfc9440\n');
    });
    after(async () => t?.close());

    it('valid certificate: Client-Cert is :base64(DER):, Client-Cert-Chain the chain after the leaf', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'Client-Cert')).to.deep.equal([`:${leaf.raw.toString('base64')}:`]);
      expect(received(reply, 'Client-Cert-Chain')).to.deep.equal([`:${intermediate.raw.toString('base64')}:, :${root.raw.toString('base64')}:`]);
      othersUntouched(reply, ['Client-Cert', 'Client-Cert-Chain']);
    });

    it('no certificate: both removed (§2.4)', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'Client-Cert')).to.deep.equal([]);
      expect(received(reply, 'Client-Cert-Chain')).to.deep.equal([]);
      othersUntouched(reply, ['Client-Cert', 'Client-Cert-Chain']);
    });
  });

  describe('nginx', () => {
    let t: TestEdge;
    const NGINX = ['X-SSL-Client-Cert', 'X-SSL-Client-Verify', 'X-SSL-Client-S-DN', 'X-SSL-Client-I-DN'];
    before(async () => {
      t = await startTestEdge({ ignoreErrors: '10' }, 'dialect: nginx\n');
    });
    after(async () => t?.close());

    it('valid certificate: escaped PEM, SUCCESS, RFC 2253 subject and issuer', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(NGINX.map((n) => received(reply, n))).to.deep.equal([
        [encodeURIComponent(leaf.toString())],
        ['SUCCESS'],
        [await rfc2253(leafFile, 'subject')],
        [await rfc2253(leafFile, 'issuer')],
      ]);
      othersUntouched(reply, NGINX);
    });

    it('expired certificate, error 10 ignored: FAILED:certificate has expired', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: expired, headers: [['Host', 'localhost']] }));
      expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['FAILED:certificate has expired']);
      expect(received(reply, 'X-SSL-Client-S-DN')).to.deep.equal([await rfc2253(expiredFile, 'subject')]);
    });

    it('no certificate: X-SSL-Client-Verify: NONE and none of the others, forged ones gone', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] }));
      expect(NGINX.map((n) => received(reply, n))).to.deep.equal([[], ['NONE'], [], []]);
      othersUntouched(reply, NGINX);
    });
  });

  describe('traefik (untrusted)', () => {
    let t: TestEdge;
    const TRAEFIK = ['X-Forwarded-Tls-Client-Cert', 'X-Forwarded-Tls-Client-Cert-Info'];
    before(async () => {
      t = await startTestEdge({}, 'dialect: traefik\n');
    });
    after(async () => t?.close());

    it('valid certificate: the DER in base64 (leaf, intermediate) and the query-escaped info', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Tls-Client-Cert')).to.deep.equal([`${leaf.raw.toString('base64')},${intermediate.raw.toString('base64')}`]);
      const [info] = received(reply, 'X-Forwarded-Tls-Client-Cert-Info');
      const text = decodeURIComponent(info!.replace(/\+/g, ' '));
      const nb = Math.floor(Date.parse(leaf.validFrom) / 1000);
      expect(text).to.match(new RegExp(`^Subject="[^"]*CN=[^"]+";Issuer="[^"]*CN=mtls-edge Dev Intermediate CA";SerialNumber="${BigInt('0x' + leaf.serialNumber)}";NB="${nb}";NA="\\d+"`));
      expect(text).to.include(',Subject="C=DE,O=mtls-edge dev,CN=mtls-edge Dev Intermediate CA";Issuer="C=DE,O=mtls-edge dev,CN=mtls-edge Dev Root CA"');
      expect(info).to.not.match(/[ ",;=]/);
      othersUntouched(reply, TRAEFIK);
    });

    it('no certificate: both removed, also spelled with "_" (Traefik\'s forwardedHeaders strips those too)', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED, ['X_Forwarded_Tls_Client_Cert', 'underscored']] }));
      expect(TRAEFIK.map((n) => received(reply, n))).to.deep.equal([[], []]);
      expect(received(reply, 'X_Forwarded_Tls_Client_Cert')).to.deep.equal([]);
      othersUntouched(reply, TRAEFIK);
    });
  });

  describe('the lesson listener speaks cf whatever the dialect (its lessons are about the cf modes)', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: envoy\n');
    });
    after(async () => t?.close());

    it('a lesson connection under sanitize_set gets the ten headers, not Envoy\'s XFCC', async () => {
      const { pki } = await testPki();
      const listener = await t.edge.openLessonListener('sanitize_set');
      try {
        const headers = await new Promise<[string, string][]>((resolve, reject) => {
          const req = https.request({ host: '127.0.0.1', port: listener.port, servername: 'localhost', ca: readFileSync(pki.rootCa.cert), cert: valid.cert, key: valid.key, agent: false, headers: { host: 'localhost' } });
          const timer = setTimeout(() => req.destroy(new Error('lesson request timed out after 10 s')), 10_000);
          req.on('socket', (s) => s.once('connect', () => listener.admit(s.localPort!)));
          req.on('response', (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              clearTimeout(timer);
              resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { headers: [string, string][] }).headers);
            });
          });
          req.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
          req.end();
        });
        const xfcc = headers.filter(([n]) => n.toLowerCase() === 'x-forwarded-client-cert').map(([, v]) => v);
        expect(xfcc).to.deep.equal([leaf.raw.toString('base64')]);
        expect(headers.some(([n]) => n.toLowerCase() === 'x-ssl-client-verify')).to.equal(true);
      } finally {
        listener.close();
      }
    });
  });

  describe('traefik, insecure, info only', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: traefik\ntraefik: { forwarded_headers: insecure, pem: false }\n');
    });
    after(async () => t?.close());

    it('no certificate: the client\'s copies pass as sent', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { headers: [['Host', 'localhost'], ...FORGED] }));
      othersUntouched(reply, []);
    });

    it('valid certificate: only the info header is replaced; the client\'s X-Forwarded-Tls-Client-Cert passes (Header.Set touches only what it sets)', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Tls-Client-Cert')).to.deep.equal(['spoofed']);
      const info = received(reply, 'X-Forwarded-Tls-Client-Cert-Info');
      expect(info).to.have.lengthOf(1);
      expect(decodeURIComponent(info[0]!.replace(/\+/g, ' '))).to.match(/^Subject="/);
    });
  });

  describe('cf stays the default', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({}, 'dialect: cf\n');
    });
    after(async () => t?.close());

    it('valid certificate: the ten headers as before, the other dialects\' names untouched', async () => {
      const reply = ok(await httpsRequest(t.httpsPort, { identity: valid, headers: [['Host', 'localhost'], ...FORGED] }));
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([leaf.raw.toString('base64')]);
      expect(received(reply, 'Client-Cert')).to.deep.equal([':c3Bvb2Y=:']);
      expect(received(reply, 'X-Forwarded-Tls-Client-Cert')).to.deep.equal(['spoofed']);
    });
  });
});
