// Distinguished names as data: a list of RDNs in DER order, each RDN a list of (short name, value)
// pairs; more than one pair makes a multi-valued RDN (`OU=a+OU=b`).
import { OID, type NameSpec, type StringType } from './certBuilder.js';
type Rdn = ReadonlyArray<readonly [attr: string, value: string]>;
export type Subject = readonly Rdn[];

/** Renders a subject as openssl's `-subj` argument, escaping the characters its parser treats specially. */
export function toOpensslSubj(subject: Subject): string {
  if (subject.length === 0) return '/';
  const esc = (v: string): string => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return subject.map((rdn) => '/' + rdn.map(([a, v]) => `${a}=${esc(v)}`).join('+')).join('');
}

/**
 * Parses the user-facing `/C=DE/O=Acme/CN=x` or `CN=x,O=Acme,C=DE` (RFC 2253, most-specific first)
 * forms. The slash form keeps its order; the comma form is reversed into DER order.
 */
export function parseSubject(text: string): Subject {
  const trimmed = text.trim();
  if (trimmed.startsWith('/')) {
    return splitUnescaped(trimmed.slice(1), '/').filter((s) => s.length > 0).map(parseRdn);
  }
  return splitUnescaped(trimmed, ',').map((s) => s.trim()).filter((s) => s.length > 0).map(parseRdn).reverse();
}

function parseRdn(text: string): Rdn {
  return splitUnescaped(text, '+').map((pair) => {
    const eq = indexOfUnescaped(pair, '=');
    if (eq <= 0) throw new Error(`"${pair}" is not of the form NAME=value`);
    return [pair.slice(0, eq).trim(), unescape(pair.slice(eq + 1))] as const;
  });
}

function splitUnescaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function indexOfUnescaped(text: string, ch: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ch) return i;
  }
  return -1;
}

const unescape = (v: string): string => v.replace(/\\(.)/g, '$1');

/**
 * How non-fixed attributes are typed, as OpenSSL's `string_mask`: `utf8only` writes UTF8String,
 * `pkix` the smallest of PrintableString, BMPString, UTF8String that holds the value.
 */
export type StringMask = 'utf8only' | 'pkix';

/** Attributes whose type is fixed whatever the mask (OpenSSL's ASN1_STRING_TABLE, STABLE_NO_MASK). */
const FIXED_TYPE: Record<string, StringType> = { C: 'printable', serialNumber: 'printable', emailAddress: 'ia5', DC: 'ia5' };
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

class SubjectError extends Error {}

/** The subject as a certBuilder Name, as `openssl req -subj … -utf8` with `string_mask` writes it. */
export function toNameSpec(subject: Subject, mask: StringMask = 'utf8only'): NameSpec {
  // `-subj "/O=acme/CN="` leaves an attribute without a value out; an RDN left empty goes with it.
  const given = subject.map((rdn) => rdn.filter(([, value]) => value !== '')).filter((rdn) => rdn.length > 0);
  return given.map((rdn) => rdn.map(([attr, value]) => {
    const oid = (OID as Record<string, string>)[attr];
    if (oid === undefined || attr === 'clientAuth' || attr === 'serverAuth') {
      throw new SubjectError(`unknown subject attribute "${attr}": use C, ST, L, O, OU, CN, serialNumber, emailAddress, DC or UID`);
    }
    const fixed = FIXED_TYPE[attr];
    const stringType: StringType = fixed ?? (mask === 'utf8only' ? 'utf8'
      : PRINTABLE.test(value) ? 'printable' : [...value].every((c) => c.codePointAt(0)! < 0x10000) ? 'bmp' : 'utf8');
    return { oid, stringType, value };
  }));
}
