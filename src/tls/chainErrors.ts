// Every verify error OpenSSL 3 meets for a client certificate, with its depth. Node's TLS server
// reports only the LAST one (its verify callback accepts everything), but HAProxy's verify callback
// is called for EACH error (ssl_sock_bind_verifycbk): at depth 0 it must be in crt-ignore-err, at
// depth > 0 in ca-ignore-err, else the handshake fails. An ignore list may therefore be applied only
// to the whole list, rebuilt here in OpenSSL's order (crypto/x509/x509_vfy.c, verify_chain):
//   build_chain       → 18 / 19 / 2 / 20 at the top of the chain when it ends untrusted
//   (before the chain)  66 leaf key below the security level (EE_KEY_TOO_SMALL)
//   check_extensions  → 79 CA flag (INVALID_CA; 24 in OpenSSL 1.1), 26 purpose (ssl_client), 25 pathLen
//   check_auth_level  → 67 CA key, 68 signature hash below the security level (not the anchor's)
//   check_revocation  → per certificate, with CRLs configured: 3, 35, 11, 12, 8, 23
//   internal_verify   → top down: 21, 32 issuer keyUsage, 7 signature, 9 / 10 validity
// Whatever this model does not evaluate (name constraints, policies, proxy certificates, indirect or
// delta CRLs, ambiguous issuers, unparseable input, an exception) makes the result `uncomputable`,
// which only `all` accepts; an unhandled critical extension (34) is `refused` outright, as real
// HAProxy refuses it even under `all`. The function is total: it never throws.
import { verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificateList,
  CRLReason,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  type Extension,
  type Time,
} from '@peculiar/asn1-x509';

export interface ChainError {
  readonly code: number;
  /** 0 = the client certificate, 1 = its issuer, … (OpenSSL's error depth). */
  readonly depth: number;
}

export type ChainErrors =
  | { readonly kind: 'computed'; readonly errors: readonly ChainError[] }
  | { readonly kind: 'uncomputable'; readonly reason: string }
  /** HAProxy refuses it whatever its ignore lists say (seen with real HAProxy, even under `all`). */
  | { readonly kind: 'refused'; readonly reason: string };

/** A CRL of the TLS configuration, parsed once (parseCrls). */
interface ParsedCrl {
  readonly issuer: string;
  readonly akidKeyId: string | null;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  /** Revoked serial numbers (decimal text of the signed integer). */
  readonly revoked: ReadonlySet<string>;
  readonly tbs: Buffer;
  readonly signature: Buffer;
  readonly signatureKeyType: KeyType;
  readonly hash: string | null;
  /** The outer and inner signature algorithms differ (OpenSSL then fails the signature). */
  readonly algorithmMismatch: boolean;
  /** Why this model cannot use this CRL (IDP, delta, critical extension, indirect entry…), or null. */
  readonly unsupported: string | null;
}

/** The CRL configuration: null = CRL checking off; `unparseable` = a CRL this model cannot read. */
export type CrlSet = { readonly crls: readonly ParsedCrl[]; readonly unparseable: string | null } | null;

export interface ChainInput {
  readonly leaf: X509Certificate;
  /** Every certificate the client sent (the leaf may be among them). */
  readonly sent: readonly X509Certificate[];
  readonly trust: readonly X509Certificate[];
  readonly crls: CrlSet;
  readonly now: number;
}

class Uncomputable extends Error {}
class AlwaysRefused extends Error {}

const fail = (reason: string): never => {
  throw new Uncomputable(reason);
};

type KeyType = 'rsa' | 'ec' | 'ed25519' | 'ed448';

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  skid: '2.5.29.14',
  akid: '2.5.29.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  crlReason: '2.5.29.21',
} as const;

/** Critical extensions OpenSSL 3 handles (X509_supported_extension); any other critical one is 34. */
const SUPPORTED_CRITICAL = new Set([
  '2.16.840.1.113730.1.1', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.32', '2.5.29.31', '2.5.29.37',
  '1.3.6.1.5.5.7.1.7', '1.3.6.1.5.5.7.1.8', '1.3.6.1.5.5.7.48.1.5', '2.5.29.36', '1.3.6.1.5.5.7.1.14',
  '2.5.29.30', '2.5.29.33', '2.5.29.54',
]);

