// forwarded_client_cert modes through a real edge: every mode × client auth on/off × {no cert,
// valid cert, cert with an ignored error} × {spoofed H10, spoofed H10 + route-service signature,
// nothing spoofed}, on the HTTPS listener, and the plain listener where everything passes through.
// The expected header list is derived from the docs/edge-behaviour.md §4 table typed out below.
import { expect } from 'chai';
import { clientIdentity, httpRequest, httpsRequest, startTestEdge, testPki, type ClientIdentity, type EchoReply, type TestEdge } from '../support/edgeHarness.js';
import { failurePaths } from '../../src/pki/failures.js';
import { MODE_TABLE } from '../../src/headers/modeTable.js';
import { diffPairs, expectedH10, isH10 } from './h10Expect.js';

type Del = 'never' | 'always' | 'when_no_cert_used' | 'unless_signature';
type Mode = 'always_forward_only' | 'forward_only' | 'sanitize_set' | 'forward_only_if_route_service';

// docs/edge-behaviour.md §4, the mode table (same rows as MODE_TABLE).
// prettier-ignore
const SPEC_MODE_TABLE: readonly { mode: Mode; clientAuth: boolean | '*'; del: Del; set: boolean }[] = [
  { mode: 'always_forward_only',           clientAuth: '*',   del: 'never',             set: false },
  { mode: 'forward_only',                  clientAuth: false, del: 'always',            set: false },
  { mode: 'forward_only',                  clientAuth: true,  del: 'when_no_cert_used', set: false },
  { mode: 'sanitize_set',                  clientAuth: false, del: 'always',            set: false },
  { mode: 'sanitize_set',                  clientAuth: true,  del: 'always',            set: true  },
  { mode: 'forward_only_if_route_service', clientAuth: false, del: 'unless_signature',  set: false },
  { mode: 'forward_only_if_route_service', clientAuth: true,  del: 'unless_signature',  set: true  },
];

const MODES: readonly Mode[] = ['always_forward_only', 'forward_only', 'sanitize_set', 'forward_only_if_route_service'];
/** Mode names are case-insensitive (docs/edge-behaviour.md §4): one spelling per mode, some not lower-case. */
const SPELLING: Record<Mode, string> = {
  always_forward_only: 'always_forward_only',
  forward_only: 'Forward_Only',
  sanitize_set: 'SANITIZE_SET',
  forward_only_if_route_service: 'forward_only_if_route_service',
};

type CertCase = 'none' | 'valid' | 'expired-ignored';
const CERT_CASES: readonly CertCase[] = ['none', 'valid', 'expired-ignored'];

type Pair = [string, string];
// All ten, mixed case, with duplicates, between headers that must stay where they are.
const SPOOFED_H10: Pair[] = [
  ['x-forwarded-client-cert', 'c3Bvb2ZlZA=='],
  ['X-SSL-CLIENT', '1'],
  ['x-ssl-client-session-id', 'DEADBEEF'],
  ['X-Ssl-Client-Verify', '0'],
  ['X-SSL-Client-NotBefore', '000101000000Z'],
  ['x-ssl-client-notafter', '991231235959Z'],
  ['X-SSL-CLIENT-SUBJECT-DN', 'L0NOPWFkbWlu'],
  ['X-SSL-Client-Subject-CN', 'YWRtaW4='],
  ['x-SSL-client-issuer-dn', 'L0NOPWV2aWw='],
  ['X-SSL-Client-Root-CA-DN', 'L0NOPWV2aWwgcm9vdA=='],
  ['X-Forwarded-Client-Cert', 'second-copy'],
  ['X-SSL-Client-Verify', '0'],
];
// Look-alikes that are not among the ten: they must pass untouched, in place.
const LOOKALIKES: Pair[] = [
  ['X-SSL-Client-Cert', 'not-one-of-the-ten'],
  ['X-SSL-Client-Issuer-CN', 'also-not'],
];

interface SpoofCase {
  readonly name: string;
  readonly headers: Pair[];
  readonly signature: boolean;
}
const SPOOF_CASES: readonly SpoofCase[] = [
  {
    name: 'all ten spoofed (mixed case, duplicates)',
    signature: false,
    headers: [['Host', 'localhost'], ['X-Before', 'b'], ...SPOOFED_H10.slice(0, 6), ...LOOKALIKES, ...SPOOFED_H10.slice(6), ['X-Forwarded-For', '203.0.113.7'], ['X-After', 'a']],
  },
  {
    name: 'all ten spoofed + empty X-Cf-Proxy-Signature + client X-Forwarded-Proto',
    signature: true,
    headers: [['Host', 'localhost'], ['X-Before', 'b'], ['X-Cf-Proxy-Signature', ''], ...SPOOFED_H10, ...LOOKALIKES, ['X-Forwarded-Proto', 'from-client'], ['X-After', 'a']],
  },
  {
    name: 'nothing spoofed',
    signature: false,
    headers: [['Host', 'localhost'], ['X-Before', 'b'], ...LOOKALIKES, ['X-After', 'a']],
  },
];

