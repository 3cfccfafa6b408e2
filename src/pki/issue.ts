// Issues one certificate in-process: the profile becomes certBuilder extensions, the subject a Name
// typed as OpenSSL types it, and the issuing CA's key signs (node:crypto). No external binary, so
// the dev PKI works where `openssl` is missing or is LibreSSL (stock macOS) or absent (Windows).
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import {
  buildCertificate, certKeyFromPem, OID, subjectNameDer, type CertKey, type ExtensionSpec, type SanSpec,
} from './certBuilder.js';
import { buildCrl } from './crlBuilder.js';
import { toNameSpec, type StringMask, type Subject } from './subject.js';

type Profile =
  | 'root-ca'
  | 'intermediate-ca'
  | 'server'
  | 'client'
  /** EKU serverAuth only: a client presenting it fails with 26. */
  | 'server-auth-only'
  /** A self-signed end-entity certificate; no keyUsage so OpenSSL recognises it as self-signed (18). */
  | 'self-signed-client';

export type Validity = { days: number } | { notBefore: Date; notAfter: Date };

export interface CaFiles {
  cert: string;
  key: string;
}

export type IssueOptions = IssueFields & ({ /** The subject's private key (PEM file). */ keyPath: string } | { /** The subject's private key as PEM text. */ keyPem: string });

interface IssueFields {
  subject: Subject;
  /** Signing CA; absent means self-signed. */
  issuer?: CaFiles;
  profile: Profile;
  san?: readonly string[];
  validity: Validity;
  /** `pkix` encodes non-ASCII values as BMPString instead of UTF8String (OpenSSL's string_mask). */
  stringMask?: StringMask;
  /** Hex serial; random 128-bit when absent. */
  serial?: string;
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10; // positive, and no leading zero byte to strip
  return b.toString('hex').toUpperCase();
}

/** A subjectAltName value that cannot be written into an OpenSSL extension safely. */
export class SanError extends Error {}

const SAN_TYPES = ['DNS', 'IP', 'email', 'URI'] as const;
// Controls (a newline would start another extension in an OpenSSL config the name is copied to), separators,
// bidi characters, and the comma, which separates entries in the subjectAltName line.
const SAN_FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c,]/;
const DNS_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`);
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]{1,64}@${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

const shown = (v: string): string => JSON.stringify(v).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * One subjectAltName entry as `TYPE:value`, checked by type: `DNS:`, `IP:`, `email:` and `URI:`
 * prefixes are kept, bare values are classified (IP address, e-mail with `@`, URI with `scheme://`,
 * else DNS name). Throws SanError, saying what is wrong and how to fix it, for anything else.
 */
