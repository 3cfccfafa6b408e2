// Differential property: random client chains (1–4 certificates) with random sets of defects, under
// random crt/ca ignore lists, sent to real HAProxy and to mtls-edge. NO certificate may be accepted
// by mtls-edge that HAProxy refuses; when both accept, X-SSL-Client-Verify must be equal. The edge
// refusing what HAProxy accepts is counted and printed (it is safe, but should stay rare).
// Cases come from fast-check (seed printed); they are grouped by ignore setting so each group reuses
// one HAProxy and one edge. Bounded: MTLS_DIFF_CASES cases (default 800) and ~90 s of requests.
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { EKU_CLIENT, EKU_SERVER, forgeCert, forgeCrl, forgeKey, keyPem, KU, pem, type CertSpec, type ForgeKey } from '../support/certForge.js';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { haproxyVersion, writeServerPem, type RunningHaproxy } from './haproxy.js';
import { edgeYaml, haproxyBinaries, startHaproxyFor, verdictOf, type IgnoreSetting } from './ignoreParity.js';

const DAY = 86_400_000;
const CASES = Number(process.env.MTLS_DIFF_CASES ?? 800);
const BUDGET_MS = 90_000;

interface CertDefects {
  readonly time: 'ok' | 'expired' | 'not-yet-valid';
  readonly badSignature: boolean;
  readonly unknownCritical: boolean;
  /** Leaf: EKU serverAuth only; CA: EKU serverAuth. */
  readonly wrongEku: boolean;
  /** CA only: basicConstraints CA:FALSE. */
  readonly noCaFlag: boolean;
  /** CA only: pathLenConstraint 0. */
  readonly pathLenZero: boolean;
}

interface ChainCase {
  /** Number of CAs between leaf and root (0–3); with `fixedIntermediate` the one CA is the CRL-covered one. */
  readonly cas: readonly CertDefects[];
  readonly leaf: CertDefects;
  readonly root: 'trusted' | 'untrusted-sent' | 'untrusted-absent';
  readonly revoked: boolean;
  readonly fixedIntermediate: boolean;
}

const defects = fc.record({
  time: fc.constantFrom<CertDefects['time']>('ok', 'ok', 'ok', 'expired', 'not-yet-valid'),
  badSignature: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  unknownCritical: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  wrongEku: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  noCaFlag: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  pathLenZero: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
});

const chainCase: fc.Arbitrary<ChainCase> = fc.record({
  cas: fc.array(defects, { minLength: 0, maxLength: 3 }),
  leaf: defects,
  root: fc.constantFrom<ChainCase['root']>('trusted', 'trusted', 'trusted', 'untrusted-sent', 'untrusted-absent'),
  revoked: fc.boolean(),
  fixedIntermediate: fc.boolean(),
});

// A fixed menu of settings, so the generated cases fall into few groups (one HAProxy + edge each).
const LISTS = ['10', '7,10', '10,23', '79,26', '10,20,21', '25,10', '9,10,19', '3,7,10,23', '26,79,10', 'all'];
const SETTINGS: readonly IgnoreSetting[] = [
  ...LISTS.map((l, i) => ({ crt: l, ca: l, crl: i % 3 === 0 })),
  { crt: '', ca: 'all', crl: false },
  { crt: 'all', ca: '', crl: true },
  { crt: '10', ca: '7,10,79,26,25', crl: false },
  { crt: '7,10,26', ca: '10', crl: true },
  { crt: '3,10,23', ca: '3', crl: true },
  { crt: '9,10,20,21', ca: '9,10,19', crl: false },
];
const setting: fc.Arbitrary<IgnoreSetting> = fc.constantFrom(...SETTINGS);

interface Pki {
  readonly rootKey: ForgeKey;
  readonly strangerKey: ForgeKey;
  readonly fixedIntKey: ForgeKey;
  readonly fixedInt: Buffer;
  readonly keys: readonly ForgeKey[];
  readonly trustFile: string;
  readonly crlFile: string;
  readonly crlFiles: readonly string[];
}

const REVOKED_SERIAL_BASE = 500_000;

