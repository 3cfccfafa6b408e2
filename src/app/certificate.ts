// From DER to the reader's ClientCertificate: node:crypto X509Certificate for the app, and the DNs
// and CN computed by the edge's own code (src/headers/onelineDn.ts), so the reader and the edge's
// X-SSL-Client-*-DN headers agree byte for byte.
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_ce_subjectAltName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { rawCertFields } from '../headers/certFields.js';
import { firstCnBytes, onelineDnBytes } from '../headers/onelineDn.js';
import { ReadError } from './headerSource.js';
import { MAX_CERTIFICATES } from './limits.js';
import type { ClientCertificate, SubjectAltNames } from './result.js';

function x509(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new ReadError(`${what} is not an X.509 certificate`);
  }
}

const NO_SANS: SubjectAltNames = { dns: [], uri: [], email: [], ip: [] };

/** The SAN extension, read from the DER (Node's subjectAltName string quotes and escapes values). */
function sansOf(der: Buffer): SubjectAltNames {
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch {
    return NO_SANS;
  }
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  if (!ext) return NO_SANS;
  try {
    const names = AsnConvert.parse(ext.extnValue, SubjectAlternativeName);
    const sans = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
    for (const n of names) {
      if (n.dNSName !== undefined) sans.dns.push(n.dNSName);
      else if (n.uniformResourceIdentifier !== undefined) sans.uri.push(n.uniformResourceIdentifier);
      else if (n.rfc822Name !== undefined) sans.email.push(n.rfc822Name);
      else if (n.iPAddress !== undefined) sans.ip.push(n.iPAddress);
    }
    return sans;
  } catch {
    throw new ReadError('the certificate has a malformed subjectAltName extension');
  }
}

/** HAProxy's ssl_c_r_dn rule: the first self-issued certificate, else the last one. */
function rootDn(all: readonly Buffer[]): string | null {
  if (all.length < 2) return null;
  let last: Buffer | null = null;
  for (const der of all) {
    const f = rawCertFields(der);
    if (f.selfIssued) return onelineDnBytes(f.subjectDer).toString('utf8');
    last = f.subjectDer;
  }
  return last === null ? null : onelineDnBytes(last).toString('utf8');
}

/**
 * `ders`: leaf first, then the chain as forwarded. `root`: a root DN the dialect carries itself
 * (cf); undefined computes it from the chain.
 */
export function clientCertificate(ders: readonly Buffer[], root?: string | null): ClientCertificate {
  if (ders.length === 0) throw new ReadError('no certificate');
  if (ders.length > MAX_CERTIFICATES) throw new ReadError(`more than ${MAX_CERTIFICATES} certificates`);
  const certs = ders.map((d, i) => x509(d, i === 0 ? 'the client certificate' : `chain certificate ${i}`));
  let subject: string;
  let issuer: string;
  let commonName: string | null;
  let computedRoot: string | null;
  try {
    const f = rawCertFields(ders[0]!);
    subject = onelineDnBytes(f.subjectDer).toString('utf8');
    issuer = onelineDnBytes(f.issuerDer).toString('utf8');
    commonName = firstCnBytes(f.subjectDer)?.toString('utf8') ?? null;
    computedRoot = root === undefined ? rootDn(ders) : root;
  } catch (e) {
    if (e instanceof ReadError) throw e;
    throw new ReadError('a certificate has a malformed subject or issuer');
  }
  return { leaf: certs[0]!, chain: certs.slice(1), subject, issuer, root: computedRoot, commonName, sans: sansOf(ders[0]!) };
}
