// The traefik dialect: Traefik's passTLSClientCert middleware (pkg/middlewares/passtlsclientcert)
// with `pem: true` and every `info` field on, behind the entry point's forwardedHeaders handling
// (pkg/middlewares/forwardedheaders), which strips both headers from untrusted clients.
// docs/dialects.md describes it.
import type { X509Certificate } from 'node:crypto';
import type { HeaderPair } from '../../observe/events.js';
import { rawCertFields } from '../certFields.js';
import { nameAttributeTlvs } from '../der.js';
import type { DialectRow } from './dialectTable.js';
import { subjectAltNames, type DialectCertFacts } from './certFacts.js';

const TRAEFIK_CERT_HEADER = 'X-Forwarded-Tls-Client-Cert';
const TRAEFIK_INFO_HEADER = 'X-Forwarded-Tls-Client-Cert-Info';
export const TRAEFIK_HEADERS = Object.freeze([TRAEFIK_CERT_HEADER, TRAEFIK_INFO_HEADER] as const);

/**
 * untrusted: the entry point's forwardedHeaders strips both headers (a client outside
 * forwardedHeaders.trustedIPs, Traefik's default); insecure: forwardedHeaders.insecure, the
 * client's copies pass unless the middleware sets the header (req.Header.Set replaces them).
 */
export const TRAEFIK_MODES = ['untrusted', 'insecure'] as const;
export type TraefikMode = (typeof TRAEFIK_MODES)[number];

// prettier-ignore
export const TRAEFIK_MODE_TABLE: readonly DialectRow<TraefikMode>[] = Object.freeze([
  { mode: 'untrusted', cert: 'none', action: 'remove' },
  { mode: 'untrusted', cert: 'used', action: 'set'    },
  { mode: 'insecure',  cert: 'none', action: 'keep'   },
  { mode: 'insecure',  cert: 'used', action: 'set'    },
] satisfies DialectRow<TraefikMode>[]);

export interface TraefikOptions {
  readonly pem: boolean;
  readonly info: boolean;
}

/**
 * The certificates Traefik reads (Go's tls.ConnectionState.PeerCertificates, what the client sent):
 * the leaf and the chain below a self-issued root. The edge knows the chain OpenSSL built, not the
 * one the client sent; a client that sends its root as well gets it left out here.
 */
function peerCertificates(chain: readonly X509Certificate[]): readonly X509Certificate[] {
  const last = chain[chain.length - 1];
  return chain.length > 1 && last !== undefined && last.subject === last.issuer && last.checkIssued(last) ? chain.slice(0, -1) : chain;
}

/** sanitize(): PEM without its BEGIN/END lines and newlines, i.e. the DER in base64; certificates joined with ",". */
function traefikPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => c.raw.toString('base64')).join(',');
}

/** Go's url.QueryEscape of UTF-8 bytes: unreserved kept, space as "+", the rest %XX (upper case). */
export function queryEscape(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) s += c;
    else if (b === 0x20) s += '+';
    else s += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return s;
}

const OID = { DC: '0.9.2342.19200300.100.1.25', C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', SN: '2.5.4.5', CN: '2.5.4.3' } as const;

/**
 * A Go string is bytes. The info is built as byte strings (one JS char per byte, latin1) so that a
 * value Go keeps as raw bytes stays raw: Go's x509 parser copies a T61String's bytes unconverted
 * (crypto/x509/parser.go, parseASN1String), so T61 "é" (0xE9) is escaped %E9, not %C3%A9.
 */
const goBytesOfText = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** Go's asn1 string decoding of an attribute value, as a byte string, or null when Go would not take it as a string. */
function goString(der: Buffer, start: number, end: number, tag: number): string | null {
  const bytes = der.subarray(start, end);
  switch (tag) {
    // UTF8String, PrintableString, IA5String, T61String: the bytes as they are.
    case 12: case 18: case 19: case 22: case 20: return bytes.toString('latin1');
    case 30: {
      let s = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i]! * 256 + bytes[i + 1]!);
      return goBytesOfText(s);
    }
    default: return null;
  }
}

