// Each case here once stopped the whole edge process (every client's connections died with it).
// The edge runs inside the mocha process, so a fault that escapes a boundary fails the run; each
// case also checks that the edge still serves the next ordinary client, and how it answered.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { issueCertificate } from '../../src/pki/issue.js';
import { generateKeyPem } from '../../src/pki/keys.js';
import { PRIVATE_MODE } from '../../src/pki/fsAtomic.js';
import { buildCertificate, certKeyFromPem, generateCertKey, privateKeyPem, signerOf } from '../../src/pki/certBuilder.js';
import { readClientCert } from '../../src/app/index.js';
import { clientIdentity, httpsRequest, received, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

/** A client identity with the given subject (`/` = empty), self-signed or signed by the dev intermediate. */
async function identityWithSubject(dir: string, name: string, subject: readonly (readonly (readonly [string, string])[])[], signed: boolean): Promise<ClientIdentity> {
  const { pki } = await testPki();
  const keyPath = join(dir, `${name}.key`);
  writeFileSync(keyPath, await generateKeyPem('ec-p256'), { mode: PRIVATE_MODE });
  const certPem = await issueCertificate({
    subject,
    keyPath,
    issuer: signed ? pki.intermediateCa : undefined,
    profile: signed ? 'client' : 'self-signed-client',
    validity: { days: 30 },
  });
  const chain = signed ? certPem + readFileSync(pki.intermediateCa.cert, 'latin1') : certPem;
  return { cert: Buffer.from(chain), key: readFileSync(keyPath) };
}

/** The edge still answers an ordinary client with a verified certificate. */
async function stillServes(edge: TestEdge): Promise<void> {
  const reply = await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') });
  expect(reply.status).to.equal(200);
  expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
}

/** Connects, optionally presenting `identity`; resolves with the HTTP status or the TLS/socket error. */
function oneRequest(port: number, identity: ClientIdentity | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, cert: identity?.cert, key: identity?.key, maxVersion });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: 'timed out' });
    }, 5000);
    let data = '';
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      resolve({ error: e.code ?? e.message });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve(m ? { status: Number(m[1]), body: data } : { error: data === '' ? 'closed without a response' : 'no HTTP status' });
    });
  });
}

