// chainErrors: the (code, depth) list OpenSSL 3 meets, as a table over forged chains, and totality
// (never throws) over mutated and random inputs.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { chainErrors, parseCrls, type ChainErrors } from '../../src/tls/chainErrors.js';
import { EKU_SERVER, expired, forgeCert, forgeCrl, forgeKey, KU, LEAF_EXT, notYetValid, ROOT_EXT, validNow, type CertSpec } from '../support/certForge.js';

const rootKey = forgeKey();
const intKey = forgeKey();
const leafKey = forgeKey();
const x = (der: Buffer): X509Certificate => new X509Certificate(der);
const root = x(forgeCert({ subject: 'T Root', issuer: 'T Root', serial: 1, key: rootKey, signer: rootKey, ...validNow(), ...ROOT_EXT }));
const intSpec: CertSpec = { subject: 'T Int', issuer: 'T Root', serial: 2, key: intKey, signer: rootKey, ...validNow(), ...ROOT_EXT };
const int = x(forgeCert(intSpec));
const leafOf = (extra: Partial<CertSpec>): X509Certificate =>
  x(forgeCert({ subject: 'T Leaf', issuer: 'T Int', serial: 3, key: leafKey, signer: intKey, ...validNow(), ...LEAF_EXT, ...extra }));
const crlTimes = { thisUpdate: new Date(Date.now() - 86_400_000), nextUpdate: new Date(Date.now() + 86_400_000) };
const crls = (revoked: number[], intCrl: Partial<Parameters<typeof forgeCrl>[0]> = {}) =>
  parseCrls([
    Buffer.from(forgeCrl({ issuer: 'T Root', signer: rootKey, revokedSerials: [], ...crlTimes })),
    Buffer.from(forgeCrl({ issuer: 'T Int', signer: intKey, revokedSerials: revoked, ...crlTimes, ...intCrl })),
  ]);

const pairs = (r: ChainErrors): [number, number][] | string => (r.kind === 'computed' ? r.errors.map((e) => [e.code, e.depth]) : `${r.kind}: ${r.reason}`);

interface Row {
  readonly name: string;
  readonly leaf: X509Certificate;
  readonly sent?: readonly X509Certificate[];
  readonly trust?: readonly X509Certificate[];
  readonly crls?: ReturnType<typeof parseCrls>;
  readonly expect: [number, number][] | RegExp;
}

const ROWS: readonly Row[] = [
  { name: 'valid chain', leaf: leafOf({}), expect: [] },
  { name: 'expired leaf', leaf: leafOf(expired()), expect: [[10, 0]] },
  { name: 'not yet valid leaf', leaf: leafOf(notYetValid()), expect: [[9, 0]] },
  { name: 'bad signature + expired', leaf: leafOf({ ...expired(), corruptSignature: true }), expect: [[7, 0], [10, 0]] },
  { name: 'wrong purpose + expired', leaf: leafOf({ ...expired(), eku: [EKU_SERVER] }), expect: [[26, 0], [10, 0]] },
  { name: 'leaf keyUsage without digitalSignature', leaf: leafOf({ keyUsage: KU.keyEncipherment }), expect: [[26, 0]] },
  { name: 'revoked + expired (CRLs)', leaf: leafOf({ ...expired(), serial: 77 }), crls: crls([77]), expect: [[23, 0], [10, 0]] },
  { name: 'expired CRL of the intermediate', leaf: leafOf({}), crls: crls([], { nextUpdate: new Date(Date.now() - 1000) }), expect: [[12, 0]] },
  { name: 'CRL signed by the wrong key (its AKID names another key: not used)', leaf: leafOf({}), crls: parseCrls([Buffer.from(forgeCrl({ issuer: 'T Root', signer: rootKey, revokedSerials: [], ...crlTimes })), Buffer.from(forgeCrl({ issuer: 'T Int', signer: leafKey, revokedSerials: [], ...crlTimes }))]), expect: [[3, 0]] },
  { name: 'no CRL for the intermediate', leaf: leafOf({}), crls: parseCrls([Buffer.from(forgeCrl({ issuer: 'T Root', signer: rootKey, revokedSerials: [], ...crlTimes }))]), expect: [[3, 0]] },
  { name: 'untrusted CA, leaf only', leaf: leafOf({}), sent: [], expect: [[20, 0], [21, 0]] },
  { name: 'intermediate without the CA flag', leaf: leafOf({}), sent: [x(forgeCert({ ...intSpec, ca: { ca: false } }))], expect: [[79, 1], [26, 1]] },
  { name: 'expired intermediate', leaf: leafOf({}), sent: [x(forgeCert({ ...intSpec, ...expired() }))], expect: [[10, 1]] },
  { name: 'intermediate with EKU serverAuth', leaf: leafOf({}), sent: [x(forgeCert({ ...intSpec, eku: [EKU_SERVER] }))], expect: [[26, 1]] },
  { name: 'intermediate keyUsage without keyCertSign', leaf: leafOf({}), sent: [x(forgeCert({ ...intSpec, keyUsage: KU.cRLSign }))], expect: [[79, 1], [26, 1], [32, 1]] },
  { name: 'unhandled critical extension (refused even under all)', leaf: leafOf({ unknownCritical: true }), expect: /critical/ },
  { name: 'self-signed leaf', leaf: x(forgeCert({ subject: 'Self', issuer: 'Self', serial: 9, key: leafKey, signer: leafKey, ...validNow(), ...LEAF_EXT })), sent: [], expect: [[18, 0]] },
  { name: 'untrusted root sent', leaf: leafOf({}), trust: [], sent: [int, root], expect: [[19, 2]] },
  // OpenSSL compares a candidate issuer's name first (ossl_x509_likely_issued): the rest of a certificate
  // whose subject is no chain member's issuer is never read, not even an unhandled critical extension.
  { name: 'unrelated certificate sent along (unhandled critical extension, never read)', leaf: leafOf(expired()), sent: [x(forgeCert({ subject: 'Other', issuer: 'Other', serial: 50, key: intKey, signer: intKey, ...validNow(), ...ROOT_EXT, unknownCritical: true })), int], expect: [[10, 0]] },
  { name: 'the same extension on the intermediate (read: refused)', leaf: leafOf({}), sent: [x(forgeCert({ ...intSpec, unknownCritical: true }))], expect: /critical/ },
  // OpenSSL's canonical names drop leading spaces (Node prints one as "\ "): " T Int" names the same
  // issuer as "T Int" for OpenSSL, which then builds with it (HAProxy 2.6: 19 at depth 1).
  { name: 'a sent certificate named " T Int" (equal to the issuer only canonically) with an unhandled critical extension', leaf: leafOf(expired()), sent: [x(forgeCert({ subject: ' T Int', issuer: ' T Int', serial: 51, key: intKey, signer: intKey, ...validNow(), ...ROOT_EXT, unknownCritical: true })), int], expect: /critical/ },
  { name: 'the same without the extension: not modelled', leaf: leafOf(expired()), sent: [x(forgeCert({ subject: ' T Int', issuer: ' T Int', serial: 52, key: intKey, signer: intKey, ...validNow(), ...ROOT_EXT })), int], expect: /canonical/ },
  { name: 'a name differing in case and inner spaces: not modelled', leaf: leafOf(expired()), sent: [x(forgeCert({ subject: 't   INT', issuer: 't   INT', serial: 53, key: intKey, signer: intKey, ...validNow(), ...ROOT_EXT })), int], expect: /canonical/ },
];

