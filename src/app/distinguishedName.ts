// Distinguished names for the allow-list, compared as the certificate encodes them: a sequence of
// RDNs, each a set of (attribute type OID, value). The one-line text the edge writes
// (`/C=DE/O=x/CN=y`) cannot be compared: it escapes nothing, so a value holding `/CN=y` reads like
// another attribute. The allow-list's entries are RFC 4514 strings (`CN=y,O=x,C=DE`, what
// `openssl x509 -nameopt RFC2253` prints), parsed strictly when the middleware is made.
import { DerError, TAG_OID, TAG_SEQUENCE, TAG_SET, expectTlv, oidToDotted, readTlv, type Tlv } from '../headers/der.js';

const CN_OID = '2.5.4.3';

/** One attribute of a certificate's Name: its value as text when it is a string type that decodes cleanly, and its DER. */
interface CertAttribute {
  readonly oid: string;
  readonly text: string | null;
  /** Hex of the value's whole TLV (what RFC 4514's `#hex` form writes). */
  readonly derHex: string;
}
export type CertDn = readonly (readonly CertAttribute[])[];

/** One attribute of an allow-list entry: text, or `#hex` of the value's DER. */
interface WantedAttribute {
  readonly oid: string;
  readonly value: { readonly text: string } | { readonly derHex: string };
}
export type WantedDn = readonly (readonly WantedAttribute[])[];

// ignoreBOM: a leading U+FEFF is part of the name (a CA compares bytes); by default the decoder drops it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF16LE = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

const ascii = (b: Buffer): string | null => (b.every((x) => x < 0x80) ? b.toString('latin1') : null);