describe('hostile: inputs that once stopped the edge process', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-crashes-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('a certificate with an empty subject or an empty CN', () => {
    let edge: TestEdge;
    before(async () => {
      edge = await startTestEdge();
    });
    after(() => edge.close());

    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`self-signed, empty subject (${maxVersion}): refused as 18, the edge goes on`, async () => {
        const id = await identityWithSubject(dir, `self-empty-${maxVersion}`, [], false);
        const r = await oneRequest(edge.httpsPort, id, maxVersion);
        expect(r).to.have.property('error');
        const rejected = edge.events.filter((e) => e.kind === 'handshake-rejected').at(-1);
        expect(rejected).to.include({ kind: 'handshake-rejected' });
        expect(rejected?.kind === 'handshake-rejected' && rejected.verify?.code).to.equal(18);
        expect(rejected?.kind === 'handshake-rejected' && rejected.cert?.subject).to.equal('');
        await stillServes(edge);
      });
    }

    it('CA-signed, empty subject: accepted, the DN and CN headers are empty, as HAProxy sets them', async () => {
      const reply = await httpsRequest(edge.httpsPort, { identity: await identityWithSubject(dir, 'ca-empty', [], true) });
      expect(reply.status).to.equal(200);
      expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
      expect(received(reply, 'X-SSL-Client-Subject-DN')).to.deep.equal(['']);
      expect(received(reply, 'X-SSL-Client-Subject-CN')).to.deep.equal(['']);
      expect(received(reply, 'X-SSL-Client-Issuer-DN')).to.have.length(1);
      await stillServes(edge);
    });

    it('CA-signed, `-subj "/O=acme/CN="` (openssl leaves the empty CN out): accepted, the CN header is empty', async () => {
      const reply = await httpsRequest(edge.httpsPort, { identity: await identityWithSubject(dir, 'ca-empty-cn', [[['O', 'acme']], [['CN', '']]], true) });
      expect(reply.status).to.equal(200);
      expect(received(reply, 'X-SSL-Client-Subject-CN')).to.deep.equal(['']);
      expect(received(reply, 'X-SSL-Client-Subject-DN')).to.deep.equal([b64('/O=acme')]);
      await stillServes(edge);
    });

    it('CA-signed, an attribute OID of 600+ bytes (OpenSSL will not translate it): accepted, the DN and CN headers are empty, the reader says unreadable', async () => {
      const { pki } = await testPki();
      const interPem = readFileSync(pki.intermediateCa.cert, 'utf8');
      const key = await generateCertKey('ec-p256');
      const now = Date.now();
      const c = buildCertificate({
        subject: [[{ oid: `1.2.${'9'.repeat(1500)}`, stringType: 'utf8', value: 'x' }], [{ oid: '2.5.4.3', stringType: 'utf8', value: 'long-oid' }]],
        subjectKey: key, signer: signerOf(interPem, certKeyFromPem(readFileSync(pki.intermediateCa.key))),
        notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), extensions: [{ kind: 'extKeyUsage', purposes: ['1.3.6.1.5.5.7.3.2'] }],
      });
      const reply = await httpsRequest(edge.httpsPort, { identity: { cert: Buffer.from(c.pem + interPem), key: Buffer.from(privateKeyPem(key)) } });
      expect(reply.status).to.equal(200);
      expect(received(reply, 'X-SSL-Client-Subject-DN')).to.deep.equal(['']);
      expect(received(reply, 'X-SSL-Client-Subject-CN')).to.deep.equal(['']);
      expect(readClientCert(reply.echo!.headers.flat())).to.deep.include({ status: 'unreadable' });
      await stillServes(edge);
    });
  });

  describe('TLS 1.2 renegotiation', () => {
    let edge: TestEdge;
    before(async () => {
      edge = await startTestEdge();
    });
    after(() => edge.close());

    it('is refused (no_renegotiation): the connection keeps the certificate of its one handshake', async () => {
      const id = await clientIdentity('valid');
      const socket = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'localhost', rejectUnauthorized: false, cert: id.cert, key: id.key, maxVersion: 'TLSv1.2' });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve);
          socket.once('error', reject);
        });
        // Read what the edge sends: the refusal arrives as an alert on the socket, not through the callback.
        socket.resume();
        const renegotiated = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('neither completed nor failed within 5 s'), 5000);
          const done = (what: string): void => {
            clearTimeout(timer);
            resolve(what);
          };
          socket.on('error', (e) => done(`error: ${e.message}`));
          socket.once('close', () => done('connection closed'));
          const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => done(err ? `error: ${err.message}` : 'completed'));
          if (!started) done('refused locally');
        });
        // HAProxy's outcome: the no_renegotiation alert reaches the client (not just a closed connection).
        expect(renegotiated).to.match(/no renegotiation/);
      } finally {
        socket.destroy();
      }
      await stillServes(edge);
    });
  });

  describe('the plain-HTTP port: a body the app does not read', () => {
    let edge: TestEdge;
    let app: http.Server;
    before(async () => {
      // The app answers 401 at once and never reads the 200 KB body (Node's server drains it
      // afterwards; an app that also closes makes the kernel reset the hop, which is a 502).
      app = http.createServer((_req, res) => {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('no');
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      const port = (app.address() as AddressInfo).port;
      edge = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`);
    });
    after(async () => {
      await edge.close();
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    });

    it('20 POSTs of 200 KB, each answered 401 before its body is read: every one answered, the edge goes on', async () => {
      const body = Buffer.alloc(200 * 1024, 0x61);
      const statuses: (number | string)[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push(
          await new Promise<number | string>((resolve) => {
            const s = net.connect(edge.httpPort, '127.0.0.1');
            const timer = setTimeout(() => {
              s.destroy();
              resolve('timed out');
            }, 5000);
            let data = '';
            s.on('connect', () => {
              s.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`);
              s.write(body);
            });
            s.on('data', (c: Buffer) => {
              data += c.toString('latin1');
              // Answered: the rest of the connection (keep-alive, the unread body) is not the point.
              if (data.includes('\r\n\r\n')) s.destroy();
            });
            s.on('error', () => undefined);
            s.on('close', () => {
              clearTimeout(timer);
              resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) || 'no response');
            });
          }),
        );
      }
      expect(statuses.filter((s) => s === 401), statuses.join(',')).to.have.length(20);
      // Give a late fault (a request event built after the socket went away) time to surface.
      await new Promise((r) => setTimeout(r, 200));
      const faults = edge.events.filter((e) => e.kind === 'connection-error');
      expect(faults, JSON.stringify(faults)).to.deep.equal([]);
      const reply = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: edge.httpPort, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(reply).to.equal(401);
    });
  });
});
