// From DER to the reader's ClientCertificate: node:crypto X509Certificate for the app, and the DNs
// and CN computed by the edge's own code (src/headers/onelineDn.ts), so the reader and the edge's
// X-SSL-Client-*-DN headers agree byte for byte.
import { X509Certificate } from 'node:crypto';
import { rawCertFields } from '../headers/certFields.js';
import { firstCnBytes, onelineDnBytes } from '../headers/onelineDn.js';
import { ReadError } from './headerSource.js';
import { MAX_CERTIFICATES } from './limits.js';
import type { ClientCertificate } from './result.js';
import { subjectAltNames } from './subjectAltNames.js';

function x509(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new ReadError(`${what} is not an X.509 certificate`);
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
  return { leaf: certs[0]!, chain: certs.slice(1), subject, issuer, root: computedRoot, commonName, sans: subjectAltNames(ders[0]!) };
}
