// The SAN extension of the client certificate, read with the project's own DER walker: only the
// path to the extensions and the GeneralNames are decoded (an ASN.1 library decoding the whole
// certificate took ~50 ms for 1,800 IP SANs). More than MAX_SANS names, or anything malformed on
// the way, is a ReadError: an allow-list by SAN must never see a shortened or guessed list.
import { DerError, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, expectTlv, oidToDotted, readTlv } from '../headers/der.js';
import { ReadError } from './headerSource.js';
import { MAX_SANS } from './limits.js';
import type { SubjectAltNames } from './result.js';

const SAN_OID = '2.5.29.17';
const TAG_BOOLEAN = 1;

/** The contents of the subjectAltName extension's OCTET STRING, or null when there is none. Throws DerError. */
function sanExtension(der: Buffer): Buffer | null {
  const cert = expectTlv(der, 0, der.length, TAG_SEQUENCE);
  const tbs = expectTlv(der, cert.start, cert.end, TAG_SEQUENCE);
  let t = readTlv(der, tbs.start, tbs.end);
  if (t.cls === 0x80 && t.tag === 0) t = readTlv(der, t.end, tbs.end); // [0] version
  // serial, signature, issuer, validity, subject, subjectPublicKeyInfo
  for (let n = 0; n < 5; n++) t = readTlv(der, t.end, tbs.end);
  if (t.cls !== 0 || t.tag !== TAG_SEQUENCE) throw new DerError('TBSCertificate: expected subjectPublicKeyInfo');
  let found: Buffer | null = null;
  for (let p = t.end; p < tbs.end; ) {
    t = readTlv(der, p, tbs.end);
    p = t.end;
    if (t.cls !== 0x80 || t.tag < 1 || t.tag > 3) throw new DerError('TBSCertificate: unexpected field after subjectPublicKeyInfo');
    if (t.tag !== 3) continue; // [1] issuerUniqueID, [2] subjectUniqueID
    const exts = expectTlv(der, t.start, t.end, TAG_SEQUENCE);
    for (let q = exts.start; q < exts.end; ) {
      const ext = expectTlv(der, q, exts.end, TAG_SEQUENCE);
      q = ext.end;
      const oid = expectTlv(der, ext.start, ext.end, TAG_OID);
      let v = readTlv(der, oid.end, ext.end);
      if (v.cls === 0 && v.tag === TAG_BOOLEAN) v = readTlv(der, v.end, ext.end);
      if (v.cls !== 0 || v.tag !== TAG_OCTET_STRING || v.constructed || v.end !== ext.end) throw new DerError('Extension: expected extnValue');
      if (oidToDotted(der, oid.start, oid.end) !== SAN_OID) continue;
      // RFC 5280 §4.2: one instance per extension; two SAN lists would be read differently by different software.
      if (found !== null) throw new ReadError('the client certificate has two subjectAltName extensions');
      found = der.subarray(v.start, v.end);
    }
  }
  return found;
}

/** RFC 5952: lower-case hex groups, the first longest run of two or more zero groups as `::`. */
function ipv6Text(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  return bestAt < 0 ? hex(groups) : `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

/** The DNS, URI, e-mail and IP SANs of a certificate, in certificate order; other kinds are skipped. Throws ReadError. */
export function subjectAltNames(der: Buffer): SubjectAltNames {
  const sans = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  try {
    const ext = sanExtension(der);
    if (ext === null) return sans;
    const seq = expectTlv(ext, 0, ext.length, TAG_SEQUENCE);
    if (seq.end !== ext.length) throw new DerError('bytes after GeneralNames');
    let count = 0;
    for (let p = seq.start; p < seq.end; ) {
      const n = readTlv(ext, p, seq.end);
      p = n.end;
      if (++count > MAX_SANS) throw new ReadError(`the client certificate has more than ${MAX_SANS} subject alternative names`);
      if (n.cls !== 0x80) throw new DerError('GeneralName: expected a context tag');
      const isString = n.tag === 1 || n.tag === 2 || n.tag === 6;
      if ((isString || n.tag === 7) && n.constructed) throw new DerError('GeneralName: constructed string');
      // IA5String, one character per byte, as the ASN.1 library read it before.
      const text = (): string => ext.toString('latin1', n.start, n.end);
      if (n.tag === 1) sans.email.push(text());
      else if (n.tag === 2) sans.dns.push(text());
      else if (n.tag === 6) sans.uri.push(text());
      else if (n.tag === 7) {
        const ip = ext.subarray(n.start, n.end);
        if (ip.length === 4) sans.ip.push(Array.from(ip).join('.'));
        else if (ip.length === 16) sans.ip.push(ipv6Text(ip));
        else throw new ReadError('the client certificate has an IP address SAN that is neither 4 nor 16 bytes');
      }
    }
  } catch (e) {
    if (e instanceof ReadError) throw e;
    throw new ReadError('the client certificate has malformed extensions or a malformed subjectAltName extension');
  }
  return sans;
}
