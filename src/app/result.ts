// The reader's one result type (docs/app-reader.md). Every path of readClientCert ends in one of
// these four shapes; a reason is fixed text written by the reader (header names, limits), never a
// header value, except the nginx FAILED reason, which is reduced to printable ASCII and capped.
import type { X509Certificate } from 'node:crypto';

/** How the edge in front of the app writes the client certificate into the request. */
export type Dialect = 'cf' | 'envoy' | 'rfc9440' | 'nginx' | 'traefik';

export const DIALECTS: readonly Dialect[] = ['cf', 'envoy', 'rfc9440', 'nginx', 'traefik'];

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  /** IPv4 dotted; IPv6 as RFC 5952 writes it: lower-case hex groups, the first longest run of two or more zero groups as `::` (IPv4-mapped too: `::ffff:a01:203`). */
  readonly ip: readonly string[];
}

export interface ClientCertificate {
  /** The client's own certificate. */
  readonly leaf: X509Certificate;
  /** The certificates after the leaf, in the order the edge forwarded them (cf and nginx: none; envoy and traefik: as the client sent them, unverified). */
  readonly chain: readonly X509Certificate[];
  /**
   * One-line subject DN as HAProxy writes it (`/C=DE/O=Acme/CN=client`), value bytes read as UTF-8.
   * For display: nothing in it is escaped, so a value holding `/CN=x` reads like another attribute;
   * decide with requireClientCert's `subjects` (RFC 4514, compared attribute by attribute).
   */
  readonly subject: string;
  readonly issuer: string;
  /**
   * One-line DN of the root: cf from X-SSL-Client-Root-CA-DN; others the first self-issued certificate
   * of the chain, else its last; null when the edge sent no chain. envoy and traefik forward the chain
   * as the client sent it, so there it names whatever the client appended, verified or not.
   */
  readonly root: string | null;
  /**
   * The first CN of the subject (as the edge's X-SSL-Client-Subject-CN), or null. For display: with
   * several CNs other software may read another one; requireClientCert's `commonNames` refuses those.
   */
  readonly commonName: string | null;
  readonly sans: SubjectAltNames;
}

/**
 * `verify-result`: the edge wrote its verification outcome (cf, nginx).
 * `presence`: the dialect carries no outcome (envoy, rfc9440, traefik); the edge only forwards a
 * certificate it accepted, so the app trusts the edge's client-auth setting.
 */
export type VerifiedBasis = 'verify-result' | 'presence';

export type ClientCertResult =
  | {
      readonly status: 'verified';
      readonly verified: true;
      readonly dialect: Dialect;
      readonly basis: VerifiedBasis;
      readonly certificate: ClientCertificate;
    }
  | {
      readonly status: 'unverified';
      readonly verified: false;
      readonly dialect: Dialect;
      readonly reason: string;
      /** cf, and nginx when its text is OpenSSL's for a known code: the verify code the edge ignored; null otherwise. */
      readonly verifyCode: number | null;
      /** The certificate, when the headers carry a readable one. */
      readonly certificate: ClientCertificate | null;
    }
  | { readonly status: 'absent'; readonly verified: false; readonly dialect: Dialect | null; readonly reason: string }
  | { readonly status: 'unreadable'; readonly verified: false; readonly dialect: Dialect | null; readonly reason: string };

export const absent = (dialect: Dialect | null, reason: string): ClientCertResult => ({ status: 'absent', verified: false, dialect, reason });
export const unreadable = (dialect: Dialect | null, reason: string): ClientCertResult => ({ status: 'unreadable', verified: false, dialect, reason });
