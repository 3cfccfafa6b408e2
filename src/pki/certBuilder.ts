// A small DER certificate builder for tests and the hostile family: every field is described
// structurally (names as RDN lists with their exact string types, time encodings, extensions), so a
// certificate can be as odd as a client may send (no subject, 150 RDNs, raw bytes in a UTF8String,
// BMPString, 9999 dates, broken signature). The Name, Validity and TBS framing are written here byte
// by byte because no encoder keeps such oddities intact; extension bodies come from @peculiar/asn1-x509.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, Extension, Extensions, GeneralName, KeyIdentifier, KeyUsage,
  KeyUsageFlags, SubjectAlternativeName, SubjectKeyIdentifier, id_ce_authorityKeyIdentifier, id_ce_basicConstraints,
  id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, id_ce_subjectKeyIdentifier, type KeyUsageType,
} from '@peculiar/asn1-x509';
import { readTlv } from '../headers/der.js';

/** Thrown for a description that has no encoding (a malformed OID, an invalid date, a year > 9999). */
export class CertBuilderError extends Error {
  override readonly name = 'CertBuilderError';
}

// ---- Keys ----------------------------------------------------------------------------------------

export const CERT_KEY_TYPES = ['ec-p256', 'rsa1024', 'rsa2048', 'ed25519'] as const;
export type CertKeyType = (typeof CERT_KEY_TYPES)[number];
/**
 * What a key read from PEM can be: P-384 too (a user's own CA for `certs issue --ca`, or a
 * `--key ec-p384` leaf); `rsa2048` stands for any RSA key above 1024 bits (all sign sha256WithRSA).
 */
export type SigningKeyType = CertKeyType | 'ec-p384';

