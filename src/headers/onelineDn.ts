// HAProxy's ssl_c_s_dn / ssl_c_i_dn / ssl_c_r_dn without arguments (ssl_sock_get_dn_oneline in
// HAProxy's src/ssl_utils.c): for every X509_NAME entry in order, "/" + OBJ_nid2sn(nid) (or the
// dotted OID when OpenSSL does not know it) + "=" + the ASN1_STRING's raw data. Unlike OpenSSL's
// own X509_NAME_oneline it does NOT escape anything or convert BMPString/UniversalString, which is
// why this module works on raw DER instead of any library's decoded view.
//
// The "raw data" is what OpenSSL's decoder stores in the entry's ASN1_STRING, so a few non-string
// encodings are mirrored here: SEQUENCE values keep their whole TLV, BIT STRING drops the
// unused-bits octet, constructed (BER) strings are concatenated.

import {
  DerError,
  TAG_BIT_STRING,
  TAG_SEQUENCE,
  nameAttributeTlvs,
  readTlv,
  type Tlv,
} from './der.js';
import { firstCommonName, type NameAttribute } from './commonName.js';
import { openSslShortName } from './opensslShortNames.js';

/** i2t_ASN1_OBJECT writes into a 128-byte buffer in HAProxy: longer dotted OIDs are cut. */
const HAPROXY_OID_TEXT_MAX = 127;

const SLASH = Buffer.from('/');
const EQUALS = Buffer.from('=');

/** OpenSSL short name for a dotted OID, else the (possibly truncated) dotted text. */
export function shortNameForOid(dotted: string): string {
  return openSslShortName(dotted) ?? dotted.slice(0, HAPROXY_OID_TEXT_MAX);
}

/** The bytes OpenSSL keeps as ASN1_STRING data for one attribute value (see file comment). */
function valueBytes(der: Uint8Array, v: Tlv): Buffer {
  const whole = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (v.cls === 0 && v.tag === TAG_SEQUENCE) return whole.subarray(v.offset, v.end);
  if (v.constructed) return Buffer.concat(collectPrimitive(der, v.start, v.end, 0));
  if (v.cls === 0 && v.tag === TAG_BIT_STRING) {
    if (v.end === v.start) throw new DerError('empty BIT STRING');
    const unused = der[v.start]!;
    if (unused > 7) throw new DerError('bad BIT STRING padding');
    const bits = Buffer.from(whole.subarray(v.start + 1, v.end));
    if (bits.length > 0) bits[bits.length - 1]! &= (0xff << unused) & 0xff;
    return bits;
  }
  return whole.subarray(v.start, v.end);
}

/** asn1_collect: the contents of all primitive pieces of a constructed string, in order. */
function collectPrimitive(der: Uint8Array, start: number, end: number, depth: number): Buffer[] {
  if (depth > 5) throw new DerError('constructed string nested too deeply');
  const parts: Buffer[] = [];
  for (let p = start; p < end; ) {
    const t = readTlv(der, p, end);
    if (t.constructed) parts.push(...collectPrimitive(der, t.start, t.end, depth + 1));
    else parts.push(Buffer.from(der.buffer, der.byteOffset + t.start, t.end - t.start));
    p = t.end;
  }
  return parts;
}

/**
 * The oneline DN bytes of a DER Name (`/C=DE/O=Ünï/CN=x`, raw value bytes). Empty Name → empty
 * buffer. Throws DerError on malformed DER (callers turn that into an empty header value).
 */
export function onelineDnBytes(nameDer: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (const [shortName, value] of derNameAttributes(nameDer)) parts.push(SLASH, Buffer.from(shortName, 'latin1'), EQUALS, value);
  return Buffer.concat(parts);
}

/** Raw value bytes of the first CN of a DER Name (see commonName.ts), or null when there is none. */
export function firstCnBytes(nameDer: Uint8Array): Buffer | null {
  return firstCommonName(derNameAttributes(nameDer));
}

/**
 * The attributes of a DER Name in DER order (RDNs flattened) as (short name, raw value bytes), read
 * lazily: firstCnBytes decodes nothing after the CN.
 */
function* derNameAttributes(nameDer: Uint8Array): Generator<NameAttribute<Buffer>> {
  for (const { oid, value } of nameAttributeTlvs(nameDer)) yield [shortNameForOid(oid), valueBytes(nameDer, value)];
}
