// Certificates and CRLs with chosen defects, built in-process (P-256, ECDSA-SHA256) so property tests
// can make hundreds in seconds: expired / not yet valid, corrupted signature (one flipped bit of
// the signatureValue), no CA flag, pathLen, wrong EKU, unknown critical extension, revocation.
// Certificates are encoded by src/pki/certBuilder.ts; this module keeps only the defect vocabulary:
// a flat spec, its extension defaults, the validity helpers, ROOT_EXT/LEAF_EXT, and CRL specs.
import { generateKeyPairSync } from 'node:crypto';
import { KeyUsage, KeyUsageFlags } from '@peculiar/asn1-x509';
import { buildCrl } from '../../src/pki/crlBuilder.js';
import {
  buildCertificate, derToPem, encodeName, OID, privateKeyPem, simpleName, type CertKey, type ExtensionSpec, type NameSpec, type SignatureHash,
} from '../../src/pki/certBuilder.js';

/** Always P-256: the CRLs below sign with ECDSA-SHA256 only. */
export type ForgeKey = CertKey;

export function forgeKey(): ForgeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { type: 'ec-p256', privateKey, publicKey };
}

export const KU = KeyUsageFlags;
export const EKU_CLIENT = OID.clientAuth;
export const EKU_SERVER = OID.serverAuth;
/** A private-arc OID no verifier knows, so marking it critical must fail the chain. */
const UNKNOWN_CRITICAL_OID = '1.3.6.1.4.1.55555.1';

export interface CertSpec {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: number;
  readonly key: ForgeKey;
  readonly signer: ForgeKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints; null = no extension. */
  readonly ca: { readonly ca: boolean; readonly pathLen?: number } | null;
  /** KU flags (KeyUsageFlags bits); null = no extension. */
  readonly keyUsage: number | null;
  readonly eku: readonly string[] | null;
  readonly unknownCritical?: boolean;
  readonly corruptSignature?: boolean;
  readonly signatureHash?: SignatureHash;
}

const cn = (value: string): NameSpec => simpleName([['CN', value]]);

/** The serial as written in certificates and CRLs alike (so a revoked serial matches its certificate). */
const serialBytes = (n: number) => new Uint8Array([0x01, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** DER of a certificate as the spec says. */
export function forgeCert(s: CertSpec): Buffer {
  const extensions: ExtensionSpec[] = [];
  if (s.ca) extensions.push({ kind: 'basicConstraints', ca: s.ca.ca, pathLen: s.ca.pathLen, critical: true });
  // The spec speaks in flag bits; the library's own reading turns them into the builder's names.
  if (s.keyUsage !== null) extensions.push({ kind: 'keyUsage', usages: new KeyUsage(s.keyUsage).toJSON(), critical: true });
  if (s.eku) extensions.push({ kind: 'extKeyUsage', purposes: s.eku });
  extensions.push({ kind: 'subjectKeyIdentifier' });
  if (s.signer !== s.key) extensions.push({ kind: 'authorityKeyIdentifier' });
  if (s.unknownCritical) extensions.push({ kind: 'raw', oid: UNKNOWN_CRITICAL_OID, value: Buffer.from([0x05, 0x00]), critical: true });
  return buildCertificate({
    subject: cn(s.subject),
    subjectKey: s.key,
    signer: { key: s.signer, name: encodeName(cn(s.issuer)) },
    serial: serialBytes(s.serial),
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    extensions,
    corruptSignature: s.corruptSignature === true,
    signatureHash: s.signatureHash,
  }).der;
}

export interface CrlSpec {
  readonly issuer: string;
  readonly signer: ForgeKey;
  readonly revokedSerials: readonly number[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** PEM of a CRL (v2, AKID of the signer), built by src/pki/crlBuilder.ts. */
export function forgeCrl(s: CrlSpec): string {
  return buildCrl({
    issuerName: encodeName(cn(s.issuer)), // the same Name bytes as the issuing certificate's subject
    signer: s.signer,
    revoked: s.revokedSerials.map((n) => ({ serial: serialBytes(n), revokedAt: s.thisUpdate })),
    thisUpdate: s.thisUpdate,
    nextUpdate: s.nextUpdate,
  }).pem;
}

export const pem = derToPem;
export const keyPem = privateKeyPem;

const DAY = 86_400_000;
export const validNow = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) });
export const expired = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
export const notYetValid = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });

export const ROOT_EXT = { ca: { ca: true }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null } as const;
export const LEAF_EXT = { ca: { ca: false }, keyUsage: KU.digitalSignature, eku: [EKU_CLIENT] } as const;