export interface CertKey {
  readonly type: SigningKeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generate = promisify(generateKeyPair);

export async function generateCertKey(type: CertKeyType): Promise<CertKey> {
  const pair =
    type === 'ec-p256' ? await generate('ec', { namedCurve: 'P-256' })
    : type === 'ed25519' ? await generate('ed25519')
    : await generate('rsa', { modulusLength: type === 'rsa1024' ? 1024 : 2048 });
  return { type, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A key read from PEM (e.g. the dev CA's); its type decides the signature algorithm. */
export function certKeyFromPem(pem: string | Buffer): CertKey {
  const privateKey = createPrivateKey(pem);
  const details = privateKey.asymmetricKeyDetails ?? {};
  let type: SigningKeyType;
  if (privateKey.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') type = 'ec-p256';
  else if (privateKey.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1') type = 'ec-p384';
  else if (privateKey.asymmetricKeyType === 'ed25519') type = 'ed25519';
  else if (privateKey.asymmetricKeyType === 'rsa') type = (details.modulusLength ?? 0) <= 1024 ? 'rsa1024' : 'rsa2048';
  else throw new CertBuilderError(`unsupported signing key: ${privateKey.asymmetricKeyType} ${details.namedCurve ?? ''}`.trim());
  return { type, privateKey, publicKey: createPublicKey(privateKey) };
}

export function privateKeyPem(key: CertKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

// ---- DER writing -----------------------------------------------------------------------------------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with a single identifier octet (all tags used here are below 31). */
export function tlv(identifier: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([identifier]), derLength(body.length), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;

export function encodeOid(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new CertBuilderError(`"${dotted}" is not a dotted OID such as 2.5.4.3`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs[0]! < 2n && arcs[1]! > 39n) throw new CertBuilderError(`OID ${dotted}: the second arc must be below 40 under 0 and 1`);
  const out: number[] = [];
  const push = (v: bigint): void => {
    const digits = [Number(v & 0x7fn)];
    for (let r = v >> 7n; r > 0n; r >>= 7n) digits.unshift(Number(r & 0x7fn) | 0x80);
    out.push(...digits);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Buffer.from(out));
}

/** Minimal two's complement contents of an INTEGER. */
function integerContents(v: bigint): Buffer {
  let width = 1;
  while (v < -(1n << BigInt(width * 8 - 1)) || v >= 1n << BigInt(width * 8 - 1)) width++;
  const mod = 1n << BigInt(width * 8);
  return Buffer.from((((v % mod) + mod) % mod).toString(16).padStart(width * 2, '0'), 'hex');
}

// ---- Names -----------------------------------------------------------------------------------------

export const STRING_TYPES = ['utf8', 'printable', 'ia5', 'bmp', 'teletex', 'universal', 'visible', 'numeric'] as const;
export type StringType = (typeof STRING_TYPES)[number];

const STRING_TAG: Record<StringType, number> = {
  utf8: 0x0c, numeric: 0x12, printable: 0x13, teletex: 0x14, ia5: 0x16, visible: 0x1a, universal: 0x1c, bmp: 0x1e,
};

export interface AttributeSpec {
  /** Attribute type, dotted (2.5.4.3 is CN). */
  readonly oid: string;
  readonly stringType: StringType;
  /**
   * Text is encoded as the type stores characters: UTF-8 (utf8), UCS-2/UTF-16BE (bmp), UCS-4BE
   * (universal), one byte per character otherwise (characters above U+00FF keep their low byte).
   * Bytes are taken as they are, valid for the type or not.
   */
  readonly value: string | Uint8Array;
}

/** A multi-valued RDN has several attributes; an empty list is an empty SET (not DER-valid, but sendable). */
export type RdnSpec = readonly AttributeSpec[];
/** An empty list is the empty Name (`-subj "/"`). */
export type NameSpec = readonly RdnSpec[];

export const OID = {
  C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5',
  emailAddress: '1.2.840.113549.1.9.1', DC: '0.9.2342.19200300.100.1.25', UID: '0.9.2342.19200300.100.1.1',
  clientAuth: '1.3.6.1.5.5.7.3.2', serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

function stringContents(type: StringType, value: string | Uint8Array): Buffer {
  if (typeof value !== 'string') return Buffer.from(value);
  switch (type) {
    case 'utf8':
      return Buffer.from(value, 'utf8');
    case 'bmp':
      return Buffer.from(value, 'utf16le').swap16();
    case 'universal': {
      const cps = [...value].map((c) => c.codePointAt(0)!);
      const b = Buffer.alloc(cps.length * 4);
      cps.forEach((cp, i) => b.writeUInt32BE(cp, i * 4));
      return b;
    }
    default:
      return Buffer.from(value, 'latin1');
  }
}

function encodeAttribute(a: AttributeSpec): Buffer {
  return tlv(SEQUENCE, encodeOid(a.oid), tlv(STRING_TAG[a.stringType], stringContents(a.stringType, a.value)));
}

/** DER sorts a SET OF by the encodings of its members; OpenSSL writes multi-valued RDNs the same way. */
export function encodeName(name: NameSpec): Buffer {
  return tlv(SEQUENCE, ...name.map((rdn) => tlv(SET, ...rdn.map(encodeAttribute).sort(Buffer.compare))));
}

/** Shorthand for the common case: one attribute per RDN, UTF8String unless said otherwise. */
export function simpleName(pairs: readonly (readonly [keyof typeof OID | string, string])[], stringType: StringType = 'utf8'): NameSpec {
  return pairs.map(([k, v]) => [{ oid: k in OID ? OID[k as keyof typeof OID] : k, stringType, value: v }]);
}

// ---- Validity --------------------------------------------------------------------------------------

/**
 * A Date alone takes RFC 5280's rule: UTCTime for 1950-2049, GeneralizedTime otherwise. An explicit
 * encoding is used as asked (a UTCTime keeps only the year's last two digits); `text` is written
 * verbatim, for odd forms such as fractional seconds or a missing `Z`.
 */
export type TimeSpec =
  | Date
  | { readonly encoding: 'utc' | 'generalized'; readonly date: Date }
  | { readonly encoding: 'utc' | 'generalized'; readonly text: string };

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function encodeTime(t: TimeSpec, field = 'time'): Buffer {
  if ('text' in t) return tlv(t.encoding === 'utc' ? 0x17 : 0x18, Buffer.from(t.text, 'latin1'));
  const date = t instanceof Date ? t : t.date;
  if (Number.isNaN(date.getTime())) throw new CertBuilderError(`${field}: invalid date`);
  const y = date.getUTCFullYear();
  const encoding = t instanceof Date ? (y >= 1950 && y < 2050 ? 'utc' : 'generalized') : t.encoding;
  if (encoding === 'generalized' && (y < 0 || y > 9999)) throw new CertBuilderError(`${field}: year ${y} has no GeneralizedTime form (0-9999)`);
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return encoding === 'utc'
    ? tlv(0x17, Buffer.from(`${pad(((y % 100) + 100) % 100)}${rest}`, 'latin1'))
    : tlv(0x18, Buffer.from(`${pad(y, 4)}${rest}`, 'latin1'));
}

// ---- Extensions ------------------------------------------------------------------------------------

export type SanSpec = { readonly dns: string } | { readonly ip: string } | { readonly email: string } | { readonly uri: string };

export type ExtensionSpec = { readonly critical?: boolean } & (
  | { readonly kind: 'basicConstraints'; readonly ca: boolean; readonly pathLen?: number }
  | { readonly kind: 'keyUsage'; readonly usages: readonly KeyUsageType[] }
  | { readonly kind: 'extKeyUsage'; readonly purposes: readonly string[] }
  | { readonly kind: 'subjectAltName'; readonly names: readonly SanSpec[] }
  /** SHA-1 of the subject public key, as OpenSSL's `subjectKeyIdentifier=hash`. */
  | { readonly kind: 'subjectKeyIdentifier' }
  /** The signer's key identifier (same hash), so it matches the issuer's own SKI. */
  | { readonly kind: 'authorityKeyIdentifier' }
  /** Any OID with any extnValue contents. */
  | { readonly kind: 'raw'; readonly oid: string; readonly value: Uint8Array }
);

const KEY_USAGE_FLAG: Record<KeyUsageType, KeyUsageFlags> = {
  digitalSignature: KeyUsageFlags.digitalSignature, nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment, dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement, keyCertSign: KeyUsageFlags.keyCertSign, crlSign: KeyUsageFlags.cRLSign,
  encipherOnly: KeyUsageFlags.encipherOnly, decipherOnly: KeyUsageFlags.decipherOnly,
};

/** SHA-1 of the subjectPublicKey BIT STRING's value (RFC 5280 4.2.1.2 method 1, what OpenSSL uses). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const outer = readTlv(spki, 0);
  const alg = readTlv(spki, outer.start, outer.end);
  const bits = readTlv(spki, alg.end, outer.end);
  return createHash('sha1').update(spki.subarray(bits.start + 1, bits.end)).digest();
}

function sanName(s: SanSpec): GeneralName {
  if ('dns' in s) return new GeneralName({ dNSName: s.dns });
  if ('ip' in s) return new GeneralName({ iPAddress: s.ip });
  if ('email' in s) return new GeneralName({ rfc822Name: s.email });
  return new GeneralName({ uniformResourceIdentifier: s.uri });
}

function extensionValue(e: ExtensionSpec, subjectKey: KeyObject, signerKey: KeyObject): { oid: string; value: ArrayBuffer | Uint8Array } {
  switch (e.kind) {
    case 'basicConstraints':
      return { oid: id_ce_basicConstraints, value: AsnConvert.serialize(new BasicConstraints({ cA: e.ca, pathLenConstraint: e.pathLen })) };
    case 'keyUsage': {
      const flags = e.usages.reduce((acc, u) => acc | KEY_USAGE_FLAG[u], 0);
      return { oid: id_ce_keyUsage, value: AsnConvert.serialize(new KeyUsage(flags)) };
    }
    case 'extKeyUsage':
      return { oid: id_ce_extKeyUsage, value: AsnConvert.serialize(new ExtendedKeyUsage([...e.purposes])) };
    case 'subjectAltName':
      return { oid: id_ce_subjectAltName, value: AsnConvert.serialize(new SubjectAlternativeName(e.names.map(sanName))) };
    case 'subjectKeyIdentifier':
      return { oid: id_ce_subjectKeyIdentifier, value: AsnConvert.serialize(new SubjectKeyIdentifier(keyIdentifier(subjectKey))) };
    case 'authorityKeyIdentifier':
      return {
        oid: id_ce_authorityKeyIdentifier,
        value: AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(signerKey)) })),
      };
    case 'raw':
      encodeOid(e.oid); // reject a malformed OID here, with its text
      return { oid: e.oid, value: e.value };
  }
}

// ---- Certificate -------------------------------------------------------------------------------------

export interface CertificateSpec {
  readonly subject: NameSpec;
  /** The certified public key (its private half signs when there is no `signer`). */
  readonly subjectKey: CertKey;
  /** Absent: self-signed with `subjectKey`, issuer = subject. */
  readonly signer?: Signer;
  /** Overrides the issuer Name (default: the signer's subject, or the subject when self-signed). */
  readonly issuer?: NameSpec;
  /** A bigint is encoded minimally; bytes are the INTEGER's raw contents (zero-length, 30 bytes, …). */
  readonly serial?: bigint | Uint8Array;
  readonly notBefore: TimeSpec;
  readonly notAfter: TimeSpec;
  /** In order; duplicates allowed. Absent or empty: no extensions field. */
  readonly extensions?: readonly ExtensionSpec[];
  /** v3 by default; v1 has no version field (extensions are then still written if given). */
  readonly version?: 1 | 3;
  /** Flip one bit of the signature value: the structure stays valid, the signature does not. */
  readonly corruptSignature?: boolean;
  /** Default sha256. */
  readonly signatureHash?: SignatureHash;
}

/** Who signs: a key and the exact DER of its subject Name (the child's issuer must match it byte for byte). */
export interface Signer {
  readonly key: CertKey;
  readonly name: Buffer;
}

export interface BuiltCertificate {
  readonly der: Buffer;
  readonly pem: string;
}

/** The subject Name of a certificate, as the raw DER it carries. */
export function subjectNameDer(certificate: Buffer | string): Buffer {
  const der = typeof certificate === 'string' ? pemToDer(certificate) : certificate;
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start, cert.end);
  let p = tbs.start;
  const first = readTlv(der, p, tbs.end);
  if (first.cls === 0x80 && first.tag === 0) p = first.end; // [0] version
  for (let field = 0; field < 4; field++) p = readTlv(der, p, tbs.end).end; // serial, signature, issuer, validity
  const subject = readTlv(der, p, tbs.end);
  return Buffer.from(der.subarray(subject.offset, subject.end));
}

/** A CA certificate (PEM or DER) and its private key as a signer. */
export function signerOf(certificate: Buffer | string, key: CertKey): Signer {
  return { key, name: subjectNameDer(certificate) };
}

function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new CertBuilderError('no PEM certificate found');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** PEM armour; the label lets other DER objects (a CRL: `X509 CRL`) share it. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** The signature's hash: SHA-256, or SHA-1 for the weak-signature cases (OpenSSL 3 reports 68 for it). Ed25519 has none. */
export type SignatureHash = 'sha256' | 'sha1';

/** DER AlgorithmIdentifier of what `type` signs with (certificates and CRLs alike). */
export function signatureAlgorithm(type: SigningKeyType, hash: SignatureHash): Buffer {
  switch (type) {
    case 'ec-p256':
    case 'ec-p384': // SHA-256 on P-384 too, as `openssl … -sha256` signs
      return tlv(SEQUENCE, encodeOid(hash === 'sha1' ? '1.2.840.10045.4.1' : '1.2.840.10045.4.3.2')); // ecdsa-with-SHA1 / -SHA256
    case 'ed25519':
      return tlv(SEQUENCE, encodeOid('1.3.101.112'));
    case 'rsa1024':
    case 'rsa2048':
      return tlv(SEQUENCE, encodeOid(hash === 'sha1' ? '1.2.840.113549.1.1.5' : '1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])); // sha1/sha256WithRSAEncryption, NULL
  }
}

function randomSerialBytes(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10; // positive, no leading zero byte
  return b;
}

export function buildCertificate(spec: CertificateSpec): BuiltCertificate {
  const signerKey = spec.signer?.key ?? spec.subjectKey;
  const issuerName = spec.issuer !== undefined ? encodeName(spec.issuer) : spec.signer?.name ?? encodeName(spec.subject);
  const serial = spec.serial === undefined ? randomSerialBytes() : typeof spec.serial === 'bigint' ? integerContents(spec.serial) : Buffer.from(spec.serial);
  const hash = spec.signatureHash ?? 'sha256';
  const algorithm = signatureAlgorithm(signerKey.type, hash);
  const exts = spec.extensions ?? [];
  const extensionsField = exts.length === 0 ? [] : [tlv(0xa3, Buffer.from(AsnConvert.serialize(new Extensions(exts.map((e) => {
    const { oid, value } = extensionValue(e, spec.subjectKey.publicKey, signerKey.publicKey);
    return new Extension({ extnID: oid, critical: e.critical === true, extnValue: new OctetString(value) });
  })))))];
  const tbs = tlv(
    SEQUENCE,
    ...(spec.version === 1 ? [] : [tlv(0xa0, tlv(0x02, Buffer.from([2])))]),
    tlv(0x02, serial),
    algorithm,
    issuerName,
    tlv(SEQUENCE, encodeTime(spec.notBefore, 'notBefore'), encodeTime(spec.notAfter, 'notAfter')),
    encodeName(spec.subject),
    spec.subjectKey.publicKey.export({ type: 'spki', format: 'der' }),
    ...extensionsField,
  );
  const signature = sign(signerKey.type === 'ed25519' ? null : hash, tbs, signerKey.privateKey);
  if (spec.corruptSignature) signature[signature.length - 1]! ^= 0x01;
  const der = tlv(SEQUENCE, tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  return { der, pem: derToPem(der) };
}
