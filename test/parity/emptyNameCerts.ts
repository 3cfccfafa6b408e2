// Client certificates with empty names, for the parity suite: a CA-signed leaf with an empty subject,
// one whose subject is a single empty CN (`/CN=`), and a self-signed leaf with an empty subject.
// openssl's CLI issues the empty subjects (`-subj /`) but refuses an empty CN (its string table
// gives commonName a minimum length of 1), so that leaf is issued with a placeholder CN by openssl
// and then re-signed here with the subject swapped for the DER of `/CN=` (a zero-length UTF8String).
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { issueCertificate, type CaFiles } from '../../src/pki/issue.js';

export const EMPTY_NAME_KINDS = ['empty-subject', 'empty-cn', 'self-signed-empty-subject'] as const;
export type EmptyNameKind = (typeof EMPTY_NAME_KINDS)[number];

export function isEmptyNameKind(kind: string): kind is EmptyNameKind {
  return (EMPTY_NAME_KINDS as readonly string[]).includes(kind);
}

export interface EmptyNameIdentity {
  /** Leaf PEM (+ the issuing CA's PEM when CA-signed), as the client sends it. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String "" } } } */
const EMPTY_CN_NAME_DER = Buffer.from('300b3109300706035504030c00', 'hex');

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The same certificate with `subject` replaced and the TBS signed again by `issuerKeyPem`. */
function withSubject(certPem: string, subjectDer: Buffer, issuerKeyPem: string): string {
  const cert = AsnConvert.parse(derOf(certPem), Certificate);
  cert.tbsCertificate.subject = AsnConvert.parse(subjectDer, Name);
  const tbs = Buffer.from(AsnConvert.serialize(cert.tbsCertificate));
  // sha256 matches the placeholder's signature algorithm (ecdsa-with-SHA256 / sha256WithRSAEncryption), which is kept.
  const signature = sign('sha256', tbs, issuerKeyPem);
  cert.signatureValue = new Uint8Array(signature).buffer;
  return pem(Buffer.from(AsnConvert.serialize(cert)));
}

/** Issues the three identities into `dir` (keys 0600); `issuer` signs the CA-signed two and is sent after their leaf (the dev intermediate). */
export async function emptyNameIdentities(dir: string, issuer: CaFiles): Promise<Map<EmptyNameKind, EmptyNameIdentity>> {
  const issuerPem = readFileSync(issuer.cert, 'utf8');
  const out = new Map<EmptyNameKind, EmptyNameIdentity>();
  for (const kind of EMPTY_NAME_KINDS) {
    const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyPath = join(dir, `${kind}.key`);
    writeFileSync(keyPath, keyPem, { mode: 0o600 });
    const validity = { days: 30 };
    let leaf: string;
    if (kind === 'self-signed-empty-subject') {
      leaf = await issueCertificate({ subject: [], keyPath, profile: 'self-signed-client', validity });
    } else if (kind === 'empty-subject') {
      leaf = await issueCertificate({ subject: [], keyPath, issuer, profile: 'client', validity });
    } else {
      const placeholder = await issueCertificate({ subject: [[['CN', 'placeholder']]], keyPath, issuer, profile: 'client', validity });
      leaf = withSubject(placeholder, EMPTY_CN_NAME_DER, readFileSync(issuer.key, 'utf8'));
    }
    const chain = kind === 'self-signed-empty-subject' ? leaf : leaf + issuerPem;
    out.set(kind, { cert: Buffer.from(chain), key: Buffer.from(keyPem) });
  }
  return out;
}