export function normaliseSan(value: string): string {
  if (SAN_FORBIDDEN.test(value)) {
    throw new SanError(`${shown(value)} contains a comma, a line break or a control character: give one name per value (repeat the option for more names)`);
  }
  // Names made here are often copied into OpenSSL configuration files, where `$` expands a variable,
  // `#` starts a comment and `\` and `"` escape or quote: refused so that such a copy means the same.
  if (/[$#\\"]/.test(value)) {
    throw new SanError(`${shown(value)} contains $, #, \\ or ", which an OpenSSL configuration file would read as a variable, a comment or an escape: leave them out`);
  }
  const prefixed = /^([A-Za-z]+):(?!\/\/)(.*)$/.exec(value);
  let type: (typeof SAN_TYPES)[number];
  let body: string;
  if (prefixed && !isIP(value)) {
    const found = SAN_TYPES.find((t) => t.toLowerCase() === prefixed[1]!.toLowerCase());
    if (!found) throw new SanError(`${shown(value)}: unsupported type ${shown(prefixed[1]!)}: use DNS:, IP:, email: or URI: (or a bare name, address or e-mail)`);
    type = found;
    body = prefixed[2]!;
  } else if (isIP(value)) {
    [type, body] = ['IP', value];
  } else if (value.includes('@')) {
    [type, body] = ['email', value];
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    [type, body] = ['URI', value];
  } else {
    [type, body] = ['DNS', value];
  }
  switch (type) {
    case 'DNS':
      if (body.length > 253 || !DNS_NAME.test(body)) throw new SanError(`${shown(value)} is not a DNS name: use letters, digits, hyphens and dots (a leading *. for a wildcard)`);
      break;
    case 'IP':
      if (!isIP(body)) throw new SanError(`${shown(value)} is not an IPv4 or IPv6 address`);
      break;
    case 'email':
      if (!EMAIL.test(body)) throw new SanError(`${shown(value)} is not an e-mail address of the form name@example.com`);
      break;
    case 'URI': {
      let ok = false;
      try {
        ok = /^[a-z][a-z0-9+.-]*:/i.test(body) && !/\s/.test(body) && new URL(body).protocol.length > 1;
      } catch {
        ok = false;
      }
      if (!ok) throw new SanError(`${shown(value)} is not an absolute URI such as spiffe://example.org/client`);
      break;
    }
  }
  return `${type}:${body}`;
}

const DAY = 86_400_000;

function sanSpec(entry: string): SanSpec {
  const colon = entry.indexOf(':');
  const [type, body] = [entry.slice(0, colon), entry.slice(colon + 1)];
  return type === 'DNS' ? { dns: body } : type === 'IP' ? { ip: body } : type === 'email' ? { email: body } : { uri: body };
}

/** The extensions of each profile, in the order OpenSSL wrote them from our former config lines. */
function profileExtensions(profile: Profile, keyIsEc: boolean, san: readonly string[], selfSigned: boolean): ExtensionSpec[] {
  const leafUsage: ExtensionSpec = { kind: 'keyUsage', critical: true, usages: keyIsEc ? ['digitalSignature'] : ['digitalSignature', 'keyEncipherment'] };
  const akid: ExtensionSpec[] = selfSigned ? [] : [{ kind: 'authorityKeyIdentifier' }];
  const sanExt: ExtensionSpec[] = san.length > 0 ? [{ kind: 'subjectAltName', names: san.map((v) => sanSpec(normaliseSan(v))) }] : [];
  const ski: ExtensionSpec = { kind: 'subjectKeyIdentifier' };
  const caUsage: ExtensionSpec = { kind: 'keyUsage', critical: true, usages: ['keyCertSign', 'crlSign'] };
  const leaf = (purpose: string): ExtensionSpec[] => [
    { kind: 'basicConstraints', critical: true, ca: false }, leafUsage, { kind: 'extKeyUsage', purposes: [purpose] }, ski, ...akid, ...sanExt,
  ];
  switch (profile) {
    case 'root-ca':
      return [{ kind: 'basicConstraints', critical: true, ca: true }, caUsage, ski, ...akid];
    case 'intermediate-ca':
      return [{ kind: 'basicConstraints', critical: true, ca: true, pathLen: 0 }, caUsage, ski, ...akid];
    case 'server':
    case 'server-auth-only':
      return leaf(OID.serverAuth);
    case 'client':
      return leaf(OID.clientAuth);
    case 'self-signed-client':
      return [{ kind: 'basicConstraints', critical: true, ca: false }, { kind: 'extKeyUsage', purposes: [OID.clientAuth] }, ski, ...sanExt];
  }
}

async function readKey(path: string): Promise<CertKey> {
  return certKeyFromPem(await readFile(path));
}

/** Returns the certificate as PEM. */
export async function issueCertificate(opts: IssueOptions): Promise<string> {
  const subjectKey = 'keyPem' in opts ? certKeyFromPem(opts.keyPem) : await readKey(opts.keyPath);
  const signer = opts.issuer
    ? { key: await readKey(opts.issuer.key), name: subjectNameDer(await readFile(opts.issuer.cert, 'utf8')) }
    : undefined;
  const now = Date.now();
  const [notBefore, notAfter] = 'days' in opts.validity
    ? [new Date(now), new Date(now + opts.validity.days * DAY)]
    : [opts.validity.notBefore, opts.validity.notAfter];
  return buildCertificate({
    subject: toNameSpec(opts.subject, opts.stringMask),
    subjectKey,
    signer,
    serial: Buffer.from(opts.serial ?? randomSerial(), 'hex'),
    notBefore,
    notAfter,
    extensions: profileExtensions(opts.profile, subjectKey.privateKey.asymmetricKeyType === 'ec', opts.san ?? [], signer === undefined),
  }).pem;
}

/** Days a CRL stays current, as `default_crl_days` did. */
const CRL_DAYS = 3650;
/** The first cRLNumber `openssl ca` wrote from our crlnumber file (hex 1000). */
const CRL_NUMBER = 0x1000;

/** A PEM CRL signed by `ca`, listing the given certificates as revoked (empty list: a valid empty CRL). */
export async function generateCrl(ca: CaFiles, revokedCertPaths: readonly string[]): Promise<string> {
  const [caPem, signer] = await Promise.all([readFile(ca.cert, 'utf8'), readKey(ca.key)]);
  const now = new Date();
  const revoked = await Promise.all(revokedCertPaths.map(async (path) => {
    const der = new X509Certificate(await readFile(path)).raw;
    const serial = new Uint8Array(AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber);
    return { serial, revokedAt: now, reason: 'keyCompromise' as const };
  }));
  return buildCrl({
    issuerName: subjectNameDer(caPem), signer, revoked, thisUpdate: now, nextUpdate: new Date(now.getTime() + CRL_DAYS * DAY), crlNumber: CRL_NUMBER,
  }).pem;
}
