// End to end, for every dialect: real TLS clients (Node https, and curl where it is installed) → the
// edge (real handshakes on loopback) with that dialect on its TLS configuration → a tiny app that uses
// requireClientCert({ dialect, allow }) and answers with what req.clientCert holds. The certificate
// the app reads must be the one the client presented; refusals come from the middleware with their
// status and reason. One table row per dialect; every row runs the same cases.
import { expect } from 'chai';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { requireClientCert, type Dialect, type RequestWithClientCert, type RequireClientCertOptions } from '../../src/app/index.js';
import { failurePaths } from '../../src/pki/failures.js';
import { clientIdentity, httpRequest, httpsRequest, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

const run = promisify(execFile);

const DEV_ROOT = '/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA';
const DEV_INTERMEDIATE = '/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA';
const DEV_CLIENT = '/C=DE/O=mtls-edge dev/OU=clients/CN=dev-client';

/**
 * The app's allow-list, the same for every dialect. `expired` is on it so that the ignored-error
 * case shows what the dialect itself carries, not the allow-list; `notbefore-1999` (verified, same
 * issuer) is not, and is the certificate refused by the allow-list.
 */
const ALLOW: RequireClientCertOptions['allow'] = { issuers: ['CN=mtls-edge Dev Intermediate CA,O=mtls-edge dev,C=DE'], commonNames: ['dev-client', 'expired'] };

interface DialectCase {
  readonly dialect: Dialect;
  /**
   * Headers a client without a certificate sends to pass as the dev client, in this dialect's own
   * names and encodings: each set reads as verified if it reaches the app (the plain-HTTP case shows it).
   */
  readonly forge: (stolen: X509Certificate) => [string, string][];
  /** The root DN the app reads for the dev client (what this dialect forwards of the chain). */
  readonly root: string | null;
  /**
   * The middleware's 403 reason for the expired certificate whose error 10 the edge ignored; null when
   * the dialect carries no verify result (basis 'presence'), so that certificate passes.
   */
  readonly ignoredErrorReason: string | null;
}

const DIALECT_CASES: readonly DialectCase[] = [
  {
    dialect: 'cf',
    forge: (c) => [['X-SSL-Client', '1'], ['X-SSL-Client-Verify', '0'], ['X-Forwarded-Client-Cert', c.raw.toString('base64')], ['X-SSL-Client-Root-CA-DN', Buffer.from(DEV_ROOT).toString('base64')]],
    root: DEV_ROOT,
    // X-SSL-Client-Verify carries the code the edge ignored.
    ignoredErrorReason: 'the client certificate is not verified: verify error 10 (certificate has expired), ignored by the edge',
  },
  {
    dialect: 'envoy',
    forge: (c) => [['X-Forwarded-Client-Cert', `Hash=${createHash('sha256').update(c.raw).digest('hex')};Cert="${encodeURIComponent(c.toString())}"`]],
    // Default set_current_client_cert_details: Cert without Chain, so the app sees no root.
    root: null,
    // XFCC has no verify outcome: Envoy writes it for every certificate the handshake accepted, and
    // the edge likewise for one whose error it ignored. The app cannot tell (basis 'presence'); an edge
    // in front of such an app must not ignore errors.
    ignoredErrorReason: null,
  },
  {
    dialect: 'rfc9440',
    forge: (c) => [['Client-Cert', `:${c.raw.toString('base64')}:`]],
    // Client-Cert-Chain: the intermediate, then the trust root.
    root: DEV_ROOT,
    // RFC 9440 §2: the headers carry the certificate only, no verify outcome; same as envoy.
    ignoredErrorReason: null,
  },
  {
    dialect: 'nginx',
    forge: (c) => [['X-SSL-Client-Cert', encodeURIComponent(c.toString())], ['X-SSL-Client-Verify', 'SUCCESS']],
    // nginx has no variable for the chain.
    root: null,
    // $ssl_client_verify is FAILED:reason.
    ignoredErrorReason: 'the client certificate is not verified: verification failed: certificate has expired',
  },
  {
    dialect: 'traefik',
    forge: (c) => [['X-Forwarded-Tls-Client-Cert', c.raw.toString('base64')]],
    // The chain without its self-signed root (what a client sends), so its last certificate is the intermediate.
    root: DEV_INTERMEDIATE,
    // passTLSClientCert forwards certificates, no verify outcome; same as envoy.
    ignoredErrorReason: null,
  },
];

interface AppView {
  readonly status: string;
  readonly basis?: string;
  readonly fingerprint256?: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly root?: string | null;
}

/** An app behind the edge: the middleware, then a handler that reports what it attached. */
async function startApp(options: RequireClientCertOptions): Promise<LoopbackServer> {
  const guard = requireClientCert(options);
  const server = http.createServer((req, res) => {
    guard(req, res, (err) => {
      if (err) {
        res.writeHead(500).end();
        return;
      }
      const r = (req as RequestWithClientCert).clientCert;
      const view: AppView =
        r.status === 'verified'
          ? { status: r.status, basis: r.basis, fingerprint256: r.certificate.leaf.fingerprint256, subject: r.certificate.subject, issuer: r.certificate.issuer, root: r.certificate.root }
          : { status: r.status };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view));
    });
  });
  return listenOnLoopback(server);
}

