// Certificates and CRLs with chosen defects, built in-process (P-256, ECDSA-SHA256) so property tests
// can make hundreds in seconds: expired / not yet valid, corrupted signature (one flipped byte of
// the signatureValue), no CA flag, pathLen, wrong EKU, unknown critical extension, revocation.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificateList,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertList,
  TBSCertificate,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

export interface ForgeKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-1 of the SPKI: the key identifier used for SKID/AKID. */
  readonly keyId: Buffer;
}

export function forgeKey(): ForgeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyId = createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
  return { privateKey, publicKey, keyId };
}

export const KU = KeyUsageFlags;
export const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
export const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

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
  readonly keyUsage: number | null;
  readonly eku: readonly string[] | null;
  readonly unknownCritical?: boolean;
  readonly corruptSignature?: boolean;
}

function name(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
}

const ext = (extnID: string, critical: boolean, value: unknown): Extension =>
  new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

function ecdsa(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 });
}

/** DER of a certificate as the spec says. */
export function forgeCert(s: CertSpec): Buffer {
  const spki = AsnConvert.parse(s.key.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const extensions: Extension[] = [];
  if (s.ca) extensions.push(ext('2.5.29.19', true, new BasicConstraints({ cA: s.ca.ca, pathLenConstraint: s.ca.pathLen })));
  if (s.keyUsage !== null) {
    const ku = new KeyUsage();
    ku.fromNumber(s.keyUsage);
    extensions.push(ext('2.5.29.15', true, ku));
  }
  if (s.eku) extensions.push(ext('2.5.29.37', false, new ExtendedKeyUsage([...s.eku])));
  extensions.push(ext('2.5.29.14', false, new SubjectKeyIdentifier(s.key.keyId)));
  if (s.signer !== s.key) extensions.push(ext('2.5.29.35', false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(s.signer.keyId) })));
  if (s.unknownCritical) extensions.push(new Extension({ extnID: '1.3.6.1.4.1.55555.1', critical: true, extnValue: new OctetString(Buffer.from([0x05, 0x00])) }));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array([0x01, (s.serial >> 16) & 0xff, (s.serial >> 8) & 0xff, s.serial & 0xff]).buffer,
    signature: ecdsa(),
    issuer: name(s.issuer),
    validity: new Validity({ notBefore: s.notBefore, notAfter: s.notAfter }),
    subject: name(s.subject),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, s.signer.privateKey);
  // A flipped byte inside the ECDSA integers keeps the DER well-formed but the signature wrong.
  if (s.corruptSignature) signature[signature.length - 3]! ^= 0x5a;
  return Buffer.from(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: ecdsa(), signatureValue: new Uint8Array(signature).buffer })));
}

export interface CrlSpec {
  readonly issuer: string;
  readonly signer: ForgeKey;
  readonly revokedSerials: readonly number[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** PEM of a CRL (v2, AKID of the signer). */
export function forgeCrl(s: CrlSpec): string {
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: ecdsa(),
    issuer: name(s.issuer),
    thisUpdate: new Time(s.thisUpdate),
    nextUpdate: new Time(s.nextUpdate),
    revokedCertificates: s.revokedSerials.length
      ? s.revokedSerials.map((n) => new RevokedCertificate({ userCertificate: new Uint8Array([0x01, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]).buffer, revocationDate: new Time(s.thisUpdate) }))
      : undefined,
    crlExtensions: [ext('2.5.29.35', false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(s.signer.keyId) }))],
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, s.signer.privateKey);
  const der = Buffer.from(AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: ecdsa(), signature: new Uint8Array(signature).buffer })));
  return pem(der, 'X509 CRL');
}

export function pem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export function keyPem(k: ForgeKey): string {
  return k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

const DAY = 86_400_000;
export const validNow = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) });
export const expired = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
export const notYetValid = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });

export const ROOT_EXT = { ca: { ca: true }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null } as const;
export const LEAF_EXT = { ca: { ca: false }, keyUsage: KU.digitalSignature, eku: [EKU_CLIENT] } as const;
