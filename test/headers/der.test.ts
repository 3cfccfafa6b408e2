// oidToDotted on the OIDs a hostile certificate can hold: exact text for arcs past 2^53, and
// OpenSSL's size limit (CVE-2023-2650), beyond which translating would cost quadratic time.
import { expect } from 'chai';
import { DerError, oidToDotted } from '../../src/headers/der.js';

/** Base-128 encoding of one sub-identifier, as DER writes it. */
function arc(n: bigint): number[] {
  const out = [Number(n & 0x7fn)];
  for (n >>= 7n; n > 0n; n >>= 7n) out.unshift(Number(n & 0x7fn) | 0x80);
  return out;
}
const oid = (...arcs: bigint[]): Uint8Array => Uint8Array.from(arcs.flatMap(arc));

describe('headers/der: oidToDotted', () => {
  // prettier-ignore
  const CASES: readonly [string, Uint8Array, string][] = [
    ['commonName', oid(85n, 4n, 3n), '2.5.4.3'],
    ['an arc of 49 bits (7 bytes, a double)', oid(42n, 2n ** 49n - 1n), `1.2.${2n ** 49n - 1n}`],
    ['an arc of 56 bits (8 bytes, a BigInt)', oid(42n, 2n ** 56n - 1n), `1.2.${2n ** 56n - 1n}`],
    ['a first arc past 2^53 (2.x)', oid(2n ** 60n + 80n, 1n), `2.${2n ** 60n}.1`],
    ['an arc of 4,000 bits', oid(42n, 3n ** 2500n), `1.2.${3n ** 2500n}`],
  ];
  for (const [name, der, text] of CASES) {
    it(name, () => expect(oidToDotted(der, 0, der.length)).to.equal(text));
  }

  it('586 bytes are translated, 587 refused, as OpenSSL (a 40 KB arc costs nothing)', () => {
    const long = (bytes: number): Uint8Array => Uint8Array.from([0x2a, ...new Array<number>(bytes - 2).fill(0xff), 0x7f]);
    expect(oidToDotted(long(586), 0, 586)).to.match(/^1\.2\.\d+$/);
    expect(() => oidToDotted(long(587), 0, 587)).to.throw(DerError, 'an OID longer than 586 bytes');
    expect(() => oidToDotted(long(40_000), 0, 40_000)).to.throw(DerError);
  });

  it('refuses a non-minimal or truncated sub-identifier', () => {
    expect(() => oidToDotted(Uint8Array.from([0x2a, 0x80, 0x01]), 0, 3)).to.throw(DerError, 'non-minimal');
    expect(() => oidToDotted(Uint8Array.from([0x2a, 0x81]), 0, 2)).to.throw(DerError, 'truncated');
  });
});
