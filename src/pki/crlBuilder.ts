// CRLs built in-process: v2, signed by a CA key, with the extensions `openssl ca -gencrl` writes
// (authorityKeyIdentifier, cRLNumber when given) and a reasonCode on each entry. A CRL is never odd
// the way a hostile certificate is, so the schema library encodes it; only the issuer Name is passed
// as raw DER, so it matches the CA certificate's subject byte for byte.
import { sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AuthorityKeyIdentifier, CertificateList, CRLNumber, CRLReason, CRLReasons, Extension, KeyIdentifier, Name,
  RevokedCertificate, TBSCertList, Time, Version, id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_cRLReasons,
} from '@peculiar/asn1-x509';
import { derToPem, keyIdentifier, signatureAlgorithm, type CertKey } from './certBuilder.js';

interface RevokedEntry {
  /** The INTEGER contents of the certificate's serial, exactly as the certificate carries them. */
  readonly serial: Uint8Array;
  readonly revokedAt: Date;
  /** Absent: no reasonCode entry extension. */
  readonly reason?: keyof typeof CRLReasons;
}

export interface CrlSpec {
  /** DER of the issuing CA's subject Name. */
  readonly issuerName: Uint8Array;
  readonly signer: CertKey;
  readonly revoked: readonly RevokedEntry[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** The cRLNumber extension; absent: none. */
  readonly crlNumber?: number;
}

export interface BuiltCrl {
  readonly der: Buffer;
  readonly pem: string;
}

const extension = (extnID: string, value: ArrayBuffer): Extension => new Extension({ extnID, critical: false, extnValue: new OctetString(value) });

export function buildCrl(s: CrlSpec): BuiltCrl {
  const algorithm = AsnConvert.parse(signatureAlgorithm(s.signer.type, 'sha256'), AlgorithmIdentifier);
  const akid = new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(s.signer.publicKey)) });
  const crlExtensions = [extension(id_ce_authorityKeyIdentifier, AsnConvert.serialize(akid))];
  if (s.crlNumber !== undefined) crlExtensions.push(extension(id_ce_cRLNumber, AsnConvert.serialize(new CRLNumber(s.crlNumber))));
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: AsnConvert.parse(s.issuerName, Name),
    thisUpdate: new Time(s.thisUpdate),
    nextUpdate: new Time(s.nextUpdate),
    revokedCertificates: s.revoked.length
      ? s.revoked.map((r) => new RevokedCertificate({
        userCertificate: Uint8Array.from(r.serial).buffer,
        revocationDate: new Time(r.revokedAt),
        crlEntryExtensions: r.reason === undefined ? undefined : [extension(id_ce_cRLReasons, AsnConvert.serialize(new CRLReason(CRLReasons[r.reason])))],
      }))
      : undefined,
    crlExtensions,
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(s.signer.type === 'ed25519' ? null : 'sha256', tbsDer, s.signer.privateKey);
  const der = Buffer.from(AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature: Uint8Array.from(signature).buffer })));
  return { der, pem: derToPem(der, 'X509 CRL') };
}