function buildPki(dir: string, revokedSerials: readonly number[]): Pki {
  const rootKey = forgeKey();
  const strangerKey = forgeKey();
  const fixedIntKey = forgeKey();
  const keys = [forgeKey(), forgeKey(), forgeKey(), forgeKey()];
  const valid = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) };
  const root = forgeCert({ subject: 'Diff Root', issuer: 'Diff Root', serial: 1, key: rootKey, signer: rootKey, ...valid, ca: { ca: true }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null });
  const fixedInt = forgeCert({ subject: 'Diff Fixed Int', issuer: 'Diff Root', serial: 2, key: fixedIntKey, signer: rootKey, ...valid, ca: { ca: true }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null });
  const trustFile = join(dir, 'trust.pem');
  writeFileSync(trustFile, pem(root, 'CERTIFICATE'));
  const times = { thisUpdate: new Date(Date.now() - DAY), nextUpdate: new Date(Date.now() + 7 * DAY) };
  const rootCrl = forgeCrl({ issuer: 'Diff Root', signer: rootKey, revokedSerials: [], ...times });
  const intCrl = forgeCrl({ issuer: 'Diff Fixed Int', signer: fixedIntKey, revokedSerials, ...times });
  const crlFiles = [join(dir, 'root.crl.pem'), join(dir, 'int.crl.pem')];
  writeFileSync(crlFiles[0]!, rootCrl);
  writeFileSync(crlFiles[1]!, intCrl);
  const crlFile = join(dir, 'crls.pem');
  writeFileSync(crlFile, rootCrl + intCrl);
  return { rootKey, strangerKey, fixedIntKey, fixedInt, keys, trustFile, crlFile, crlFiles };
}

function timesOf(d: CertDefects): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  if (d.time === 'expired') return { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) };
  if (d.time === 'not-yet-valid') return { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) };
  return { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
}

/** The identity (leaf + sent CAs, key) for one case; `index` keeps names and serials unique. */
function identityOf(pki: Pki, c: ChainCase, index: number): { cert: Buffer; key: Buffer } {
  const sent: Buffer[] = [];
  const rootName = c.root === 'trusted' ? 'Diff Root' : `Stranger ${index}`;
  const rootKey = c.root === 'trusted' ? pki.rootKey : pki.strangerKey;
  if (c.root !== 'trusted') {
    const stranger = forgeCert({ subject: rootName, issuer: rootName, serial: 3, key: rootKey, signer: rootKey, ...timesOf({ ...c.leaf, time: 'ok' }), ca: { ca: true }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null });
    if (c.root === 'untrusted-sent') sent.push(stranger);
  }
  let issuerName = rootName;
  let issuerKey = rootKey;
  const useFixed = c.fixedIntermediate && c.root === 'trusted';
  if (useFixed) {
    sent.push(pki.fixedInt);
    issuerName = 'Diff Fixed Int';
    issuerKey = pki.fixedIntKey;
  } else {
    c.cas.forEach((d, i) => {
      const key = pki.keys[(index + i) % pki.keys.length]!;
      const subject = `Diff CA ${index}.${i}`;
      const spec: CertSpec = {
        subject, issuer: issuerName, serial: 10 + i, key, signer: issuerKey, ...timesOf(d),
        ca: d.noCaFlag ? { ca: false } : d.pathLenZero ? { ca: true, pathLen: 0 } : { ca: true },
        keyUsage: KU.keyCertSign | KU.cRLSign,
        eku: d.wrongEku ? [EKU_SERVER] : null,
        unknownCritical: d.unknownCritical,
        corruptSignature: d.badSignature,
      };
      sent.unshift(forgeCert(spec));
      issuerName = subject;
      issuerKey = key;
    });
  }
  const leafKey = pki.keys[index % pki.keys.length]!;
  const serial = c.revoked ? REVOKED_SERIAL_BASE + (index % 50) : 100_000 + index;
  const leaf = forgeCert({
    subject: `Diff Client ${index}`, issuer: issuerName, serial, key: leafKey, signer: issuerKey, ...timesOf(c.leaf),
    ca: { ca: false }, keyUsage: KU.digitalSignature, eku: c.leaf.wrongEku ? [EKU_SERVER] : [EKU_CLIENT],
    unknownCritical: c.leaf.unknownCritical, corruptSignature: c.leaf.badSignature,
  });
  return { cert: Buffer.from([leaf, ...sent].map((d) => pem(d, 'CERTIFICATE')).join('')), key: Buffer.from(keyPem(leafKey)) };
}