function specRow(mode: Mode, clientAuth: boolean): { del: Del; set: boolean } {
  const row = SPEC_MODE_TABLE.find((r) => r.mode === mode && (r.clientAuth === '*' || r.clientAuth === clientAuth));
  if (!row) throw new Error(`no spec row for ${mode}/${clientAuth}`);
  return row;
}

/** What the upstream must see after the edge's own `host`/`connection` lines. */
function expectedUpstream(sent: Pair[], row: { del: Del; set: boolean }, certUsed: boolean, signature: boolean, setValues: [string, string | RegExp][] | null): [string, string | RegExp][] {
  const deleting = row.del === 'always' || (row.del === 'when_no_cert_used' && !certUsed) || (row.del === 'unless_signature' && !signature);
  const setting = row.set && certUsed;
  const out: [string, string | RegExp][] = sent.filter(([n]) => n.toLowerCase() !== 'host').filter(([n]) => !((deleting || setting) && isH10(n)));
  if (setting) out.push(...setValues!);
  if (!sent.some(([n]) => n.toLowerCase() === 'x-forwarded-proto')) out.push(['X-Forwarded-Proto', 'https']);
  out.push(['X-Forwarded-For', '127.0.0.1']);
  return out;
}

/** The upstream's header list without the hop's own `host` and `connection` lines. */
function upstreamLines(reply: EchoReply): Pair[] {
  expect(reply.status, reply.body).to.equal(200);
  expect(reply.echo, 'the echo upstream answered').to.not.equal(null);
  return reply.echo!.headers.filter(([n]) => n.toLowerCase() !== 'host' && n.toLowerCase() !== 'connection');
}

describe('edge: forwarded_client_cert modes (docs/edge-behaviour.md §4), real handshakes', function () {
  this.timeout(60_000);
  let identities: Record<Exclude<CertCase, 'none'>, ClientIdentity>;
  let expectedSet: Record<Exclude<CertCase, 'none'>, [string, string | RegExp][]>;

  before(async () => {
    const { dir, pki } = await testPki();
    identities = { valid: await clientIdentity('valid'), 'expired-ignored': await clientIdentity('expired') };
    expectedSet = {
      valid: expectedH10(pki.client.cert, 0, pki.rootCa.cert),
      'expired-ignored': expectedH10(failurePaths(dir, 'expired').cert, 10, pki.rootCa.cert),
    };
  });

  it('the spec table written here has the same rows as src/headers/modeTable.ts', () => {
    expect(MODE_TABLE.map((r) => ({ mode: r.mode, clientAuth: r.clientAuth, del: r.delete, set: r.set }))).to.deep.equal(SPEC_MODE_TABLE);
  });

  for (const mode of MODES) {
    for (const clientAuth of [true, false]) {
      describe(`${SPELLING[mode]}, client auth ${clientAuth ? 'optional' : 'disabled'}`, () => {
        let t: TestEdge;
        before(async () => {
          t = await startTestEdge({ forwardedClientCert: SPELLING[mode], clientAuth: clientAuth ? 'optional' : 'disabled', ignoreErrors: '10' });
        });
        after(async () => t?.close());

        for (const cert of CERT_CASES) {
          for (const spoof of SPOOF_CASES) {
            it(`HTTPS, cert ${cert}, ${spoof.name}`, async () => {
              const row = specRow(mode, clientAuth);
              // With client auth off the server asks for no certificate, so none is used.
              const certUsed = clientAuth && cert !== 'none';
              const reply = await httpsRequest(t.httpsPort, { identity: cert === 'none' ? undefined : identities[cert], headers: spoof.headers });
              const expected = expectedUpstream(spoof.headers, row, certUsed, spoof.signature, certUsed ? expectedSet[cert as Exclude<CertCase, 'none'>] : null);
              const diff = diffPairs(upstreamLines(reply), expected);
              expect(diff, diff ?? '').to.equal(null);
            });
          }
        }

        for (const spoof of SPOOF_CASES) {
          it(`plain HTTP listener passes everything through: ${spoof.name}`, async () => {
            const reply = await httpRequest(t.httpPort, { headers: spoof.headers });
            const expected: [string, string][] = spoof.headers.filter(([n]) => n.toLowerCase() !== 'host');
            if (!spoof.headers.some(([n]) => n.toLowerCase() === 'x-forwarded-proto')) expected.push(['X-Forwarded-Proto', 'http']);
            expected.push(['X-Forwarded-For', '127.0.0.1']);
            const diff = diffPairs(upstreamLines(reply), expected);
            expect(diff, diff ?? '').to.equal(null);
          });
        }
      });
    }
  }
});
