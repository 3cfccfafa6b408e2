// The envoy dialect: Envoy's (and so Istio's, Kyma's) X-Forwarded-Client-Cert, as its HTTP
// connection manager writes it (source/common/http/conn_manager_utility.cc, mutateXfccRequestHeader;
// docs: configuration/http/http_conn_man/headers, x-forwarded-client-cert).
// docs/dialects.md describes it.
import { createHash, type X509Certificate } from 'node:crypto';
import type { HeaderPair } from '../../observe/events.js';
import type { DialectRow } from './dialectTable.js';
import { leafDn, pem, subjectAltNames, type DialectCertFacts } from './certFacts.js';

export const XFCC_HEADER = 'X-Forwarded-Client-Cert';

/** forward_client_cert_details, lower-case. */
export const ENVOY_MODES = ['sanitize', 'forward_only', 'append_forward', 'sanitize_set', 'always_forward_only'] as const;
export type EnvoyMode = (typeof ENVOY_MODES)[number];

// The branches of mutateXfccRequestHeader as data. "used" is Envoy's peerCertificatePresented()
// on a connection whose handshake succeeded.
// prettier-ignore
export const ENVOY_MODE_TABLE: readonly DialectRow<EnvoyMode>[] = Object.freeze([
  { mode: 'sanitize',            cert: 'any',  action: 'remove' },
  { mode: 'forward_only',        cert: 'none', action: 'remove' },
  { mode: 'forward_only',        cert: 'used', action: 'keep'   },
  { mode: 'append_forward',      cert: 'none', action: 'remove' },
  { mode: 'append_forward',      cert: 'used', action: 'append' },
  { mode: 'sanitize_set',        cert: 'none', action: 'remove' },
  { mode: 'sanitize_set',        cert: 'used', action: 'set'    },
  { mode: 'always_forward_only', cert: 'any',  action: 'keep'   },
] satisfies DialectRow<EnvoyMode>[]);

/** set_current_client_cert_details, in the order Envoy writes them (By and Hash always come first). */
export const ENVOY_DETAILS = ['cert', 'chain', 'subject', 'uri', 'dns'] as const;
export type EnvoyDetail = (typeof ENVOY_DETAILS)[number];

/** One XFCC element's fields; an absent optional field is a detail not asked for. */
export interface XfccElement {
  /** URI SANs of the edge's own (server) certificate: one By= each. */
  readonly by: readonly string[];
  /** SHA-256 of the client certificate's DER, lower-case hex. */
  readonly hash: string;
  readonly cert?: string;
  readonly chain?: string;
  readonly subject?: string;
  readonly uri?: readonly string[];
  readonly dns?: readonly string[];
}

/**
 * One element, `;`-separated, exactly as Envoy builds it: By/URI/DNS unquoted (Envoy does not quote
 * them, a TODO in its source), Subject always quoted, Cert/Chain quoted, an empty Cert/Chain left
 * out, `URI=` kept even without a URI SAN.
 */
export function xfccElementText(e: XfccElement): string {
  const parts: string[] = [];
  for (const by of e.by) parts.push(`By=${by}`);
  if (e.hash) parts.push(`Hash=${e.hash}`);
  if (e.cert) parts.push(`Cert="${e.cert}"`);
  if (e.chain) parts.push(`Chain="${e.chain}"`);
  if (e.subject !== undefined) parts.push(`Subject="${e.subject}"`);
  if (e.uri !== undefined) {
    if (e.uri.length === 0) parts.push('URI=');
    for (const uri of e.uri) parts.push(`URI=${uri}`);
  }
  for (const dns of e.dns ?? []) parts.push(`DNS=${dns}`);
  return parts.join(';');
}

/**
 * URL-encoded PEM (Envoy's urlEncodedPemEncodedPeerCertificate[Chain]). PEM holds only base64
 * characters, '-', ' ' and '\n', for which Envoy's encoding and encodeURIComponent agree:
 * `%20`, `%0A`, `%2B`, `%2F`, `%3D`.
 */
export function urlEncodedPem(certs: readonly X509Certificate[]): string {
  return encodeURIComponent(certs.map(pem).join(''));
}

export interface EnvoyOptions {
  readonly details: ReadonlySet<EnvoyDetail>;
  /** URI SANs of the TLS configuration's server certificate. */
  readonly by: readonly string[];
}

/** The element this edge appends or sets for one certificate. */
export function envoyElement(facts: DialectCertFacts, opts: EnvoyOptions): XfccElement {
  const sans = opts.details.has('uri') || opts.details.has('dns') ? subjectAltNames(facts.leaf) : null;
  return {
    by: opts.by,
    hash: createHash('sha256').update(facts.leaf.raw).digest('hex'),
    ...(opts.details.has('cert') ? { cert: urlEncodedPem([facts.leaf]) } : {}),
    ...(opts.details.has('chain') ? { chain: urlEncodedPem(facts.chain) } : {}),
    ...(opts.details.has('subject') ? { subject: leafDn(facts.leaf, 'subject') } : {}),
    ...(opts.details.has('uri') ? { uri: sans!.uri } : {}),
    ...(opts.details.has('dns') ? { dns: sans!.dns } : {}),
  };
}

export function envoyHeaderValues(facts: DialectCertFacts, opts: EnvoyOptions): HeaderPair[] {
  return [[XFCC_HEADER, xfccElementText(envoyElement(facts, opts))]];
}

/**
 * APPEND_FORWARD: the client's copies (Envoy's HTTP/1 codec joins repeated XFCC lines with ",")
 * then ours after a ",". An empty existing value gets no comma (HeaderString append semantics).
 */
export function appendXfcc(existing: readonly string[], element: string): string {
  const before = existing.filter((v) => v.length > 0).join(',');
  return before.length > 0 ? `${before},${element}` : element;
}