const bins = haproxyBinaries();
const key = (s: IgnoreSetting): string => `${s.crt}|${s.ca}|${s.crl}`;

describe(`parity (property): random multi-defect chains, mtls-edge never accepts what HAProxy refuses${bins.length ? ` (HAProxy ${bins.map(haproxyVersion).join(' and ')})` : ''}`, function () {
  this.timeout(240_000);
  let dir: string;
  let echo: EchoServer | undefined;
  before(async function () {
    if (bins.length === 0) {
      console.log('    differential verify property skipped: no `haproxy` on PATH, in /usr/sbin or in ../shared/tools/haproxy-3.2.');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-verifydiff-'));
    echo = await startEchoServer();
  });
  after(async () => {
    await echo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${CASES} random chains × ignore settings (bounded at ~${BUDGET_MS / 1000} s)`, async () => {
    const seed = Number(process.env.MTLS_DIFF_SEED ?? Date.now() % 2 ** 31);
    const cases = fc.sample(fc.tuple(setting, chainCase), { numRuns: CASES, seed });
    const groups = new Map<string, { s: IgnoreSetting; cases: ChainCase[] }>();
    for (const [s, c] of cases) {
      const g = groups.get(key(s)) ?? { s, cases: [] };
      g.cases.push(c);
      groups.set(key(s), g);
    }
    const revoked = Array.from({ length: 50 }, (_, i) => REVOKED_SERIAL_BASE + i);
    const pki = buildPki(dir, revoked);
    const { pki: dev } = await testPki();
    const serverPem = writeServerPem(dir, dev.server.chain, dev.server.key);
    const failures: string[] = [];
    let stricter = 0;
    let compared = 0;
    let index = 0;
    const deadline = Date.now() + BUDGET_MS;
    const used = new Set<string>();
    let groupIndex = 0;
    for (const g of groups.values()) {
      if (Date.now() > deadline) break;
      // Alternate between the HAProxy builds found (Debian 2.6, 3.2).
      const bin = bins[groupIndex++ % bins.length]!;
      used.add(bin);
      let h: { haproxy: RunningHaproxy; port: number } | null = null;
      let edge: TestEdge | null = null;
      try {
        h = await startHaproxyFor(bin, dir, serverPem, pki.trustFile, pki.crlFile, echo!.port, g.s);
        edge = await startTestEdge({}, edgeYaml(dev.server.chain, dev.server.key, pki.trustFile, pki.crlFiles, g.s));
        for (const c of g.cases) {
          if (Date.now() > deadline) break;
          const id = identityOf(pki, c, index++);
          const hv = await verdictOf(h.port, id);
          const ev = await verdictOf(edge.httpsPort, id);
          compared++;
          const what = () => `crt [${g.s.crt}] ca [${g.s.ca}]${g.s.crl ? ' crl' : ''} ${JSON.stringify(c)}`;
          if (ev.accepted && !hv.accepted) failures.push(`edge accepted (verify ${ev.verify}), HAProxy refused: ${what()}`);
          else if (ev.accepted && hv.accepted && ev.verify !== hv.verify) failures.push(`X-SSL-Client-Verify: HAProxy ${hv.verify}, edge ${ev.verify}: ${what()}`);
          else if (!ev.accepted && hv.accepted) stricter++;
        }
      } finally {
        await edge?.close();
        await h?.haproxy.stop();
      }
    }
    console.log(`    seed ${seed}: ${compared} chains compared in ${groups.size} ignore settings against ${[...used].join(' and ')}; edge stricter than HAProxy: ${stricter}; failures: ${failures.length}`);
    expect(compared, 'compared at least 100 chains within the time budget').to.be.at.least(Math.min(100, CASES));
    expect(failures, `seed ${seed}\n${failures.slice(0, 10).join('\n')}`).to.deep.equal([]);
  });
});