describe('tls: chainErrors (every error OpenSSL 3 meets, with its depth)', () => {
  for (const r of ROWS) {
    it(`${r.name} → ${r.expect instanceof RegExp ? 'uncomputable' : JSON.stringify(r.expect)}`, () => {
      const got = chainErrors({ leaf: r.leaf, sent: [r.leaf, ...(r.sent ?? [int])], trust: r.trust ?? [root], crls: r.crls ?? null, now: Date.now() });
      if (r.expect instanceof RegExp) expect(got.kind === 'computed' ? 'computed' : got.reason).to.match(r.expect);
      else expect(pairs(got)).to.deep.equal(r.expect);
    });
  }

  it('pathLen 0 on a CA two levels up → 25 at its depth', () => {
    const k2 = forgeKey();
    const top = x(forgeCert({ ...intSpec, subject: 'T Top', ca: { ca: true, pathLen: 0 }, key: k2 }));
    const mid = x(forgeCert({ ...intSpec, subject: 'T Int', issuer: 'T Top', signer: k2 }));
    const got = chainErrors({ leaf: leafOf({}), sent: [leafOf({}), mid, top], trust: [root], crls: null, now: Date.now() });
    expect(pairs(got)).to.deep.equal([[25, 2]]);
  });

  it('never throws on mutated certificates, chains and CRLs (fast-check)', () => {
    const base = [leafOf({}).raw, int.raw, root.raw];
    const crlPem = forgeCrl({ issuer: 'T Int', signer: intKey, revokedSerials: [3], ...crlTimes });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(2), fc.nat(2000), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
        fc.nat(400),
        fc.integer({ min: 1, max: 255 }),
        fc.uint8Array({ maxLength: 64 }),
        (flips, crlAt, crlXor, junk) => {
          const ders = base.map((d) => Buffer.from(d));
          for (const [which, at, xor] of flips) ders[which]![at % ders[which]!.length]! ^= xor;
          const certs = ders.map((d) => {
            try {
              return new X509Certificate(d);
            } catch {
              return null;
            }
          }).filter((c): c is X509Certificate => c !== null);
          if (certs.length === 0) return;
          const crlBuf = Buffer.from(crlPem);
          crlBuf[40 + (crlAt % (crlBuf.length - 80))]! ^= crlXor;
          const set = parseCrls([crlBuf, Buffer.from(junk), Buffer.from(crlPem)]);
          const r = chainErrors({ leaf: certs[0]!, sent: certs, trust: certs.slice(-1), crls: set, now: Date.now() });
          expect(['computed', 'uncomputable', 'refused']).to.include(r.kind);
        },
      ),
      { numRuns: 300 },
    );
  });
});
