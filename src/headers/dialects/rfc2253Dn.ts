// OpenSSL's X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) from a DER Name: what nginx's
// $ssl_client_s_dn / $ssl_client_i_dn (since nginx 1.11.6) and Envoy's XFCC `Subject` (BoringSSL,
// same a_strex.c rules) carry. Read from raw DER, as onelineDn.ts, because the escaping works on the
// value's string type and bytes, which no decoded view keeps.
//
// The rules (crypto/asn1/a_strex.c, crypto/x509/x509_obj.c):
//   - RDNs last to first, "," between RDNs, "+" between the members of a multi-valued RDN
//     (XN_FLAG_DN_REV | XN_FLAG_SEP_COMMA_PLUS), no spaces;
//   - attribute name: OpenSSL short name, else the dotted OID (XN_FLAG_FN_SN);
//   - an attribute OpenSSL does not know, or a value of a type outside the string table, is
//     written as "#" + hex of its whole DER (XN_FLAG_DUMP_UNKNOWN_FIELDS, ASN1_STRFLGS_DUMP_*);
//   - string values are converted to UTF-8, then: `,+"\<>;` get a backslash, as do a leading
//     "#" or space and a trailing space; control bytes and every byte >= 0x80 become `\XX`.
import { DerError, TAG_OID, TAG_SEQUENCE, TAG_SET, expectTlv, oidToDotted, readTlv } from '../der.js';
import { openSslShortName } from '../opensslShortNames.js';

/** tag2nbyte of a_strex.c: bytes per character of the string types OpenSSL prints; absent = dumped. */
const CHAR_WIDTH: ReadonlyMap<number, 0 | 1 | 2 | 4> = new Map([
  [12, 0], // UTF8String (0 = UTF-8 decoded)
  [18, 1], [19, 1], [20, 1], [22, 1], [23, 1], [24, 1], [26, 1],
  [28, 4], // UniversalString
  [30, 2], // BMPString
]);

const HEX = '0123456789ABCDEF';
const SPECIAL = new Set([0x2c, 0x2b, 0x22, 0x5c, 0x3c, 0x3e, 0x3b]); // , + " \ < > ;

/** Code points of a string value, or null when its bytes are not valid for the type (OpenSSL errors). */
function codePoints(bytes: Uint8Array, width: 0 | 1 | 2 | 4): number[] | null {
  const out: number[] = [];
  if (width === 1) {
    for (const b of bytes) out.push(b);
    return out;
  }
  if (width === 2 || width === 4) {
    if (bytes.length % width !== 0) return null;
    for (let i = 0; i < bytes.length; i += width) {
      let c = 0;
      for (let j = 0; j < width; j++) c = c * 256 + bytes[i + j]!;
      out.push(c);
    }
    return out;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
  for (const ch of text) out.push(ch.codePointAt(0)!);
  return out;
}

function hexByte(b: number): string {
  return '\\' + HEX[b >> 4] + HEX[b & 0x0f];
}

function escapeValue(chars: readonly number[]): string {
  let s = '';
  const utf8 = Buffer.from(String.fromCodePoint(...chars), 'utf8');
  // First/last refer to characters, but a multi-byte character is escaped byte-wise anyway.
  for (let i = 0; i < utf8.length; i++) {
    const b = utf8[i]!;
    if (b >= 0x80 || b < 0x20 || b === 0x7f) s += hexByte(b);
    else if (SPECIAL.has(b) || (i === 0 && (b === 0x20 || b === 0x23)) || (i === utf8.length - 1 && b === 0x20)) s += '\\' + String.fromCharCode(b);
    else s += String.fromCharCode(b);
  }
  return s;
}

function dumpDer(der: Uint8Array, from: number, to: number): string {
  return '#' + Buffer.from(der.buffer, der.byteOffset + from, to - from).toString('hex').toUpperCase();
}

/** The RFC 2253 text of a DER Name; '' for an empty Name. Throws DerError on malformed DER or a bad string. */
export function rfc2253Dn(nameDer: Uint8Array): string {
  const name = expectTlv(nameDer, 0, nameDer.length, TAG_SEQUENCE);
  const entries: { rdn: number; text: string }[] = [];
  let rdnIndex = 0;
  for (let p = name.start; p < name.end; rdnIndex++) {
    const rdn = expectTlv(nameDer, p, name.end, TAG_SET);
    for (let q = rdn.start; q < rdn.end; ) {
      const atv = expectTlv(nameDer, q, rdn.end, TAG_SEQUENCE);
      const oid = expectTlv(nameDer, atv.start, atv.end, TAG_OID);
      const dotted = oidToDotted(nameDer, oid.start, oid.end);
      const short = openSslShortName(dotted);
      const value = readTlv(nameDer, oid.end, atv.end);
      const width = value.cls === 0 && !value.constructed ? CHAR_WIDTH.get(value.tag) : undefined;
      let text: string;
      if (short === undefined || width === undefined) {
        text = dumpDer(nameDer, value.offset, value.end);
      } else {
        const chars = codePoints(nameDer.subarray(value.start, value.end), width);
        if (chars === null) throw new DerError(`attribute ${short}: invalid string bytes`);
        text = escapeValue(chars);
      }
      entries.push({ rdn: rdnIndex, text: `${short ?? dotted}=${text}` });
      q = atv.end;
    }
    p = rdn.end;
  }
  let out = '';
  for (let i = entries.length - 1; i >= 0; i--) {
    if (i < entries.length - 1) out += entries[i + 1]!.rdn === entries[i]!.rdn ? '+' : ',';
    out += entries[i]!.text;
  }
  return out;
}