/** The edge with one TLS configuration (the dev PKI) speaking `dialect`, error 10 ignored. */
async function startDialectEdge(dialect: Dialect, upstreamPort: number): Promise<TestEdge> {
  const { pki } = await testPki();
  const q = JSON.stringify;
  return startTestEdge({ upstream: `http://127.0.0.1:${upstreamPort}` }, [
    'tls:',
    `  - { cert: ${q(pki.server.chain)}, key: ${q(pki.server.key)}, trust: [${q(pki.rootCa.cert)}], ignore_errors: "10", dialect: ${dialect} }`,
    '',
  ].join('\n'));
}

let curlChecked: Promise<boolean> | null = null;
/** True when a curl binary runs here; the curl cases skip without one. */
function curlPresent(): Promise<boolean> {
  curlChecked ??= run('curl', ['--version'], { timeout: 10_000 }).then(() => true, () => false);
  return curlChecked;
}

/** One request with real curl: status and body. */
async function curlRequest(port: number, opts: { identity?: { chain: string; key: string }; headers?: [string, string][] } = {}): Promise<{ status: number; body: string }> {
  const { pki } = await testPki();
  const args = ['-sS', '--max-time', '10', '--cacert', pki.rootCa.cert, '--resolve', `localhost:${port}:127.0.0.1`, '-w', '\n%{http_code}'];
  if (opts.identity) args.push('--cert', opts.identity.chain, '--key', opts.identity.key);
  for (const [name, value] of opts.headers ?? []) args.push('-H', `${name}: ${value}`);
  args.push(`https://localhost:${port}/`);
  const { stdout } = await run('curl', args, { timeout: 15_000, encoding: 'utf8' });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const view = (reply: { status: number; body: string }): AppView => {
  expect(reply.status, reply.body).to.equal(200);
  return JSON.parse(reply.body) as AppView;
};

describe('app reader: requireClientCert behind the edge, every dialect (real TLS)', function () {
  this.timeout(60_000);
  let devClient: X509Certificate;
  let expiredLeaf: X509Certificate;
  let valid: ClientIdentity;
  let expired: ClientIdentity;
  let notOnList: ClientIdentity;

  before(async () => {
    const { dir, pki } = await testPki();
    devClient = new X509Certificate(readFileSync(pki.client.cert));
    expiredLeaf = new X509Certificate(readFileSync(failurePaths(dir, 'expired').cert));
    valid = await clientIdentity('valid');
    expired = await clientIdentity('expired');
    notOnList = await clientIdentity('notbefore-1999');
  });

  for (const c of DIALECT_CASES) {
    describe(c.dialect, () => {
      let app: LoopbackServer | undefined;
      let edge: TestEdge | undefined;
      let forged: [string, string][];
      before(async () => {
        app = await startApp({ dialect: c.dialect, allow: ALLOW });
        edge = await startDialectEdge(c.dialect, app.port);
        forged = c.forge(devClient);
      });
      after(async () => {
        await edge?.close();
        await app?.close();
      });
      const port = (): number => edge!.httpsPort;
      const devClientView: AppView = { status: 'verified', basis: c.ignoredErrorReason === null ? 'presence' : 'verify-result', subject: DEV_CLIENT, issuer: DEV_INTERMEDIATE, root: c.root };

      it('the dev client passes, and the app reads exactly the certificate it presented (Node https)', async () => {
        const reply = await httpsRequest(port(), { identity: valid });
        expect(view(reply)).to.deep.equal({ ...devClientView, fingerprint256: devClient.fingerprint256 });
      });

      it('the same with curl', async function () {
        if (!(await curlPresent())) this.skip();
        const { pki } = await testPki();
        const reply = await curlRequest(port(), { identity: pki.client });
        expect(view(reply)).to.deep.equal({ ...devClientView, fingerprint256: devClient.fingerprint256 });
      });

      it('401 without a certificate, also with this dialect\'s headers forged (the edge removes them)', async () => {
        const none = await httpsRequest(port());
        expect([none.status, none.body]).to.deep.equal([401, 'a client certificate is required\n']);
        const withForged = await httpsRequest(port(), { headers: [['Host', 'localhost'], ...forged] });
        expect([withForged.status, withForged.body]).to.deep.equal([401, 'a client certificate is required\n']);
      });

      it('401 with the headers forged from curl', async function () {
        if (!(await curlPresent())) this.skip();
        const reply = await curlRequest(port(), { headers: forged });
        expect([reply.status, reply.body]).to.deep.equal([401, 'a client certificate is required\n']);
      });

      it('the plain-HTTP listener applies no dialect and forwards the forged headers as sent: why the app must only be reachable through the HTTPS listener', async () => {
        const reply = await httpRequest(edge!.httpPort, { headers: [['Host', 'localhost'], ...forged] });
        expect(view(reply)).to.include({ status: 'verified', fingerprint256: devClient.fingerprint256 });
      });

      it('403 for a verified certificate that is not on the allow-list', async () => {
        const reply = await httpsRequest(port(), { identity: notOnList });
        expect([reply.status, reply.body]).to.deep.equal([403, 'the client certificate common name is not allowed\n']);
      });

      const reason = c.ignoredErrorReason;
      if (reason === null) {
        it('a certificate whose verify error the edge ignored passes: the dialect carries no verify result', async () => {
          const reply = await httpsRequest(port(), { identity: expired });
          expect(view(reply)).to.include({ status: 'verified', basis: 'presence', fingerprint256: expiredLeaf.fingerprint256 });
        });
      } else {
        it('403 for a certificate whose verify error the edge ignored, with the reason', async () => {
          const reply = await httpsRequest(port(), { identity: expired });
          expect([reply.status, reply.body]).to.deep.equal([403, `${reason}\n`]);
        });
      }
    });
  }
});