/** (dotted OID, value) of every attribute of a DER Name, in order, string values only (pkix.Name.Names). */
function nameAttributes(nameDer: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (const { oid, value } of nameAttributeTlvs(nameDer)) {
    const text = value.cls === 0 ? goString(nameDer, value.start, value.end, value.tag) : null;
    if (text !== null) out.push([oid, text]);
  }
  return out;
}

/**
 * getSubjectDNInfo / getIssuerDNInfo with every option on: DC (in order), then C, ST, L, O, OU (every
 * value), then SN and CN (pkix.Name keeps the last of each). The issuer has no OU in Traefik.
 */
export function traefikDn(nameDer: Buffer, withOu: boolean): string {
  const attrs = nameAttributes(nameDer);
  const all = (oid: string, label: string): string[] => attrs.filter(([o, v]) => o === oid && v.length > 0).map(([, v]) => `${label}=${v}`);
  const last = (oid: string, label: string): string[] => {
    const values = attrs.filter(([o]) => o === oid);
    const v = values[values.length - 1]?.[1];
    return v ? [`${label}=${v}`] : [];
  };
  return [
    ...attrs.filter(([o]) => o === OID.DC).map(([, v]) => `DC=${v}`),
    ...all(OID.C, 'C'), ...all(OID.ST, 'ST'), ...all(OID.L, 'L'), ...all(OID.O, 'O'),
    ...(withOu ? all(OID.OU, 'OU') : []),
    ...last(OID.SN, 'SN'), ...last(OID.CN, 'CN'),
  ].join(',');
}

function unixSeconds(text: string): string {
  return String(Math.floor(Date.parse(text) / 1000));
}

/**
 * Go's net.IP String() of an IP SAN, from OpenSSL's text of it (Node's subjectAltName writes IPv6 as
 * eight upper-case groups, `0:0:0:0:0:FFFF:A01:203`): IPv4-mapped as dotted IPv4, other IPv6 in RFC
 * 5952 form (lower case, the first longest run of two or more zero groups as `::`).
 */
function goIpString(openssl: string): string {
  const groups = openssl.split(':').map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return openssl;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  let start = -1;
  let len = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > len) [start, len] = [i, j - i];
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  return start < 0 ? hex(groups) : `${hex(groups.slice(0, start))}::${hex(groups.slice(start + len))}`;
}

/** getCertInfo for one certificate: Subject, Issuer, SerialNumber, NB, NA, SAN, `;`-separated; a byte string (goBytesOfText). */
export function traefikCertInfo(cert: X509Certificate): string {
  const f = rawCertFields(cert.raw);
  const parts: string[] = [];
  const subject = traefikDn(f.subjectDer, true);
  if (subject) parts.push(`Subject="${subject}"`);
  const issuer = traefikDn(f.issuerDer, false);
  if (issuer) parts.push(`Issuer="${issuer}"`);
  parts.push(`SerialNumber="${BigInt('0x' + cert.serialNumber).toString(10)}"`);
  parts.push(`NB="${unixSeconds(cert.validFrom)}"`, `NA="${unixSeconds(cert.validTo)}"`);
  const sans = subjectAltNames(cert);
  const all = [...sans.dns, ...sans.email, ...sans.ip.map(goIpString), ...sans.uri];
  if (all.length > 0) parts.push(`SAN="${goBytesOfText(all.join(','))}"`);
  return parts.join(';');
}

export function traefikHeaderValues(facts: DialectCertFacts, opts: TraefikOptions): HeaderPair[] {
  const certs = peerCertificates(facts.chain.length > 0 ? facts.chain : [facts.leaf]);
  const out: HeaderPair[] = [];
  if (opts.pem) out.push([TRAEFIK_CERT_HEADER, traefikPem(certs)]);
  if (opts.info) out.push([TRAEFIK_INFO_HEADER, queryEscape(Buffer.from(certs.map(traefikCertInfo).join(','), 'latin1'))]);
  return out;
}
