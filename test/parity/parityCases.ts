// The parity matrix and the comparison: which settings, which requests, how an outcome is recorded and
// how two outcomes (real HAProxy vs mtls-edge) are normalised and compared. The known differences
// themselves live in parityCompare.ts (one table, with reasons).
import { FAILURE_KINDS, type FailureKind } from '../../src/pki/failures.js';
import { EMPTY_NAME_KINDS, type EmptyNameKind } from './emptyNameCerts.js';
import type { Mode } from './haproxy.js';

type ClientAuth = 'off' | 'optional' | 'required';

export interface ParitySetting {
  readonly id: string;
  readonly mode: Mode;
  readonly clientAuth: ClientAuth;
  /** crt-ignore-err/ca-ignore-err list, and the same for mtls-edge's ignore_errors. */
  readonly ignore?: string;
  /** crl-file = the dev PKI's crl/all.crl (one CRL per CA), and the same for mtls-edge's crl. */
  readonly crl?: boolean;
  /** The client offers at most TLS 1.2 (default: TLS 1.3). */
  readonly tls12?: boolean;
}

const MODES: readonly Mode[] = ['always_forward_only', 'forward_only', 'sanitize_set', 'forward_only_if_route_service'];

export const SETTINGS: readonly ParitySetting[] = [
  ...MODES.map((mode): ParitySetting => ({ id: `${mode}/client-auth`, mode, clientAuth: 'optional' })),
  ...MODES.map((mode): ParitySetting => ({ id: `${mode}/no-client-auth`, mode, clientAuth: 'off' })),
  { id: 'sanitize_set/client-auth/TLS1.2', mode: 'sanitize_set', clientAuth: 'optional', tls12: true },
  { id: 'sanitize_set/required', mode: 'sanitize_set', clientAuth: 'required' },
  { id: 'sanitize_set/ignore-10,18', mode: 'sanitize_set', clientAuth: 'optional', ignore: '10,18' },
  { id: 'forward_only_if_route_service/ignore-all', mode: 'forward_only_if_route_service', clientAuth: 'optional', ignore: 'all' },
  { id: 'sanitize_set/ignore-all/TLS1.2', mode: 'sanitize_set', clientAuth: 'optional', ignore: 'all', tls12: true },
  { id: 'sanitize_set/crl', mode: 'sanitize_set', clientAuth: 'optional', crl: true },
  { id: 'sanitize_set/crl/ignore-23,3', mode: 'sanitize_set', clientAuth: 'optional', crl: true, ignore: '3,23' },
];

export type CertKind = 'none' | 'valid' | FailureKind | EmptyNameKind;
export const CERT_KINDS: readonly CertKind[] = ['none', 'valid', ...FAILURE_KINDS, ...EMPTY_NAME_KINDS];

/** The request's headers; `oversized` adds one 20 KiB header, `long-uri` sends clean headers with a 20,000-byte URI. */
export type HeaderSet = 'clean' | 'spoofed' | 'spoofed+signature' | 'spoofed+empty-signature' | 'oversized' | 'long-uri';
const HEADER_SETS: readonly HeaderSet[] = ['clean', 'spoofed', 'spoofed+signature', 'spoofed+empty-signature'];

export interface ParityCase {
  readonly setting: ParitySetting;
  readonly listener: 'https' | 'http';
  readonly cert: CertKind;
  readonly headers: HeaderSet;
}

export function caseId(c: ParityCase): string {
  return `${c.setting.id} ${c.listener}${c.listener === 'https' ? ` cert=${c.cert}` : ''} headers=${c.headers}`;
}

/** Every request of one setting: each certificate kind × each header set on HTTPS, each header set on HTTP, oversized and long-uri on both. */
export function casesFor(setting: ParitySetting): ParityCase[] {
  const out: ParityCase[] = [];
  for (const cert of CERT_KINDS) for (const headers of HEADER_SETS) out.push({ setting, listener: 'https', cert, headers });
  for (const headers of HEADER_SETS) out.push({ setting, listener: 'http', cert: 'none', headers });
  out.push({ setting, listener: 'https', cert: 'valid', headers: 'oversized' });
  out.push({ setting, listener: 'http', cert: 'none', headers: 'oversized' });
  out.push({ setting, listener: 'https', cert: 'valid', headers: 'long-uri' });
  out.push({ setting, listener: 'http', cert: 'none', headers: 'long-uri' });
  return out;
}

