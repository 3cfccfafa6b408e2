// Independent expectations for the ten headers, computed from the certificate files with
// node:crypto and the openssl CLI (not with src/headers), so the edge tests compare against a
// second opinion rather than against the code under test.
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const H10_ORDER = [
  'X-Forwarded-Client-Cert',
  'X-SSL-Client',
  'X-SSL-Client-Session-ID',
  'X-SSL-Client-Verify',
  'X-SSL-Client-NotBefore',
  'X-SSL-Client-NotAfter',
  'X-SSL-Client-Subject-DN',
  'X-SSL-Client-Subject-CN',
  'X-SSL-Client-Issuer-DN',
  'X-SSL-Client-Root-CA-DN',
] as const;

const H10_LOWER = new Set(H10_ORDER.map((n) => n.toLowerCase()));
export const isH10 = (name: string): boolean => H10_LOWER.has(name.toLowerCase());

/** The first certificate of a PEM file (a chain file's leaf). */
export function leafOf(pemFile: string): X509Certificate {
  const pem = readFileSync(pemFile, 'latin1');
  const block = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/);
  if (!block) throw new Error(`no certificate in ${pemFile}`);
  return new X509Certificate(block[0]);
}

/** The raw ASN.1 time strings of a certificate, as `openssl asn1parse` shows them. */
export function asn1Times(certFile: string): { notBefore: { tag: string; text: string }; notAfter: { tag: string; text: string } } {
  const out = execFileSync('openssl', ['asn1parse', '-in', certFile], { encoding: 'latin1', timeout: 10_000 });
  const times = [...out.matchAll(/\b(UTCTIME|GENERALIZEDTIME)\s*:(\S+)/g)].map((m) => ({ tag: m[1]!, text: m[2]! }));
  if (times.length < 2) throw new Error(`no validity in ${certFile}`);
  return { notBefore: times[0]!, notAfter: times[1]! };
}

/** HAProxy's ssl_c_notbefore/notafter rendering of an ASN.1 time (docs/edge-behaviour.md §6). */
export function haproxyTimeOf(t: { tag: string; text: string }): string {
  if (t.tag === 'UTCTIME') return Number(t.text[0]) >= 5 ? '' : t.text;
  return t.text.startsWith('20') ? t.text.slice(2) : '';
}

/** OpenSSL's oneline DN text (`-nameopt compat`): `/C=DE/O=x/CN=y`, raw bytes for ASCII names. */
function opensslOneline(certFile: string, which: 'subject' | 'issuer'): string {
  const out = execFileSync('openssl', ['x509', '-noout', `-${which}`, '-nameopt', 'compat', '-in', certFile], { encoding: 'latin1', timeout: 10_000 });
  return out.replace(/^(subject|issuer)=/, '').trim();
}

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');

/**
 * The ten [name, value] pairs the edge must set for a leaf from `certFile` verified with `verify`
 * and the dev root at the top (ASCII names only: the DN text comes from openssl's compat output).
 * The session ID is a RegExp because it is random per connection.
 */
export function expectedH10(certFile: string, verify: number, rootFile: string): [string, string | RegExp][] {
  const leaf = leafOf(certFile);
  const times = asn1Times(certFile);
  const cn = opensslOneline(certFile, 'subject').match(/\/CN=([^/]*)/)?.[1] ?? '';
  return [
    ['X-Forwarded-Client-Cert', leaf.raw.toString('base64')],
    ['X-SSL-Client', '1'],
    ['X-SSL-Client-Session-ID', /^[0-9A-F]{64}$/],
    ['X-SSL-Client-Verify', String(verify)],
    ['X-SSL-Client-NotBefore', haproxyTimeOf(times.notBefore)],
    ['X-SSL-Client-NotAfter', haproxyTimeOf(times.notAfter)],
    ['X-SSL-Client-Subject-DN', b64(opensslOneline(certFile, 'subject'))],
    ['X-SSL-Client-Subject-CN', cn ? b64(cn) : ''],
    ['X-SSL-Client-Issuer-DN', b64(opensslOneline(certFile, 'issuer'))],
    ['X-SSL-Client-Root-CA-DN', b64(opensslOneline(rootFile, 'subject'))],
  ];
}

/** Compares header pairs, where an expected RegExp value must match. Returns a readable diff or null. */
export function diffPairs(actual: readonly [string, string][], expected: readonly [string, string | RegExp][]): string | null {
  const fmt = (p: readonly [string, string | RegExp]): string => `${p[0]}: ${String(p[1])}`;
  const len = Math.max(actual.length, expected.length);
  for (let i = 0; i < len; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = a && e && a[0] === e[0] && (typeof e[1] === 'string' ? a[1] === e[1] : e[1].test(a[1]));
    if (!ok) {
      return `first difference at line ${i}: got ${a ? fmt(a) : '(nothing)'}, expected ${e ? fmt(e) : '(nothing)'}\n  got:      ${actual.map(fmt).join(' | ')}\n  expected: ${expected.map(fmt).join(' | ')}`;
    }
  }
  return null;
}

const LONG_TO_SHORT: Record<string, string> = {
  countryName: 'C',
  stateOrProvinceName: 'ST',
  localityName: 'L',
  organizationName: 'O',
  organizationalUnitName: 'OU',
  commonName: 'CN',
  emailAddress: 'emailAddress',
};

/**
 * The OpenSSL oneline DN bytes of a certificate's subject or issuer, rebuilt from `openssl
 * asn1parse` offsets: each attribute in DER order as `/` + short name + `=` + the raw value bytes.
 * Independent of src/headers (which walks the DER itself).
 */
export function opensslDnBytes(certFile: string, which: 'subject' | 'issuer'): { dn: Buffer; cns: Buffer[] } {
  const der = leafOf(certFile).raw;
  const out = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'latin1', timeout: 10_000 });
  const lines = out
    .split('\n')
    .map((l) => /^\s*(\d+):d=(\d+)\s+hl=\s*(\d+)\s+l=\s*(\d+)\s+(prim|cons):\s*(.*?)\s*(?::(.*))?$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ offset: Number(m[1]), depth: Number(m[2]), hl: Number(m[3]), len: Number(m[4]), type: m[6]!.trim(), value: m[7] ?? '' }));
  const tbsChildren = lines.filter((l) => l.depth === 2);
  const name = tbsChildren[which === 'issuer' ? 3 : 5]!;
  const end = name.offset + name.hl + name.len;
  const inName = lines.filter((l) => l.offset > name.offset && l.offset < end && l.depth === 5);
  const parts: Buffer[] = [];
  const cns: Buffer[] = [];
  for (let i = 0; i + 1 < inName.length; i += 2) {
    const oid = inName[i]!;
    const val = inName[i + 1]!;
    if (oid.type !== 'OBJECT') throw new Error(`unexpected ${oid.type} in the name`);
    const short = LONG_TO_SHORT[oid.value.trim()];
    if (!short) throw new Error(`no short name for ${oid.value}`);
    const bytes = der.subarray(val.offset + val.hl, val.offset + val.hl + val.len);
    parts.push(Buffer.from(`/${short}=`, 'latin1'), bytes);
    if (short === 'CN') cns.push(Buffer.from(bytes));
  }
  return { dn: Buffer.concat(parts), cns };
}
