// docs/edge-behaviour.md §3 verify outcomes with the failure family, on real handshakes: a refused certificate never
// reaches the upstream (and is reported with code, name and alert), an ignored one is forwarded with
// its code in X-SSL-Client-Verify; CRLs; client_auth required / disabled; curl and openssl s_client.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { HandshakeRejectedEvent } from '../../src/observe/events.js';
import type { FailureKind } from '../../src/pki/failures.js';
import { failurePaths } from '../../src/pki/failures.js';
import { clientIdentity, eventually, httpsRequest, received, startTestEdge, testCrls, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';

const run = promisify(execFile);

interface Outcome {
  readonly kind: FailureKind;
  /** X-SSL-Client-Verify when ignored. */
  readonly code: number;
  /** Every code that must be ignored for the certificate to pass. */
  readonly ignore: readonly number[];
  readonly alert: string;
}

// docs/edge-behaviour.md §3 "Verify outcomes" (without CRLs; revocation below).
const OUTCOMES: readonly Outcome[] = [
  { kind: 'untrusted-ca', code: 21, ignore: [20, 21], alert: 'unknown_ca' },
  { kind: 'missing-intermediate', code: 21, ignore: [20, 21], alert: 'unknown_ca' },
  { kind: 'self-signed', code: 18, ignore: [18], alert: 'unknown_ca' },
  { kind: 'untrusted-root-in-chain', code: 19, ignore: [19], alert: 'unknown_ca' },
  { kind: 'expired', code: 10, ignore: [10], alert: 'certificate_expired' },
  { kind: 'not-yet-valid', code: 9, ignore: [9], alert: 'bad_certificate' },
  { kind: 'server-auth-only', code: 26, ignore: [26], alert: 'unsupported_certificate' },
];

const rejections = (t: TestEdge): HandshakeRejectedEvent[] => t.events.filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected');
const requests = (t: TestEdge): number => t.events.filter((e) => e.kind === 'request').length;

/** The request must fail below HTTP, reach no upstream, and leave one handshake-rejected event. */
async function expectRejected(t: TestEdge, identity: ClientIdentity | undefined, opts: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ error: Error & { code?: string }; event: HandshakeRejectedEvent }> {
  const before = rejections(t).length;
  const requestsBefore = requests(t);
  let error: (Error & { code?: string }) | null = null;
  try {
    const reply = await httpsRequest(t.httpsPort, { identity, maxVersion: opts.maxVersion });
    expect.fail(`expected a TLS/connection failure, got HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
  } catch (e) {
    if ((e as Error).name === 'AssertionError') throw e;
    error = e as Error & { code?: string };
  }
  await eventually(() => rejections(t).length > before);
  expect(requests(t), 'no request reached the HTTP side').to.equal(requestsBefore);
  return { error: error!, event: rejections(t)[before]! };
}

// Both ways into a handshake (src/tls/tlsFront.ts): one TLS configuration starts TLS at once; with
// strict SNI the front peeks the ClientHello first. The outcomes must not depend on the path.
const FRONT_PATHS = [
  { name: 'no SNI peek', overrides: {} },
  { name: 'strict SNI, ClientHello peeked', overrides: { strictSni: true } },
] as const;

for (const front of FRONT_PATHS) describe(`edge: verify outcomes (docs/edge-behaviour.md §3) with the failure family (${front.name})`, function () {
  this.timeout(60_000);
  let valid: ClientIdentity;
  before(async () => {
    valid = await clientIdentity('valid');
  });

  describe('not ignored: the handshake is refused', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({ ...front.overrides });
    });
    after(async () => t?.close());

    for (const o of OUTCOMES) {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        it(`${o.kind} (${version}) → no HTTP response, rejection ${o.code} / ${o.alert}`, async () => {
          const { event } = await expectRejected(t, await clientIdentity(o.kind), { maxVersion: version });
          expect(event.verify?.code).to.equal(o.code);
          expect(event.verify?.name).to.match(/^X509_V_ERR_/);
          expect(event.verify?.hint).to.be.a('string').and.not.equal('');
          expect(event.alert).to.equal(o.alert);
          expect(event.cert?.subjectCN).to.equal(o.kind);
        });
      }
    }

    it('the edge still serves a valid certificate afterwards', async () => {
      const reply = await httpsRequest(t.httpsPort, { identity: valid });
      expect(reply.status).to.equal(200);
      expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    });
  });

  describe('ignored: accepted, X-SSL-Client-Verify carries the code', () => {
    for (const o of OUTCOMES) {
      it(`${o.kind} with ignore_errors ${o.ignore.join(',')} → X-SSL-Client-Verify ${o.code}`, async () => {
        const t = await startTestEdge({ ...front.overrides, ignoreErrors: o.ignore.join(',') });
        try {
          const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity(o.kind) });
          expect(reply.status).to.equal(200);
          expect(received(reply, 'X-SSL-Client')).to.deep.equal(['1']);
          expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal([String(o.code)]);
        } finally {
          await t.close();
        }
      });
    }

    it('ignore_errors "all" accepts every failure kind', async () => {
      const t = await startTestEdge({ ...front.overrides, ignoreErrors: 'all' });
      try {
        for (const o of OUTCOMES) {
          const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity(o.kind) });
          expect(received(reply, 'X-SSL-Client-Verify'), o.kind).to.deep.equal([String(o.code)]);
        }
      } finally {
        await t.close();
      }
    });

    for (const partial of ['21', '20', '10,18,19']) {
      it(`untrusted CA with only ${partial} ignored is still refused (needs 20 AND 21)`, async () => {
        const t = await startTestEdge({ ...front.overrides, ignoreErrors: partial });
        try {
          for (const kind of ['untrusted-ca', 'missing-intermediate'] as const) {
            const { event } = await expectRejected(t, await clientIdentity(kind));
            expect(event.verify?.code, kind).to.be.oneOf([20, 21]);
            expect(event.alert).to.equal('unknown_ca');
          }
          expect((await httpsRequest(t.httpsPort, { identity: valid })).status).to.equal(200);
        } finally {
          await t.close();
        }
      });
    }

    it('ignoring one code does not accept another (expired ignored, not-yet-valid refused)', async () => {
      const t = await startTestEdge({ ...front.overrides, ignoreErrors: '10' });
      try {
        const { event } = await expectRejected(t, await clientIdentity('not-yet-valid'));
        expect(event.verify?.code).to.equal(9);
      } finally {
        await t.close();
      }
    });
  });

  describe('CRLs (CRL_CHECK + CRL_CHECK_ALL)', () => {
    it('no CRLs configured: the revoked certificate is accepted (0)', async () => {
      const t = await startTestEdge({ ...front.overrides });
      try {
        const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('revoked') });
        expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
      } finally {
        await t.close();
      }
    });

    it('CRLs for every CA: revoked → refused with 23 certificate_revoked; valid → 0', async () => {
      const crls = await testCrls();
      const t = await startTestEdge({ ...front.overrides, crl: [crls.all] });
      try {
        const { event } = await expectRejected(t, await clientIdentity('revoked'));
        expect(event.verify?.code).to.equal(23);
        expect(event.alert).to.equal('certificate_revoked');
        const ok = await httpsRequest(t.httpsPort, { identity: valid });
        expect(received(ok, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
      } finally {
        await t.close();
      }
    });

    it('CRLs for every CA as two files, 23 ignored → X-SSL-Client-Verify 23', async () => {
      const crls = await testCrls();
      const t = await startTestEdge({ ...front.overrides, crl: [crls.root, crls.intermediate], ignoreErrors: '23' });
      try {
        const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('revoked') });
        expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['23']);
      } finally {
        await t.close();
      }
    });

    for (const only of ['root', 'intermediate'] as const) {
      it(`CRL for the ${only} only → 3 (unable to get CRL), unknown_ca; ignored → 3`, async () => {
        const crls = await testCrls();
        const t = await startTestEdge({ ...front.overrides, crl: [crls[only]] });
        try {
          const { event } = await expectRejected(t, valid);
          expect(event.verify?.code).to.equal(3);
          expect(event.alert).to.equal('unknown_ca');
        } finally {
          await t.close();
        }
        const t2 = await startTestEdge({ ...front.overrides, crl: [crls[only]], ignoreErrors: '3' });
        try {
          const reply = await httpsRequest(t2.httpsPort, { identity: valid });
          expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['3']);
        } finally {
          await t2.close();
        }
      });
    }
  });

  describe('client_auth required', () => {
    let t: TestEdge;
    before(async () => {
      t = await startTestEdge({ ...front.overrides, clientAuth: 'required' });
    });
    after(async () => t?.close());

    it('TLS 1.3 without a certificate → alert certificate_required at the client', async () => {
      const { error, event } = await expectRejected(t, undefined, { maxVersion: 'TLSv1.3' });
      expect(`${error.code} ${error.message}`).to.match(/CERTIFICATE_REQUIRED|certificate required/i);
      expect(event.alert).to.equal('certificate_required');
      expect(event.verify).to.equal(null);
    });

    it('TLS 1.2 without a certificate → handshake failure at the client', async () => {
      const { error } = await expectRejected(t, undefined, { maxVersion: 'TLSv1.2' });
      expect(`${error.code} ${error.message}`).to.match(/HANDSHAKE_FAILURE|handshake failure/i);
    });

    it('with a valid certificate → 200 and the ten headers', async () => {
      const reply = await httpsRequest(t.httpsPort, { identity: valid });
      expect(reply.status).to.equal(200);
      expect(received(reply, 'X-SSL-Client')).to.deep.equal(['1']);
    });

    it('with a refused certificate → refused, not certificate_required', async () => {
      const { event } = await expectRejected(t, await clientIdentity('expired'));
      expect(event.verify?.code).to.equal(10);
    });
  });

  describe('client_auth optional: no certificate is fine', () => {
    it('no cert → 200 without the ten headers', async () => {
      const t = await startTestEdge({ ...front.overrides });
      try {
        const reply = await httpsRequest(t.httpsPort, {});
        expect(reply.status).to.equal(200);
        expect(received(reply, 'X-SSL-Client')).to.deep.equal([]);
      } finally {
        await t.close();
      }
    });
  });

  describe('CertificateRequest on the wire (openssl s_client)', () => {
    function sClient(port: number): Promise<string> {
      // stdin closed at once (as `</dev/null`): s_client exits right after the handshake.
      return new Promise((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost'], { timeout: 15_000, encoding: 'utf8' }, (_err, stdout, stderr) =>
          resolve(`${stdout}\n${stderr}`),
        );
        child.stdin?.end();
      });
    }

    it('client_auth disabled: no certificate requested at all', async () => {
      const t = await startTestEdge({ ...front.overrides, clientAuth: 'disabled' });
      try {
        const out = await sClient(t.httpsPort);
        expect(out).to.include('No client certificate CA names sent');
      } finally {
        await t.close();
      }
    });

    it('client_auth optional: the trust list CA names are sent', async () => {
      const t = await startTestEdge({ ...front.overrides });
      try {
        const out = await sClient(t.httpsPort);
        expect(out).to.not.include('No client certificate CA names sent');
        expect(out).to.match(/Acceptable client certificate CA names\s*\n.*CN\s*=\s*mtls-edge Dev Root CA/);
      } finally {
        await t.close();
      }
    });
  });

  it('real curl with --cacert --cert --key: 200 and the ten headers', async () => {
    const { pki } = await testPki();
    const t = await startTestEdge({ ...front.overrides });
    try {
      const r = await run(
        'curl',
        ['-sS', '--max-time', '10', '--cacert', pki.rootCa.cert, '--cert', pki.client.chain, '--key', pki.client.key, `https://localhost:${t.httpsPort}/via-curl`],
        { timeout: 15_000, encoding: 'utf8' },
      );
      const echo = JSON.parse(r.stdout) as { path: string; headers: [string, string][] };
      expect(echo.path).to.equal('/via-curl');
      const h = (n: string): string[] => echo.headers.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
      expect(h('X-SSL-Client')).to.deep.equal(['1']);
      expect(h('X-SSL-Client-Verify')).to.deep.equal(['0']);
      expect(h('X-SSL-Client-Session-ID')[0]).to.match(/^[0-9A-F]{64}$/);
    } finally {
      await t.close();
    }
  });

  it('curl with an expired certificate gets no HTTP response', async () => {
    const { dir, pki } = await testPki();
    const f = failurePaths(dir, 'expired');
    const t = await startTestEdge({ ...front.overrides });
    try {
      const r = await run('curl', ['-sS', '--max-time', '10', '--cacert', pki.rootCa.cert, '--cert', f.chain, '--key', f.key, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${t.httpsPort}/`], {
        timeout: 15_000,
        encoding: 'utf8',
      }).then(
        (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
      expect(r.code, r.stderr).to.not.equal(0);
      expect(r.stdout).to.equal('000');
      expect(requests(t)).to.equal(0);
    } finally {
      await t.close();
    }
  });
});
