// Issue "Unfoolable" item 3: an ignore list must cover EVERY error OpenSSL meets, at its depth, not
// only the last one Node reports. Real handshakes with certificates carrying two defects at once.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { buildDefectPki, type DefectPki, type DefectScenario } from '../support/defectScenarios.js';
import { httpsRequest, received, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';

interface Row {
  readonly scenario: string;
  /** ignore_errors (depth 0, and depth > 0 unless ca is given). */
  readonly crt: string;
  /** ca_ignore_errors, when the CA list differs. */
  readonly ca?: string;
  readonly crl?: boolean;
  /** X-SSL-Client-Verify when accepted; null = refused. */
  readonly verify: number | null;
}

const ROWS: readonly Row[] = [
  // The forged subject of a certificate whose signature does not verify must never pass under [10].
  { scenario: 'bad-signature-expired', crt: '10', verify: null },
  { scenario: 'bad-signature-expired', crt: '7', verify: null },
  { scenario: 'bad-signature-expired', crt: '7,10', verify: 10 },
  { scenario: 'revoked-expired', crt: '10', crl: true, verify: null },
  { scenario: 'revoked-expired', crt: '23', crl: true, verify: null },
  { scenario: 'revoked-expired', crt: '10,23', crl: true, verify: 10 },
  { scenario: 'wrong-purpose-expired', crt: '10', verify: null },
  { scenario: 'wrong-purpose-expired', crt: '10,26', verify: 10 },
  { scenario: 'ca-without-ca-flag', crt: '79', verify: null },
  { scenario: 'ca-without-ca-flag', crt: '26', verify: null },
  { scenario: 'ca-without-ca-flag', crt: '79,26', verify: 26 },
  { scenario: 'ca-without-ca-flag', crt: '', ca: '79,26', verify: 26 },
  { scenario: 'ca-without-ca-flag', crt: '79,26', ca: '', verify: null },
  { scenario: 'untrusted-ca-expired', crt: '20,21', verify: null },
  { scenario: 'untrusted-ca-expired', crt: '10', verify: null },
  { scenario: 'untrusted-ca-expired', crt: '10,20,21', verify: 10 },
  { scenario: 'expired-intermediate', crt: '10', ca: '', verify: null },
  { scenario: 'expired-intermediate', crt: '', ca: '10', verify: 10 },
  { scenario: 'bad-signature-expired', crt: 'all', verify: 10 },
];

const yamlList = (v: string): string => (v === 'all' ? '"all"' : `[${v}]`);

async function edgeFor(pki: DefectPki, row: Row): Promise<TestEdge> {
  const { pki: dev } = await testPki();
  const lines = [
    'tls:',
    `  - cert: ${dev.server.chain}`,
    `    key: ${dev.server.key}`,
    '    client_auth: optional',
    `    trust: [${pki.trustFile}]`,
    ...(row.crl ? [`    crl: [${pki.crlFiles.join(', ')}]`] : []),
    `    ignore_errors: ${yamlList(row.crt)}`,
    ...(row.ca !== undefined ? [`    ca_ignore_errors: ${yamlList(row.ca)}`] : []),
  ];
  return startTestEdge({}, `${lines.join('\n')}\n`);
}

describe('tls: an ignore list covers every verify error at its depth (multi-defect certificates)', function () {
  this.timeout(60_000);
  let pki: DefectPki;
  before(() => {
    pki = buildDefectPki();
  });
  after(() => pki?.remove());

  for (const row of ROWS) {
    const ca = row.ca !== undefined ? `, ca_ignore_errors [${row.ca}]` : '';
    it(`${row.scenario}${row.crl ? ' (CRLs on)' : ''} under ignore_errors [${row.crt}]${ca} → ${row.verify === null ? 'refused' : `accepted, X-SSL-Client-Verify ${row.verify}`}`, async () => {
      const s: DefectScenario = pki.scenarios.find((x) => x.name === row.scenario)!;
      const t = await edgeFor(pki, row);
      try {
        const identity = { cert: readFileSync(s.certFile), key: readFileSync(s.keyFile) };
        let reply: Awaited<ReturnType<typeof httpsRequest>> | null = null;
        try {
          reply = await httpsRequest(t.httpsPort, { identity });
        } catch {
          reply = null;
        }
        if (row.verify === null) {
          expect(reply, `accepted with status ${reply?.status}`).to.equal(null);
          const rejected = t.events.find((e) => e.kind === 'handshake-rejected');
          expect(rejected, 'a handshake-rejected event').to.not.equal(undefined);
        } else {
          expect(reply?.status).to.equal(200);
          expect(received(reply!, 'X-SSL-Client-Verify')).to.deep.equal([String(row.verify)]);
        }
      } finally {
        await t.close();
      }
    });
  }
});