/** Extensions OpenSSL evaluates in ways this model does not: their presence makes the result uncomputable. */
const NOT_EVALUATED: ReadonlyMap<string, string> = new Map([
  ['2.5.29.30', 'name constraints'],
  ['2.5.29.36', 'policy constraints'],
  ['2.5.29.33', 'policy mappings'],
  ['2.5.29.54', 'inhibit any policy'],
  ['1.3.6.1.5.5.7.1.14', 'proxy certificate'],
  ['2.16.840.1.113730.1.1', 'Netscape certificate type'],
  ['1.3.6.1.5.5.7.1.7', 'RFC 3779 IP address blocks'],
  ['1.3.6.1.5.5.7.1.8', 'RFC 3779 AS identifiers'],
]);

const SIGNATURE_KEY_TYPE: ReadonlyMap<string, { key: KeyType; hash: string | null }> = new Map([
  ['1.2.840.113549.1.1.5', { key: 'rsa', hash: 'sha1' }],
  ['1.2.840.113549.1.1.11', { key: 'rsa', hash: 'sha256' }],
  ['1.2.840.113549.1.1.12', { key: 'rsa', hash: 'sha384' }],
  ['1.2.840.113549.1.1.13', { key: 'rsa', hash: 'sha512' }],
  ['1.2.840.113549.1.1.14', { key: 'rsa', hash: 'sha224' }],
  ['1.2.840.10045.4.1', { key: 'ec', hash: 'sha1' }],
  ['1.2.840.10045.4.3.1', { key: 'ec', hash: 'sha224' }],
  ['1.2.840.10045.4.3.2', { key: 'ec', hash: 'sha256' }],
  ['1.2.840.10045.4.3.3', { key: 'ec', hash: 'sha384' }],
  ['1.2.840.10045.4.3.4', { key: 'ec', hash: 'sha512' }],
  ['1.3.101.112', { key: 'ed25519', hash: null }],
  ['1.3.101.113', { key: 'ed448', hash: null }],
]);

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

/** A DER INTEGER's content bytes as a signed decimal string (serials compare by value). */
function integerText(b: ArrayBuffer): string {
  const bytes = new Uint8Array(b);
  if (bytes.length === 0) fail('empty serial number');
  let v = 0n;
  for (const x of bytes) v = (v << 8n) | BigInt(x);
  if (bytes[0]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v.toString();
}

function timeOf(t: Time): number {
  const ms = t.getTime().getTime();
  if (!Number.isFinite(ms)) fail('unreadable time');
  return ms;
}

interface Cert {
  readonly x509: X509Certificate;
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  /** The names as OpenSSL's canonical comparison sees them (canonicalName). */
  readonly foldedSubject: string;
  readonly foldedIssuer: string;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly v1: boolean;
  readonly signatureKeyType: KeyType;
  readonly keyType: KeyType;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number } | null;
  readonly keyUsage: number | null;
  readonly extKeyUsage: readonly string[] | null;
  readonly skid: string | null;
  readonly akidKeyId: string | null;
  /** Security bits of the public key and of the signature's hash (OpenSSL's EVP_PKEY_get_security_bits / sig info). */
  readonly keyBits: number;
  readonly sigBits: number;
}

/**
 * The TLS security level's minimum (level 2: 112 bits). Debian's and Ubuntu's OpenSSL configuration
 * (`CipherString = DEFAULT:@SECLEVEL=2`) puts HAProxy there; the edge sets the same level
 * (tlsProfiles.ts), so OpenSSL reports 66/67/68 for weaker keys and hashes to both.
 */
const AUTH_LEVEL_BITS = 112;

/** Certificates a chain may have here: OpenSSL's default verify depth (100) plus the leaf and the anchor. */
export const MAX_CHAIN = 102;