/** The value as text, as OpenSSL converts the string types to UTF-8; null for any other type or a value that does not decode. */
function valueText(der: Buffer, v: Tlv): string | null {
  if (v.cls !== 0 || v.constructed) return null;
  const b = der.subarray(v.start, v.end);
  try {
    switch (v.tag) {
      case 12: // UTF8String
        return UTF8.decode(b);
      case 18: // NumericString
      case 19: // PrintableString
      case 22: // IA5String
      case 26: // VisibleString
        return ascii(b);
      case 20: // TeletexString: OpenSSL reads it as Latin-1
        return b.toString('latin1');
      case 30: // BMPString: UTF-16BE
        return b.length % 2 === 0 ? UTF16LE.decode(Buffer.from(b).swap16()) : null;
      case 28: {
        // UniversalString: UTF-32BE
        if (b.length % 4 !== 0) return null;
        let s = '';
        for (let i = 0; i < b.length; i += 4) {
          const cp = b.readUInt32BE(i);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/** The RDNs of a DER Name in DER order. Throws DerError when it is malformed. */
export function certDn(nameDer: Buffer): CertDn {
  const name = expectTlv(nameDer, 0, nameDer.length, TAG_SEQUENCE);
  if (name.end !== nameDer.length) throw new DerError('bytes after the Name');
  const rdns: CertAttribute[][] = [];
  for (let p = name.start; p < name.end; ) {
    const set = expectTlv(nameDer, p, name.end, TAG_SET);
    const rdn: CertAttribute[] = [];
    for (let q = set.start; q < set.end; ) {
      const atv = expectTlv(nameDer, q, set.end, TAG_SEQUENCE);
      const oid = expectTlv(nameDer, atv.start, atv.end, TAG_OID);
      const value = readTlv(nameDer, oid.end, atv.end);
      if (value.end !== atv.end) throw new DerError('bytes after an attribute value');
      rdn.push({ oid: oidToDotted(nameDer, oid.start, oid.end), text: valueText(nameDer, value), derHex: nameDer.toString('hex', value.offset, value.end) });
      q = atv.end;
    }
    if (rdn.length === 0) throw new DerError('empty RDN');
    rdns.push(rdn);
    p = set.end;
  }
  return rdns;
}

/**
 * The subject's CN when it has exactly one, else why not. Certificates with several CNs are read
 * differently by different software (OpenSSL and HAProxy take the first, Go the last), so an
 * allow-list by CN refuses them.
 */
export function soleCommonName(dn: CertDn): { readonly cn: string } | { readonly refusal: string } {
  const cns = dn.flat().filter((a) => a.oid === CN_OID);
  if (cns.length !== 1) return { refusal: `the client certificate subject has ${cns.length} common names (commonNames needs exactly one)` };
  const text = cns[0]!.text;
  return text === null ? { refusal: 'the client certificate common name is not text' } : { cn: text };
}

function attributeMatches(w: WantedAttribute, c: CertAttribute): boolean {
  if (w.oid !== c.oid) return false;
  return 'text' in w.value ? c.text === w.value.text : c.derHex === w.value.derHex;
}

/** Same RDNs in the same order; inside one RDN (a SET) the attributes in any order. */
export function dnMatches(wanted: WantedDn, cert: CertDn): boolean {
  if (wanted.length !== cert.length) return false;
  return wanted.every((wRdn, i) => {
    const cRdn = cert[i]!;
    if (wRdn.length !== cRdn.length) return false;
    const used = new Set<number>();
    return wRdn.every((w) => {
      const j = cRdn.findIndex((c, k) => !used.has(k) && attributeMatches(w, c));
      if (j < 0) return false;
      used.add(j);
      return true;
    });
  });
}

/**
 * The names RFC 4514 defines, and a few more OpenSSL prints with -nameopt RFC2253; any other type
 * is written as its dotted OID. Case does not matter (RFC 4514 §3), which is why the table is not
 * OpenSSL's: there `UID` and `uid` are different attributes.
 */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  cn: CN_OID, l: '2.5.4.7', st: '2.5.4.8', o: '2.5.4.10', ou: '2.5.4.11', c: '2.5.4.6', street: '2.5.4.9',
  dc: '0.9.2342.19200300.100.1.25', uid: '0.9.2342.19200300.100.1.1', serialnumber: '2.5.4.5', sn: '2.5.4.4',
  gn: '2.5.4.42', title: '2.5.4.12', postalcode: '2.5.4.17', organizationidentifier: '2.5.4.97',
  emailaddress: '1.2.840.113549.1.9.1',
};

const DOTTED_OID = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/;
/** Characters RFC 4514 lets a backslash escape by themselves. */
const ESCAPABLE = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
/** Characters a value must not hold unescaped (`,` and `+` end it). */
const MUST_ESCAPE = new Set(['"', ';', '<', '>']);
const HEX2 = /^[0-9A-Fa-f]{2}$/;

/**
 * An RFC 4514 DN (`CN=dev-client,OU=clients,O=mtls-edge dev,C=DE`, most specific RDN first) as RDNs
 * in DER order. Strict: anything RFC 4514 does not allow throws a TypeError that says what, so an
 * allow-list entry is never read differently from what was meant. Spaces before a type are skipped
 * (`CN=a, O=b`); a space at either end of a value must be escaped (`\ `).
 */
export function parseRfc4514(dn: string, what: string): WantedDn {
  const fail = (why: string): never => {
    throw new TypeError(`${what}: ${why} (expected an RFC 4514 DN such as 'CN=dev-client,OU=clients,O=mtls-edge dev,C=DE')`);
  };
  if (dn.length === 0) fail('empty');
  if (dn.startsWith('/')) fail('a one-line DN (/C=…/CN=…) is ambiguous and not accepted; write it as RFC 4514, most specific first');
  const rdns: WantedAttribute[][] = [];
  let rdn: WantedAttribute[] = [];
  let i = 0;
  for (;;) {
    while (dn[i] === ' ') i++;
    const eq = dn.indexOf('=', i);
    if (eq < 0) fail(`no '=' after position ${i}`);
    const type = dn.slice(i, eq).trimEnd();
    let oid: string;
    if (DOTTED_OID.test(type)) oid = type;
    else if (Object.hasOwn(TYPE_NAMES, type.toLowerCase())) oid = TYPE_NAMES[type.toLowerCase()]!;
    else oid = fail(`unknown attribute type '${type.slice(0, 40)}': write it as a dotted OID (e.g. 2.5.4.97=…)`);
    i = eq + 1;
    let value: WantedAttribute['value'];
    if (dn[i] === '#') {
      const m = /^#((?:[0-9A-Fa-f]{2})+)/.exec(dn.slice(i));
      if (!m) fail(`the #hex value of ${type} is not an even number of hex digits`);
      value = { derHex: m![1]!.toLowerCase() };
      i += m![0].length;
    } else {
      const bytes: number[] = [];
      const start = i;
      let lastEscaped = false;
      while (i < dn.length && dn[i] !== ',' && dn[i] !== '+') {
        const ch = dn[i]!;
        if (ch === '\\') {
          const pair = dn.slice(i + 1, i + 3);
          if (HEX2.test(pair)) {
            bytes.push(parseInt(pair, 16));
            i += 3;
          } else if (ESCAPABLE.has(dn[i + 1] ?? '')) {
            bytes.push(dn.charCodeAt(i + 1));
            i += 2;
          } else fail(`a backslash in the value of ${type} escapes neither a special character nor two hex digits`);
          lastEscaped = true;
          continue;
        }
        if (MUST_ESCAPE.has(ch)) fail(`'${ch}' in the value of ${type} must be escaped as \\${ch}`);
        if (ch === ' ' && i === start) fail(`the value of ${type} starts with a space: escape it (\\ ) or remove it`);
        const cp = dn.codePointAt(i)!;
        bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
        i += cp > 0xffff ? 2 : 1;
        lastEscaped = false;
      }
      if (i > start && dn[i - 1] === ' ' && !lastEscaped) fail(`the value of ${type} ends with a space: escape it (\\ ) or remove it`);
      let text = '';
      try {
        text = UTF8.decode(Uint8Array.from(bytes));
      } catch {
        fail(`the value of ${type} is not UTF-8 once its \\hex escapes are decoded`);
      }
      value = { text };
    }
    rdn.push({ oid, value });
    if (i >= dn.length) break;
    if (dn[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    } else if (dn[i] !== '+') fail(`unexpected '${dn[i]}' after the value of ${type}`);
    i++;
    if (i >= dn.length) fail(`it ends with '${dn[i - 1]}'`);
  }
  rdns.push(rdn);
  return rdns.reverse();
}
