// The rfc9440 dialect: RFC 9440 Client-Cert and Client-Cert-Chain.
// docs/dialects.md describes it.
import type { X509Certificate } from 'node:crypto';
import type { HeaderPair } from '../../observe/events.js';
import type { DialectRow } from './dialectTable.js';
import type { DialectCertFacts } from './certFacts.js';

export const CLIENT_CERT_HEADER = 'Client-Cert';
export const CLIENT_CERT_CHAIN_HEADER = 'Client-Cert-Chain';

/** RFC 9440 has no modes; its §2.4 processing rules are the one row pair below. */
export const RFC9440_MODES = ['sanitize_set'] as const;
export type Rfc9440Mode = (typeof RFC9440_MODES)[number];

// §2.4: any Client-Cert / Client-Cert-Chain in the incoming request MUST be removed or overwritten;
// without client certificate authentication they MUST be removed.
// prettier-ignore
export const RFC9440_MODE_TABLE: readonly DialectRow<Rfc9440Mode>[] = Object.freeze([
  { mode: 'sanitize_set', cert: 'none', action: 'remove' },
  { mode: 'sanitize_set', cert: 'used', action: 'set'    },
] satisfies DialectRow<Rfc9440Mode>[]);

/** An RFC 8941 Byte Sequence of a certificate's DER: `:base64:` (§2.1). */
export function byteSequence(cert: X509Certificate): string {
  return `:${cert.raw.toString('base64')}:`;
}

export interface Rfc9440Options {
  /** Also send Client-Cert-Chain (§2.3, "if so configured"). */
  readonly chain: boolean;
}

/**
 * Client-Cert, then (when configured and the chain has more than the leaf) Client-Cert-Chain: the
 * validation chain without the leaf, in TLS order, as an RFC 8941 List (", " between members).
 */
export function rfc9440HeaderValues(facts: DialectCertFacts, opts: Rfc9440Options): HeaderPair[] {
  const out: HeaderPair[] = [[CLIENT_CERT_HEADER, byteSequence(facts.leaf)]];
  const above = facts.chain.slice(1);
  if (opts.chain && above.length > 0) out.push([CLIENT_CERT_CHAIN_HEADER, above.map(byteSequence).join(', ')]);
  return out;
}
