import fc from 'fast-check';
import type { HeaderPair } from '../../src/observe/events.js';
import { H10_SET_ORDER, applyClientCertPolicy, isH10HeaderName } from '../../src/headers/h10.js';
import type { DeleteRule, HeaderPolicy } from '../../src/headers/modeTable.js';
import { expect } from 'chai';

const VALUES: HeaderPair[] = H10_SET_ORDER.map((n): HeaderPair => [n, `set:${n}`]);
const FLAT_VALUES = VALUES.flat();
const P = (del: DeleteRule, set = false): HeaderPolicy => ({ delete: del, set });

const BASE = ['Host', 'example.com', 'Accept', '*/*'];
const SPOOF = [
  'x-forwarded-client-cert', 'spoofed',
  'X-SSL-Client-Cert', 'not ours',
  'X-SSL-CLIENT-VERIFY', '0',
  'X-SSL-Client-Issuer-CN', 'not ours either',
  'X-Forwarded-Client-Cert', 'second copy',
];
const SPOOF_KEPT_OTHERS = ['X-SSL-Client-Cert', 'not ours', 'X-SSL-Client-Issuer-CN', 'not ours either'];
const SPOOF_H10: HeaderPair[] = [
  ['x-forwarded-client-cert', 'spoofed'],
  ['X-SSL-CLIENT-VERIFY', '0'],
  ['X-Forwarded-Client-Cert', 'second copy'],
];

interface Case {
  title: string;
  raw: string[];
  policy: HeaderPolicy;
  certUsed: boolean;
  values?: HeaderPair[] | null;
  headers: string[];
  removed: HeaderPair[];
  set: HeaderPair[];
}

// prettier-ignore
const CASES: Case[] = [
  { title: 'never: everything passes', raw: [...BASE, ...SPOOF], policy: P('never'), certUsed: false,
    headers: [...BASE, ...SPOOF], removed: [], set: [] },
  { title: 'always: every copy of the ten, any case; X-SSL-Client-Cert / -Issuer-CN untouched', raw: [...BASE, ...SPOOF],
    policy: P('always'), certUsed: true, headers: [...BASE, ...SPOOF_KEPT_OTHERS], removed: SPOOF_H10, set: [] },
  { title: 'when_no_cert_used without a cert: deleted', raw: [...SPOOF, ...BASE], policy: P('when_no_cert_used'),
    certUsed: false, headers: [...SPOOF_KEPT_OTHERS, ...BASE], removed: SPOOF_H10, set: [] },
  { title: 'when_no_cert_used with a cert: forwarded as sent', raw: [...SPOOF, ...BASE], policy: P('when_no_cert_used'),
    certUsed: true, headers: [...SPOOF, ...BASE], removed: [], set: [] },
  { title: 'unless_signature, signature present (empty value, after the H10): kept',
    raw: [...SPOOF, 'x-cf-proxy-signature', ''], policy: P('unless_signature'), certUsed: false,
    headers: [...SPOOF, 'x-cf-proxy-signature', ''], removed: [], set: [] },
  { title: 'unless_signature without signature: deleted', raw: [...SPOOF, 'X-Cf-Proxy-Metadata', 'm'],
    policy: P('unless_signature'), certUsed: false, headers: [...SPOOF_KEPT_OTHERS, 'X-Cf-Proxy-Metadata', 'm'],
    removed: SPOOF_H10, set: [] },
  { title: 'sanitize_set with a cert: delete, then the ten appended in set order', raw: [...BASE, ...SPOOF],
    policy: P('always', true), certUsed: true, values: VALUES,
    headers: [...BASE, ...SPOOF_KEPT_OTHERS, ...FLAT_VALUES], removed: SPOOF_H10, set: VALUES },
  { title: 'sanitize_set with a cert, nothing sent: the ten appended', raw: [...BASE], policy: P('always', true),
    certUsed: true, values: VALUES, headers: [...BASE, ...FLAT_VALUES], removed: [], set: VALUES },
  { title: 'route service + signature + cert: client copies replaced, signature kept',
    raw: ['X-CF-Proxy-Signature', 'sig', ...SPOOF], policy: P('unless_signature', true), certUsed: true, values: VALUES,
    headers: ['X-CF-Proxy-Signature', 'sig', ...SPOOF_KEPT_OTHERS, ...FLAT_VALUES], removed: SPOOF_H10, set: VALUES },
  { title: 'set policy but no cert used: delete only', raw: [...SPOOF], policy: P('always', true), certUsed: false,
    values: VALUES, headers: [...SPOOF_KEPT_OTHERS], removed: SPOOF_H10, set: [] },
  { title: 'set policy, cert used, values null: delete only', raw: [...SPOOF], policy: P('always', true),
    certUsed: true, values: null, headers: [...SPOOF_KEPT_OTHERS], removed: SPOOF_H10, set: [] },
  { title: 'near misses are not H10', raw: ['X-SSL-Clients', 'a', 'X-SSL-Client-Verified', 'b', 'Y-SSL-Client', 'c',
    'X-SSL-Client-Root-CA', 'd', 'X_SSL_Client', 'e', 'X-SSL-Client ', 'f'], policy: P('always'), certUsed: false,
    headers: ['X-SSL-Clients', 'a', 'X-SSL-Client-Verified', 'b', 'Y-SSL-Client', 'c', 'X-SSL-Client-Root-CA', 'd',
      'X_SSL_Client', 'e', 'X-SSL-Client ', 'f'], removed: [], set: [] },
  { title: 'all ten names in odd cases are recognised', raw: H10_SET_ORDER.flatMap((n, i) =>
      [i % 2 ? n.toUpperCase() : n.toLowerCase(), String(i)]), policy: P('always'), certUsed: false, headers: [],
    removed: H10_SET_ORDER.map((n, i): HeaderPair => [i % 2 ? n.toUpperCase() : n.toLowerCase(), String(i)]), set: [] },
];

