// CA-signed client certificates of an exact DER size, for the large-certificate parity test: a leaf
// issued by openssl (src/pki/issue.ts), then given a private extension holding an OCTET STRING of
// padding and signed again by the issuer. ECDSA signatures vary in length by a byte or two, so the
// padding is adjusted and the TBS signed again until the size is exact.
import { sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Extension } from '@peculiar/asn1-x509';
import { issueCertificate, type CaFiles } from '../../src/pki/issue.js';

/** A private-enterprise OID for the padding: no verifier knows it, and it is not critical. */
const PADDING_OID = '1.3.6.1.4.1.55555.1';

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The leaf's DER with `pad` bytes of padding extension, signed again by `issuerKeyPem`. */
function padded(base: Buffer, pad: number, issuerKeyPem: string): Buffer {
  const cert = AsnConvert.parse(base, Certificate);
  const ext = new Extension({ extnID: PADDING_OID, critical: false, extnValue: new OctetString(new Uint8Array(pad).fill(0x61)) });
  cert.tbsCertificate.extensions!.push(ext);
  const tbs = Buffer.from(AsnConvert.serialize(cert.tbsCertificate));
  cert.signatureValue = new Uint8Array(sign('sha256', tbs, issuerKeyPem)).buffer;
  return Buffer.from(AsnConvert.serialize(cert));
}

/**
 * One leaf per DER size for the client key `keyPem`; returns, per size, the chain a client sends
 * (the leaf, then `issuer`'s certificate).
 */
export async function leavesOfDerSize(keyPem: string, issuer: CaFiles, sizes: readonly number[]): Promise<Map<number, Buffer>> {
  const base = derOf(await issueCertificate({ subject: [[['CN', 'big-client']]], keyPem, issuer, profile: 'client', validity: { days: 30 } }));
  const issuerKey = readFileSync(issuer.key, 'utf8');
  const issuerPem = readFileSync(issuer.cert, 'utf8');
  const out = new Map<number, Buffer>();
  for (const size of sizes) {
    let pad = Math.max(1, size - base.length - 16);
    let der = padded(base, pad, issuerKey);
    for (let i = 0; i < 40 && der.length !== size; i++) {
      pad = Math.max(1, pad + size - der.length);
      der = padded(base, pad, issuerKey);
    }
    if (der.length !== size) throw new Error(`no ${size}-byte leaf (got ${der.length})`);
    out.set(size, Buffer.from(pem(der) + issuerPem));
  }
  return out;
}
