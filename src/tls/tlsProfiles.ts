// TLS configurations ready to accept connections: a SecureContext each, plus host matchers for SNI.
import { constants as cryptoConstants } from 'node:crypto';
import tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { ResolvedTlsProfile } from '../config/resolve.js';
import { hostMatcher, type HostMatcher } from './hostPattern.js';

export interface TlsProfile {
  readonly resolved: ResolvedTlsProfile;
  readonly secureContext: SecureContext;
  readonly matchers: readonly HostMatcher[];
  /** ALPN protocol list in wire format, built once: Node converts a string array on every socket. */
  readonly alpnWire: Buffer;
}

export interface TlsProfileSet {
  readonly profiles: readonly TlsProfile[];
  readonly strictSni: boolean;
}

// HAProxy's Cloud Foundry defaults: no-sslv3 no-tls-tickets. Without tickets every connection
// carries a session ID, which X-SSL-Client-Session-ID reports. HAProxy also sets OpenSSL's
// no-renegotiation option: a client's TLS 1.2 renegotiation gets a no_renegotiation alert and the
// connection keeps the certificate of its one handshake (a renegotiation could otherwise swap in
// an unverified certificate after the first was verified).
const SECURE_OPTIONS = cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION;

function buildTlsProfile(resolved: ResolvedTlsProfile): TlsProfile {
  const secureContext = tls.createSecureContext({
    cert: resolved.certPem,
    key: resolved.keyPem,
    // The trust list is both the verification store and the CA names sent in CertificateRequest.
    ca: resolved.trustPem.length > 0 ? resolved.trustPem : undefined,
    crl: resolved.crlPem.length > 0 ? [...resolved.crlPem] : undefined,
    secureOptions: SECURE_OPTIONS,
    minVersion: 'TLSv1.2',
    // OpenSSL security level 2, where Debian's and Ubuntu's OpenSSL configuration puts HAProxy: client
    // keys below 112 bits (RSA-1024) and SHA-1 signatures fail verification (66/67/68), as with HAProxy.
    ciphers: `${tls.DEFAULT_CIPHERS}:@SECLEVEL=2`,
    sessionIdContext: `mtls-edge:${resolved.name}`.slice(0, 32),
  });
  return { resolved, secureContext, matchers: resolved.hosts.map(hostMatcher), alpnWire: alpnWireFormat(resolved.alpn) };
}

/** RFC 7301 ProtocolNameList: each name preceded by its length in one byte. */
export function alpnWireFormat(protocols: readonly string[]): Buffer {
  return Buffer.concat(protocols.map((name) => {
    const bytes = Buffer.from(name, 'latin1');
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  }));
}

export function buildTlsProfileSet(resolved: readonly ResolvedTlsProfile[], strictSni: boolean): TlsProfileSet {
  return { profiles: resolved.map(buildTlsProfile), strictSni };
}

/**
 * The TLS configuration for a ClientHello's SNI, as crt-list lines are matched: the first entry
 * whose pattern matches; with no match the first entry, unless strict SNI is on (then null).
 */
export function selectProfile(set: TlsProfileSet, sni: string | null): TlsProfile | null {
  if (sni) {
    for (const p of set.profiles) if (p.matchers.some((m) => m(sni))) return p;
  }
  return set.strictSni ? null : (set.profiles[0] ?? null);
}

/**
 * The TLS configuration a Host would have selected as SNI: the first whose pattern matches, else
 * the first (what a client sending that name as SNI gets with strict SNI off).
 */
export function profileForHost(set: TlsProfileSet, host: string): TlsProfile | null {
  // One configuration is the answer whatever the Host: no pattern to match, per request.
  if (set.profiles.length === 1) return set.profiles[0]!;
  for (const p of set.profiles) if (p.matchers.some((m) => m(host))) return p;
  return set.profiles[0] ?? null;
}