describe('headers/h10 applyClientCertPolicy', () => {
  for (const c of CASES) {
    it(c.title, () => {
      const e = applyClientCertPolicy(c.raw, c.policy, c.certUsed, c.values === undefined ? null : c.values);
      expect(e.headers).to.deep.equal(c.headers);
      expect(e.removed).to.deep.equal(c.removed);
      expect(e.set).to.deep.equal(c.set);
      expect(e.sent).to.deep.equal(pairsOf(c.raw).filter(([n]) => model.isH10(n)));
    });
  }

  it('returns the input array itself when nothing changes (no allocation)', () => {
    const raw = [...BASE, 'X-Forwarded-Client-Cert', 'kept'];
    for (const [policy, used] of [[P('never'), true], [P('when_no_cert_used'), true], [P('always', true), false]] as const) {
      const noH10 = applyClientCertPolicy(BASE, policy, used, VALUES);
      expect(noH10.headers === BASE).to.equal(true);
      if (policy.delete !== 'always') expect(applyClientCertPolicy(raw, policy, used, VALUES).headers === raw).to.equal(true);
    }
  });

  it('H10_SET_ORDER is the spec’s set order', () => {
    expect(H10_SET_ORDER).to.deep.equal([
      'X-Forwarded-Client-Cert', 'X-SSL-Client', 'X-SSL-Client-Session-ID', 'X-SSL-Client-Verify',
      'X-SSL-Client-NotBefore', 'X-SSL-Client-NotAfter', 'X-SSL-Client-Subject-DN', 'X-SSL-Client-Subject-CN',
      'X-SSL-Client-Issuer-DN', 'X-SSL-Client-Root-CA-DN',
    ]);
    for (const n of H10_SET_ORDER) expect(isH10HeaderName(n.toUpperCase())).to.equal(true);
  });

  describe('properties', () => {
    const randomCase = (s: string): fc.Arbitrary<string> =>
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })
        .map((flags) => [...s].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
    const name = fc.oneof(
      fc.constantFrom(...H10_SET_ORDER).chain(randomCase),
      fc.constantFrom('X-SSL-Client-Cert', 'X-SSL-Client-Issuer-CN', 'X-SSL-Clients', 'X-Forwarded-Client-Certs',
        'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Cf-Forwarded-Url', 'x-ssl-client-subject-d').chain(randomCase),
      randomCase('X-Cf-Proxy-Signature'),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,24}$/),
    );
    const raw = fc.array(fc.tuple(name, fc.string({ maxLength: 12 })), { maxLength: 24 }).map((ps) => ps.flat());
    const policy = fc.record({
      delete: fc.constantFrom<DeleteRule>('never', 'always', 'when_no_cert_used', 'unless_signature'),
      set: fc.boolean(),
    });
    const values = fc.constantFrom<HeaderPair[] | null>(VALUES, null);

    it('matches an independent model (deletes, keeps others in order, sets once at the end)', () => {
      fc.assert(
        fc.property(raw, policy, fc.boolean(), values, (r, p, used, v) => {
          const e = applyClientCertPolicy(r, p, used, v);
          const pairs = pairsOf(r);
          const others = pairs.filter(([n]) => !model.isH10(n));
          const h10 = pairs.filter(([n]) => model.isH10(n));
          const signature = pairs.some(([n]) => n.toLowerCase() === 'x-cf-proxy-signature');
          const deleting = model.deleting(p.delete, used, signature);
          const setting = p.set && used && v !== null;
          const out = pairsOf(e.headers);

          // non-H10 names are never touched and keep their order
          expect(out.filter(([n]) => !model.isH10(n))).to.deep.equal(others);
          expect(e.sent).to.deep.equal(h10);
          if (setting) {
            expect(out.slice(out.length - 10)).to.deep.equal(VALUES);
            expect(out.filter(([n]) => model.isH10(n))).to.deep.equal(VALUES);
            expect(e.set).to.deep.equal(VALUES);
          } else if (deleting) {
            expect(out.filter(([n]) => model.isH10(n))).to.deep.equal([]);
            expect(e.set).to.deep.equal([]);
          } else {
            expect(e.headers).to.deep.equal(r);
          }
          expect(e.removed).to.deep.equal(deleting || setting ? h10 : []);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

function pairsOf(raw: readonly string[]): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

// The obvious, slow implementation the fast one is checked against.
const model = {
  lower: new Set(H10_SET_ORDER.map((n) => n.toLowerCase())),
  isH10(n: string): boolean {
    return this.lower.has(n.toLowerCase());
  },
  deleting(rule: DeleteRule, used: boolean, signature: boolean): boolean {
    return rule === 'always' || (rule === 'when_no_cert_used' && !used) || (rule === 'unless_signature' && !signature);
  },
};
