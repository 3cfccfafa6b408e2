// What a dialect's writer reads from one client certificate. The edge computes the values once per
// certificate, verify result and TLS configuration (CertInfo in src/edge/certInfoCache.ts), never per request.
import type { X509Certificate } from 'node:crypto';
import { rawCertFields } from '../certFields.js';
import { rfc2253Dn } from './rfc2253Dn.js';

export interface DialectCertFacts {
  readonly leaf: X509Certificate;
  /** Leaf first, up to the trust root when it verified (the chain OpenSSL built). */
  readonly chain: readonly X509Certificate[];
  /** 0, or the OpenSSL verify error the TLS configuration ignored. */
  readonly verifyCode: number;
}

/** Runs `f`, mapping any failure (garbage DER, a bad string in a DN, …) to the empty value. */
function orEmpty(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}

/** OpenSSL RFC 2253 text of the leaf's subject or issuer ('' when unreadable). */
export function leafDn(leaf: X509Certificate, which: 'subject' | 'issuer'): string {
  return orEmpty(() => {
    const f = rawCertFields(leaf.raw);
    return rfc2253Dn(which === 'subject' ? f.subjectDer : f.issuerDer);
  });
}

/** The PEM OpenSSL's PEM_write_bio_X509 writes (64-column base64, trailing newline), as Node gives it. */
export function pem(cert: X509Certificate): string {
  return cert.toString();
}

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
}

const NO_SANS: SubjectAltNames = Object.freeze({ dns: [], uri: [], email: [], ip: [] });

/**
 * Node's subjectAltName text ("DNS:a, URI:b, IP Address:1.2.3.4, email:x@y") split into lists, in
 * certificate order. Node writes a value holding a comma, quote or control byte as a JSON string.
 */
export function subjectAltNames(leaf: X509Certificate): SubjectAltNames {
  const text = leaf.subjectAltName;
  if (!text) return NO_SANS;
  const out = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  let m: RegExpExecArray | null;
  while (entry.lastIndex < text.length && (m = entry.exec(text)) !== null) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'URI') out.uri.push(value);
    else if (m[1] === 'email') out.email.push(value);
    else if (m[1] === 'IP Address') out.ip.push(value);
  }
  return out;
}