/** BN_security_bits for RSA; EC by the curve's order size; Ed25519 128, Ed448 224. */
function keyBitsOf(x509: X509Certificate, type: KeyType): number {
  const d = x509.publicKey.asymmetricKeyDetails ?? {};
  if (type === 'ed25519') return 128;
  if (type === 'ed448') return 224;
  if (type === 'ec') return EC_CURVE_BITS.get(d.namedCurve ?? '') ?? fail(`EC curve ${d.namedCurve ?? 'unknown'} not modelled`);
  const n = d.modulusLength ?? fail('RSA key without a modulus length');
  return n >= 15360 ? 256 : n >= 7680 ? 192 : n >= 3072 ? 128 : n >= 2048 ? 112 : n >= 1024 ? 80 : 0;
}
const EC_CURVE_BITS: ReadonlyMap<string, number> = new Map([
  ['prime256v1', 128], ['secp256k1', 128], ['secp384r1', 192], ['secp521r1', 256], ['secp224r1', 112], ['prime192v1', 80],
]);
/** OpenSSL 3.0 gives SHA-1 63 bits; Ed25519/Ed448 signatures (no separate hash) their curve's. */
const HASH_BITS: ReadonlyMap<string, number> = new Map([['sha1', 63], ['sha224', 112], ['sha256', 128], ['sha384', 192], ['sha512', 256]]);

/** Node's escapes in a name's text: `\XX` (a byte in hex: control characters) and `\c` (RFC 2253 specials, a leading or trailing space). */
const NAME_ESCAPE = /\\([0-9A-Fa-f]{2}|.)/g;

function canonicalEntry(entry: string): string {
  const eq = entry.indexOf('=');
  const value = entry.slice(eq + 1).replace(NAME_ESCAPE, (_, e: string) => (e.length === 2 ? String.fromCharCode(parseInt(e, 16)) : e));
  return `${entry.slice(0, eq + 1).toLowerCase()}${value.toLowerCase().replace(/\s+/g, ' ').trim()}`;
}

/**
 * A name as OpenSSL's X509_NAME_cmp compares it (x509_name_canon: per attribute, the value
 * lower-cased, leading and trailing whitespace removed and inner runs made one space, the entries of
 * a multi-valued RDN in one order), from Node's text of the name with its escapes undone (a leading
 * space is `\ `, a tab `\09`). Two names OpenSSL finds equal are equal here; where this is coarser
 * (Unicode case and spaces), namesMatch errs on the side of refusing. Node reports an empty name as
 * undefined (its typings say string).
 */
function canonicalName(text: string | undefined): string {
  if (!text) return '';
  return text
    .split('\n')
    .map((rdn) => rdn.split(/(?<!\\) \+ /).map(canonicalEntry).sort().join('+'))
    .join('\n');
}

function keyTypeOf(x509: X509Certificate): KeyType {
  const key = x509.publicKey;
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'ed25519' || type === 'ed448') return type;
  if (type === 'ec') {
    // Explicit curve parameters are an error OpenSSL reports (check_curve); a named curve is not.
    if (!key.asymmetricKeyDetails?.namedCurve) fail('EC key without a named curve');
    return 'ec';
  }
  return fail(`unsupported public key type ${type ?? 'unknown'}`);
}

function decodeExtension<T>(e: Extension, type: new () => T): T {
  return AsnConvert.parse(e.extnValue.buffer, type);
}

/**
 * Parsed certificates by SHA-256 fingerprint, failures too (a parse depends on the DER alone): a
 * client that retries the same refused certificate costs no parse. First in, first out, bounded.
 */
const parsedByFingerprint = new Map<string, Cert | Error>();
const PARSED_KEPT = 256;

