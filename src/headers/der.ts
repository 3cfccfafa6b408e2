// A tiny DER/BER reader for the few structures the header code needs (Name, Time, SSL_SESSION).
// Why not re-encode through an ASN.1 library: the headers must carry the ORIGINAL bytes of a
// Name, and decode+encode can change them (string types, SET OF ordering). This reader only
// slices views into the input; it never copies or normalises.

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One TLV found at some offset of a buffer. `start`/`end` delimit the contents. */
export interface Tlv {
  /** Tag class bits (0x00 universal, 0x40 application, 0x80 context, 0xc0 private). */
  readonly cls: number;
  readonly constructed: boolean;
  /** Tag number (for universal: 2 INTEGER, 4 OCTET STRING, 6 OID, 16 SEQUENCE, 17 SET …). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly offset: number;
  readonly start: number;
  readonly end: number;
}

/** Reads the TLV at `offset`, which must lie fully inside `[offset, limit)`. Throws DerError. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  let p = offset;
  if (p >= limit) throw new DerError('truncated: no identifier');
  const id = buf[p++]!;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    // High tag number form: base-128 digits. Rare in certificates; supported so that an odd
    // attribute value does not make the whole Name unreadable.
    tag = 0;
    for (let n = 0; ; n++) {
      if (p >= limit || n > 4) throw new DerError('bad high tag number');
      const b = buf[p++]!;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new DerError('truncated: no length');
  let len = buf[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    // n === 0 is BER's indefinite length: not allowed in DER, and OpenSSL's X509 decoder would
    // already have needed definite lengths for the parts we read.
    if (n === 0 || n > 4) throw new DerError('unsupported length form');
    if (p + n > limit) throw new DerError('truncated: length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > limit) throw new DerError('truncated: contents');
  return { cls: id & 0xc0, constructed: (id & 0x20) !== 0, tag, offset, start: p, end };
}

/** Reads a universal-class TLV of the expected tag number, or throws. */
export function expectTlv(buf: Uint8Array, offset: number, limit: number, tag: number): Tlv {
  const t = readTlv(buf, offset, limit);
  if (t.cls !== 0 || t.tag !== tag) {
    throw new DerError(`expected universal tag ${tag}, found class ${t.cls} tag ${t.tag}`);
  }
  return t;
}

export const TAG_INTEGER = 2;
export const TAG_BIT_STRING = 3;
export const TAG_OCTET_STRING = 4;
export const TAG_OID = 6;
export const TAG_SEQUENCE = 16;
export const TAG_SET = 17;
export const TAG_UTC_TIME = 23;
export const TAG_GENERALIZED_TIME = 24;

/**
 * Dotted text of an OBJECT IDENTIFIER's contents, like OpenSSL's OBJ_obj2txt(…, 1).
 * Arcs beyond 2^53 are computed with BigInt so the text stays exact.
 */
/** OpenSSL's OBJ_obj2txt limit on an OID's DER contents. */
const MAX_OID_BYTES = 586;

export function oidToDotted(buf: Uint8Array, start: number, end: number): string {
  if (start >= end) throw new DerError('empty OID');
  // OpenSSL (3.0.9+, CVE-2023-2650) will not translate a longer one either: its text would cost
  // time quadratic in a sub-identifier's size, and no real attribute type is anywhere near.
  if (end - start > MAX_OID_BYTES) throw new DerError(`an OID longer than ${MAX_OID_BYTES} bytes`);
  let out = '';
  let first = true;
  let p = start;
  while (p < end) {
    // A sub-identifier may not start with 0x80 (non-minimal) — OpenSSL rejects such OIDs.
    if (buf[p] === 0x80) throw new DerError('non-minimal OID sub-identifier');
    // Find the sub-identifier's end first: up to 7 bytes (49 bits) fit a double; a longer one is
    // read as one BigInt from its bits, linear in its length (growing a BigInt 7 bits at a time is
    // quadratic: a 40 KB arc from a client took a quarter of a second).
    const from = p;
    while (p < end && (buf[p]! & 0x80) !== 0) p++;
    if (p >= end) throw new DerError('truncated OID');
    p++;
    let v = 0;
    let big: bigint | null = null;
    if (p - from <= 7) for (let i = from; i < p; i++) v = v * 128 + (buf[i]! & 0x7f);
    else {
      let bits = '0b';
      for (let i = from; i < p; i++) bits += (buf[i]! & 0x7f).toString(2).padStart(7, '0');
      big = BigInt(bits);
    }
    if (first) {
      first = false;
      if (big !== null) out = '2.' + (big - 80n).toString();
      else if (v < 40) out = '0.' + v;
      else if (v < 80) out = '1.' + (v - 40);
      else out = '2.' + (v - 80);
    } else {
      out += '.' + (big !== null ? big.toString() : String(v));
    }
  }
  return out;
}

/**
 * The attribute type-and-value pairs of a DER Name in DER order (RDNs flattened): the dotted OID and
 * the value's TLV, read lazily (a caller may stop after the first it needs).
 */
export function* nameAttributeTlvs(nameDer: Uint8Array): Generator<{ readonly oid: string; readonly value: Tlv }> {
  const name = expectTlv(nameDer, 0, nameDer.length, TAG_SEQUENCE);
  for (let p = name.start; p < name.end; ) {
    const rdn = expectTlv(nameDer, p, name.end, TAG_SET);
    for (let q = rdn.start; q < rdn.end; ) {
      const atv = expectTlv(nameDer, q, rdn.end, TAG_SEQUENCE);
      const oid = expectTlv(nameDer, atv.start, atv.end, TAG_OID);
      yield { oid: oidToDotted(nameDer, oid.start, oid.end), value: readTlv(nameDer, oid.end, atv.end) };
      q = atv.end;
    }
    p = rdn.end;
  }
}