/** Spoofed copies of the ten headers (mixed case, one repeated), look-alikes that must pass, and forwarded headers. */
const SPOOFED: readonly [string, string][] = [
  ['X-Forwarded-Client-Cert', 'c3Bvb2ZlZCBjZXJ0aWZpY2F0ZQ=='],
  ['x-ssl-client', '1'],
  ['X-SSL-CLIENT-SESSION-ID', 'spoofed-session'],
  ['X-SSL-Client-Verify', '0'],
  ['X-SSL-Client-Subject-DN', 'L0NOPWFkbWlu'],
  ['X-Ssl-Client-Subject-Cn', 'YWRtaW4='],
  ['X-SSL-Client-Issuer-DN', 'L0NOPXNwb29mIENB'],
  ['X-SSL-Client-NotBefore', '000101000000Z'],
  ['X-SSL-Client-NotAfter', '991231235959Z'],
  ['X-SSL-Client-Root-CA-DN', 'L0NOPXNwb29mIFJvb3Q='],
  ['X-SSL-Client-Verify', '0, 0'],
  ['X-SSL-Client-Cert', 'look-alike, passes'],
  ['X-SSL-Client-Issuer-CN', 'look-alike'],
  ['X-Forwarded-Proto', 'http'],
  ['X-Forwarded-For', '203.0.113.7'],
];

export function requestHeaders(set: HeaderSet): [string, string][] {
  const base: [string, string][] = [['Host', 'localhost'], ['User-Agent', 'mtls-edge-parity'], ['Accept', '*/*']];
  switch (set) {
    case 'clean':
    case 'long-uri':
      return base;
    case 'spoofed':
      return [...base, ...SPOOFED];
    case 'spoofed+signature':
      return [...base, ...SPOOFED, ['X-CF-Proxy-Signature', 'forged-signature']];
    case 'spoofed+empty-signature':
      return [...base, ['x-cf-proxy-signature', ''], ...SPOOFED];
    case 'oversized':
      // 20 KiB of one header: above HAProxy's 16 KiB buffer (minus maxrewrite) and mtls-edge's 15 KiB.
      return [...base, ['X-Big', 'x'.repeat(20 * 1024)]];
  }
}

/**
 * The request target. 20,000 bytes is above the whole 16 KiB buffer, so HAProxy 3.2 answers 414
 * (the request line alone overflows; a shorter line that fits the buffer but not the 15 KiB left
 * after maxrewrite gets 431).
 */
export function requestPath(set: HeaderSet): string {
  return set === 'long-uri' ? `/${'u'.repeat(19_999)}` : '/';
}

/** What the client got, and (when the echo answered) what the upstream received. */
export type Outcome =
  | { readonly kind: 'http'; readonly status: number; readonly upstream: [string, string][] | null }
  | { readonly kind: 'no-http-response'; readonly error: string; readonly alert: string | null };

/** TLS alert name from a Node client error, e.g. ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED → certificate_expired. */
export function alertOf(e: Error & { code?: string }): string | null {
  const m = /ALERT_([A-Z_]+)$/.exec(e.code ?? '') ?? /alert ([a-z ]+)/i.exec(e.message);
  return m ? m[1].toLowerCase().replace(/ /g, '_') : null;
}

// ---------------------------------------------------------------------------------------------
// Normalisations applied to every comparison (documented here and printed with the summary):
export const NORMALISATIONS: readonly string[] = [
  'header names compared case-insensitively (HAProxy 2.x lower-cases every header name on HTTP/1; values untouched)',
  'hop-by-hop lines dropped on both sides: connection, keep-alive (HAProxy `option http-server-close` sends `connection: close`, the mtls-edge upstream pool `connection: keep-alive`)',
  'Host line taken out of the sequence and compared by value (undici writes Host first; HAProxy keeps the client position)',
  'X-SSL-Client-Session-ID values that are upper-case hex compared as <hex:length> (the ID is random per TLS session)',
  'a client that got no HTTP response is compared by class ("no HTTP response") and by TLS alert name when there is one',
];

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection']);

export interface NormalisedRequest {
  readonly host: string[];
  readonly lines: [string, string][];
}

export function normalise(headers: readonly [string, string][]): NormalisedRequest {
  const host: string[] = [];
  const lines: [string, string][] = [];
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'host') {
      host.push(v);
      continue;
    }
    if (name === 'x-ssl-client-session-id' && /^[0-9A-F]+$/.test(v)) lines.push([name, `<hex:${v.length}>`]);
    else lines.push([name, v]);
  }
  return { host, lines };
}

/** A readable line-by-line diff of two normalised header lists. */
export function diffLines(a: readonly [string, string][], b: readonly [string, string][]): string {
  const fmt = (l: [string, string] | undefined): string => (l ? `${l[0]}: ${l[1].length > 70 ? `${l[1].slice(0, 67)}...` : l[1]}` : '(none)');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const same = a[i] && b[i] && a[i][0] === b[i][0] && a[i][1] === b[i][1];
    out.push(`${same ? '  ' : '≠ '}haproxy ${fmt(a[i])}   |   mtls-edge ${fmt(b[i])}`);
  }
  return out.join('\n');
}

export function sameLines(a: readonly [string, string][], b: readonly [string, string][]): boolean {
  return a.length === b.length && a.every(([k, v], i) => b[i][0] === k && b[i][1] === v);
}

export function describeOutcome(o: Outcome): string {
  if (o.kind === 'no-http-response') return `no HTTP response (${o.alert ? `TLS alert ${o.alert}` : o.error})`;
  return `HTTP ${o.status}${o.upstream ? ' from the upstream' : ''}`;
}