function parsedCert(x509: X509Certificate, fingerprint: string = x509.fingerprint256): Cert {
  let parsed = parsedByFingerprint.get(fingerprint);
  if (parsed === undefined) {
    try {
      // Kept unlinked: the certificate as Node gave it holds the whole chain the client sent.
      parsed = parseCert(new X509Certificate(x509.raw));
    } catch (e) {
      parsed = e instanceof Error ? e : new Error(String(e));
    }
    if (parsedByFingerprint.size >= PARSED_KEPT) parsedByFingerprint.delete(parsedByFingerprint.keys().next().value!);
    parsedByFingerprint.set(fingerprint, parsed);
  }
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

/**
 * A certificate the client sent, not parsed yet. OpenSSL's build_chain compares names before it
 * looks at anything else of a candidate issuer (ossl_x509_likely_issued: X509_NAME_cmp, then the
 * extensions), so a sent certificate whose subject is no chain member's issuer is never read, by
 * OpenSSL nor here: a client sending a hundred unrelated certificates costs a name comparison each.
 */
interface SentCert {
  readonly x509: X509Certificate;
  readonly fingerprint: string;
  readonly foldedSubject: string;
}

function sentCert(x509: X509Certificate): SentCert {
  return { x509, fingerprint: x509.fingerprint256, foldedSubject: canonicalName(x509.subject) };
}

function parseCert(x509: X509Certificate): Cert {
  const cert = AsnConvert.parse(x509.raw, Certificate);
  const tbs = cert.tbsCertificate;
  const sig = SIGNATURE_KEY_TYPE.get(cert.signatureAlgorithm.algorithm) ?? fail(`unsupported signature algorithm ${cert.signatureAlgorithm.algorithm}`);
  let basicConstraints: Cert['basicConstraints'] = null;
  let keyUsage: number | null = null;
  let extKeyUsage: string[] | null = null;
  let skid: string | null = null;
  let akidKeyId: string | null = null;
  const seen = new Set<string>();
  for (const e of tbs.extensions ?? []) {
    if (seen.has(e.extnID)) fail(`duplicate extension ${e.extnID}`);
    seen.add(e.extnID);
    const notEvaluated = NOT_EVALUATED.get(e.extnID);
    if (notEvaluated) fail(`${notEvaluated} extension not evaluated`);
    // OpenSSL's verify reports 34 for it, yet real HAProxy (2.6 and 3.2) refuses such a client
    // certificate even with `all` ignored at both depths (differential test): never accepted.
    if (e.critical && !SUPPORTED_CRITICAL.has(e.extnID)) throw new AlwaysRefused(`unhandled critical extension ${e.extnID} (34)`);
    switch (e.extnID) {
      case OID.basicConstraints: {
        const bc = decodeExtension(e, BasicConstraints);
        const pathLen = bc.pathLenConstraint ?? -1;
        if (!Number.isSafeInteger(pathLen) || pathLen < -1 || (bc.pathLenConstraint !== undefined && pathLen < 0)) fail('invalid pathLenConstraint');
        basicConstraints = { ca: bc.cA === true, pathLen };
        break;
      }
      case OID.keyUsage:
        keyUsage = decodeExtension(e, KeyUsage).toNumber();
        break;
      case OID.extKeyUsage:
        extKeyUsage = [...decodeExtension(e, ExtendedKeyUsage)];
        break;
      case OID.skid:
        skid = hex(decodeExtension(e, SubjectKeyIdentifier).buffer);
        break;
      case OID.akid: {
        const akid = decodeExtension(e, AuthorityKeyIdentifier);
        if (akid.authorityCertIssuer || akid.authorityCertSerialNumber) fail('authority key identifier with issuer and serial');
        akidKeyId = akid.keyIdentifier ? hex(akid.keyIdentifier.buffer) : null;
        break;
      }
    }
  }
  const subject = hex(AsnConvert.serialize(tbs.subject));
  const issuer = hex(AsnConvert.serialize(tbs.issuer));
  const keyType = keyTypeOf(x509);
  return {
    x509,
    fingerprint: x509.fingerprint256,
    subject,
    issuer,
    foldedSubject: canonicalName(x509.subject),
    foldedIssuer: canonicalName(x509.issuer),
    serial: integerText(tbs.serialNumber),
    notBefore: timeOf(tbs.validity.notBefore),
    notAfter: timeOf(tbs.validity.notAfter),
    v1: tbs.version === 0,
    signatureKeyType: sig.key,
    keyType,
    keyBits: keyBitsOf(x509, keyType),
    sigBits: sig.hash === null ? (sig.key === 'ed448' ? 224 : 128) : (HASH_BITS.get(sig.hash) ?? fail(`hash ${sig.hash} not modelled`)),
    basicConstraints,
    keyUsage,
    extKeyUsage,
    skid,
    akidKeyId,
  };
}

/** OpenSSL's X509_NAME_cmp compares canonical names; DER equality is certain, canonical-only equality is not modelled. */
function namesMatch(derA: string, foldedA: string, derB: string, foldedB: string): boolean {
  if (derA === derB) return true;
  if (foldedA === foldedB) fail("names equal only after OpenSSL's canonical folding (case, spaces, string type)");
  return false;
}

/** ossl_x509_likely_issued: names, authority key identifier, signature algorithm vs issuer key type. */
function likelyIssued(issuer: Cert, subject: Cert): boolean {
  if (!namesMatch(issuer.subject, issuer.foldedSubject, subject.issuer, subject.foldedIssuer)) return false;
  if (subject.akidKeyId !== null && issuer.skid !== null && subject.akidKeyId !== issuer.skid) return false;
  return subject.signatureKeyType === issuer.keyType;
}

const selfIssued = (c: Cert): boolean => namesMatch(c.subject, c.foldedSubject, c.issuer, c.foldedIssuer);
const selfSigned = (c: Cert): boolean => likelyIssued(c, c);

/** The one issuer among candidates (deduplicated by fingerprint); several different ones are not modelled. */
function oneIssuer(candidates: readonly Cert[], subject: Cert): Cert | null {
  const found = new Map<string, Cert>();
  for (const c of candidates) if (likelyIssued(c, subject)) found.set(c.fingerprint, c);
  if (found.size > 1) fail('several candidate issuers');
  return found.values().next().value ?? null;
}

interface BuiltChain {
  readonly chain: readonly Cert[];
  readonly trusted: boolean;
  readonly numUntrusted: number;
}

/** build_chain with X509_V_FLAG_TRUSTED_FIRST (OpenSSL's default), no partial chains, no DANE. */
function buildChain(leaf: Cert, sent: readonly SentCert[], trust: readonly Cert[]): BuiltChain {
  const chain: Cert[] = [leaf];
  let numUntrusted = 1;
  let searchUntrusted = true;
  const pool = new Map<string, SentCert>();
  for (const c of sent) if (c.fingerprint !== leaf.fingerprint) pool.set(c.fingerprint, c);
  // OpenSSL's default verify depth is 100: a longer chain is not modelled.
  for (let guard = 0; guard < MAX_CHAIN; guard++) {
    const top = chain[chain.length - 1]!;
    const ss = selfSigned(top);
    const trusted = oneIssuer(trust, top);
    if (trusted) {
      if (!ss) {
        chain.push(trusted);
        searchUntrusted = false;
        // check_trust: a trust-store certificate makes the chain trusted when it is self-signed.
        if (selfSigned(trusted)) return { chain, trusted: true, numUntrusted };
        continue;
      }
      if (chain.length === numUntrusted && trusted.fingerprint === top.fingerprint) {
        chain[chain.length - 1] = trusted;
        numUntrusted--;
        return { chain, trusted: true, numUntrusted };
      }
      // A self-signed look-alike of a trust anchor: never trusted (and no untrusted issuer either).
      return { chain, trusted: false, numUntrusted };
    }
    if (!searchUntrusted || ss) return { chain, trusted: false, numUntrusted };
    const inChain = new Set(chain.map((c) => c.fingerprint));
    const allowSelf = chain.length === 1 && selfIssued(top);
    // Only a certificate whose subject folds to the top's issuer can match it or make the names ambiguous (namesMatch).
    const candidates: Cert[] = [];
    for (const c of pool.values()) {
      if (c.foldedSubject === top.foldedIssuer && (allowSelf || !inChain.has(c.fingerprint))) candidates.push(parsedCert(c.x509, c.fingerprint));
    }
    const next = oneIssuer(candidates, top);
    if (!next) return { chain, trusted: false, numUntrusted };
    pool.delete(next.fingerprint);
    chain.push(next);
    numUntrusted++;
  }
  return fail('chain too long');
}

const KU_DIGITAL_SIGNATURE = KeyUsageFlags.digitalSignature;
const KU_KEY_AGREEMENT = KeyUsageFlags.keyAgreement;
const KU_KEY_CERT_SIGN = KeyUsageFlags.keyCertSign;
const KU_CRL_SIGN = KeyUsageFlags.cRLSign;

const kuRejects = (c: Cert, usage: number): boolean => c.keyUsage !== null && (c.keyUsage & usage) === 0;
const ekuRejectsClientAuth = (c: Cert): boolean => c.extKeyUsage !== null && !c.extKeyUsage.includes(OID.clientAuth);

/** X509_check_ca: 0 not a CA, 1 basicConstraints CA, 3 v1 self-signed root, 4 keyUsage keyCertSign only. */
function checkCa(c: Cert): number {
  if (kuRejects(c, KU_KEY_CERT_SIGN)) return 0;
  if (c.basicConstraints) return c.basicConstraints.ca ? 1 : 0;
  if (c.v1 && selfSigned(c)) return 3;
  if (c.keyUsage !== null) return 4;
  return 0;
}

function extensionErrors(chain: readonly Cert[], out: ChainError[]): void {
  let plen = 0;
  for (let i = 0; i < chain.length; i++) {
    const x = chain[i]!;
    if (i > 0) {
      const ca = checkCa(x);
      if (ca === 0 || (i + 1 < chain.length && ca !== 1)) out.push({ code: 79, depth: i });
    }
    // check_purpose with X509_PURPOSE_SSL_CLIENT (what a TLS server sets for client certificates).
    const purposeOk = i === 0
      ? !ekuRejectsClientAuth(x) && !kuRejects(x, KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)
      : !ekuRejectsClientAuth(x) && checkCa(x) !== 0;
    if (!purposeOk) out.push({ code: 26, depth: i });
    const pathLen = x.basicConstraints?.pathLen ?? -1;
    if (i > 1 && pathLen !== -1 && plen > pathLen) out.push({ code: 25, depth: i });
    if (i > 0 && !selfIssued(x)) plen++;
  }
}

/** check_auth_level: CA keys (above the leaf) and signature hashes (below the trust anchor). */
function authLevelErrors(chain: readonly Cert[], out: ChainError[]): void {
  for (let i = 0; i < chain.length; i++) {
    if (i > 0 && chain[i]!.keyBits < AUTH_LEVEL_BITS) out.push({ code: 67, depth: i });
    if (i < chain.length - 1 && chain[i]!.sigBits < AUTH_LEVEL_BITS) out.push({ code: 68, depth: i });
  }
}

function keyOf(c: Cert): KeyObject {
  return c.x509.publicKey;
}

function crlSignatureValid(crl: ParsedCrl, issuer: Cert): boolean {
  if (crl.algorithmMismatch || crl.signatureKeyType !== issuer.keyType) return false;
  return verifySignature(crl.hash, crl.tbs, keyOf(issuer), crl.signature);
}

/** check_revocation with CRL_CHECK_ALL: every certificate of the chain needs its issuer's CRL. */
function revocationErrors(chain: readonly Cert[], crls: NonNullable<CrlSet>, now: number, out: ChainError[]): void {
  if (crls.unparseable) fail(`CRL not readable: ${crls.unparseable}`);
  const top = chain.length - 1;
  for (let i = 0; i <= top; i++) {
    const x = chain[i]!;
    const issuer = chain[Math.min(i + 1, top)]!;
    const named = crls.crls.filter((c) => c.issuer === x.issuer);
    for (const c of named) if (c.unsupported) fail(`CRL not modelled: ${c.unsupported}`);
    const usable = named.filter((c) => c.akidKeyId === null || issuer.skid === null || c.akidKeyId === issuer.skid);
    if (usable.length > 0 && i === top && !selfIssued(x)) fail('CRL for a chain that ends below its root');
    if (usable.length !== named.length && chain.slice(i + 2).some((c) => c.subject === x.issuer)) fail('CRL issuer elsewhere in the chain');
    if (usable.length === 0) {
      out.push({ code: 3, depth: i });
      continue;
    }
    // get_crl_sk: a CRL valid now is preferred; among equals, the latest thisUpdate.
    const timely = (c: ParsedCrl): boolean => c.thisUpdate <= now && (c.nextUpdate === null || c.nextUpdate > now);
    let best = usable[0]!;
    for (const c of usable.slice(1)) {
      if (timely(c) !== timely(best)) {
        if (timely(c)) best = c;
      } else if (c.thisUpdate > best.thisUpdate) best = c;
    }
    if (kuRejects(issuer, KU_CRL_SIGN)) out.push({ code: 35, depth: i });
    if (best.thisUpdate > now) out.push({ code: 11, depth: i });
    if (best.nextUpdate !== null && best.nextUpdate <= now) out.push({ code: 12, depth: i });
    if (!crlSignatureValid(best, issuer)) out.push({ code: 8, depth: i });
    if (best.revoked.has(x.serial)) out.push({ code: 23, depth: i });
  }
}

/** internal_verify: from the top down, issuer keyUsage, signature and validity of each certificate. */
function signatureAndTimeErrors(chain: readonly Cert[], now: number, out: ChainError[]): void {
  let n = chain.length - 1;
  let xi: Cert | null = chain[n]!;
  let xs: Cert;
  const timeOk = (c: Cert, depth: number): void => {
    if (c.notBefore > now) out.push({ code: 9, depth });
    if (c.notAfter <= now) out.push({ code: 10, depth });
  };
  if (selfSigned(xi)) xs = xi;
  else if (n <= 0) {
    out.push({ code: 21, depth: 0 });
    timeOk(xi, 0);
    return;
  } else {
    n--;
    xs = chain[n]!;
  }
  while (n >= 0) {
    if (xi !== null && xs !== xi) {
      if (kuRejects(xi, KU_KEY_CERT_SIGN)) out.push({ code: 32, depth: n + 1 });
      if (xs.signatureKeyType !== xi.keyType || !xs.x509.verify(keyOf(xi))) out.push({ code: 7, depth: n });
    }
    timeOk(xs, n);
    if (--n >= 0) {
      xi = xs;
      xs = chain[n]!;
    }
  }
}

function trustError(built: BuiltChain): ChainError | null {
  if (built.trusted) return null;
  const { chain, numUntrusted } = built;
  const depth = chain.length - 1;
  const top = chain[depth]!;
  if (selfSigned(top)) return { code: chain.length === 1 ? 18 : 19, depth };
  return { code: numUntrusted < chain.length ? 2 : 20, depth };
}

/** Every (code, depth) OpenSSL 3 meets verifying `leaf` as a TLS client certificate. Never throws. */
export function chainErrors(input: ChainInput): ChainErrors {
  try {
    const leaf = parsedCert(input.leaf);
    const sent = input.sent.map(sentCert);
    const trust = input.trust.map((t) => parsedCert(t));
    const built = buildChain(leaf, sent, trust);
    const errors: ChainError[] = [];
    // X509_verify_cert checks the leaf key before it builds the chain.
    if (leaf.keyBits < AUTH_LEVEL_BITS) errors.push({ code: 66, depth: 0 });
    const trustErr = trustError(built);
    if (trustErr) errors.push(trustErr);
    extensionErrors(built.chain, errors);
    authLevelErrors(built.chain, errors);
    if (input.crls) revocationErrors(built.chain, input.crls, input.now, errors);
    signatureAndTimeErrors(built.chain, input.now, errors);
    return { kind: 'computed', errors };
  } catch (e) {
    if (e instanceof AlwaysRefused) return { kind: 'refused', reason: e.message };
    return { kind: 'uncomputable', reason: e instanceof Uncomputable ? e.message : `unexpected: ${e instanceof Error ? e.message : String(e)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// CRLs

const CRL_OID = {
  issuingDistributionPoint: '2.5.29.28',
  deltaCrlIndicator: '2.5.29.27',
  certificateIssuer: '2.5.29.29',
} as const;

/** The TBSCertList bytes exactly as signed: the first element of the outer SEQUENCE. */
function firstElement(der: Buffer): Buffer {
  const header = (off: number): { start: number; end: number } => {
    if (off + 2 > der.length) fail('truncated DER');
    let len = der[off + 1]!;
    let start = off + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || start + n > der.length) fail('bad DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
      start += n;
    }
    if (start + len > der.length) fail('truncated DER');
    return { start, end: start + len };
  };
  const outer = header(0);
  const inner = header(outer.start);
  return der.subarray(outer.start, inner.end);
}

function parseCrl(pem: Buffer): ParsedCrl {
  const b64 = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(pem.toString('latin1'))?.[1] ?? fail('no PEM CRL');
  const der = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  const crl = AsnConvert.parse(der, CertificateList);
  const tbs = crl.tbsCertList;
  const sig = SIGNATURE_KEY_TYPE.get(crl.signatureAlgorithm.algorithm) ?? fail(`unsupported CRL signature algorithm ${crl.signatureAlgorithm.algorithm}`);
  let unsupported: string | null = null;
  let akidKeyId: string | null = null;
  for (const e of tbs.crlExtensions ?? []) {
    if (e.extnID === CRL_OID.issuingDistributionPoint) unsupported = 'issuing distribution point';
    else if (e.extnID === CRL_OID.deltaCrlIndicator) unsupported = 'delta CRL';
    else if (e.extnID === OID.akid) {
      const akid = decodeExtension(e, AuthorityKeyIdentifier);
      if (akid.authorityCertIssuer || akid.authorityCertSerialNumber) unsupported = 'authority key identifier with issuer and serial';
      akidKeyId = akid.keyIdentifier ? hex(akid.keyIdentifier.buffer) : null;
    } else if (e.critical) unsupported = `critical CRL extension ${e.extnID}`;
  }
  const revoked = new Set<string>();
  for (const r of tbs.revokedCertificates ?? []) {
    for (const e of r.crlEntryExtensions ?? []) {
      if (e.extnID === CRL_OID.certificateIssuer) unsupported = 'indirect CRL entry';
      else if (e.extnID === OID.crlReason && decodeExtension(e, CRLReason).reason === 8) unsupported = 'removeFromCRL entry';
      else if (e.critical) unsupported = `critical CRL entry extension ${e.extnID}`;
    }
    revoked.add(integerText(r.userCertificate));
  }
  return {
    issuer: hex(AsnConvert.serialize(tbs.issuer)),
    akidKeyId,
    thisUpdate: timeOf(tbs.thisUpdate),
    nextUpdate: tbs.nextUpdate ? timeOf(tbs.nextUpdate) : null,
    revoked,
    tbs: firstElement(der),
    signature: Buffer.from(crl.signature),
    signatureKeyType: sig.key,
    hash: sig.hash,
    algorithmMismatch: hex(AsnConvert.serialize(crl.signatureAlgorithm)) !== hex(AsnConvert.serialize(tbs.signature)),
    unsupported,
  };
}

/** The configured CRL files (one PEM CRL per buffer), parsed; never throws. Null when there are none. */
export function parseCrls(pems: readonly Buffer[]): CrlSet {
  if (pems.length === 0) return null;
  const crls: ParsedCrl[] = [];
  let unparseable: string | null = null;
  for (const pem of pems) {
    try {
      crls.push(parseCrl(pem));
    } catch (e) {
      unparseable ??= e instanceof Error ? e.message : String(e);
    }
  }
  return { crls, unparseable };
}
