// What the edge derives from a client certificate (summary for the logs and the page, the mapped
// user, the ten header values) depends on the certificate and the TLS configuration, not on the
// connection. Clients reconnect with the same certificate again and again, so it is derived once per
// certificate and reused: a new connection then costs a map lookup, not a DER walk and a signature
// check. Only the session ID is per connection. Bounded; rebuilt with the runtime on reload.
import { X509Certificate } from 'node:crypto';
import { clientCertHeaderValues, type ClientCertValueOptions } from '../headers/clientCertValues.js';
import { firstCommonName, nodeDnAttributes } from '../headers/commonName.js';
import { H10_SET_ORDER } from '../headers/h10.js';
import type { DialectWriter } from '../headers/dialects/dialects.js';
import type { CertSummary, ChainCertificate, HeaderPair } from '../observe/events.js';
import { verifiedChain } from '../tls/verifyOutcome.js';
import { CHAIN_READ_MAX_BYTES, type PeerCertificate } from '../tls/peerCertificate.js';

export type UserMappingLookup = (leaf: X509Certificate) => string | null;

const SESSION_ID_INDEX = H10_SET_ORDER.indexOf('X-SSL-Client-Session-ID');

/**
 * RFC 2253-like one-line form of Node's multi-line DN ("C=DE\nCN=x" → "CN=x,C=DE"). Node reports an
 * empty name (a certificate with an empty subject or issuer) as undefined, whatever its type says.
 */
export function rfc2253(nodeDn: string | undefined): string {
  return typeof nodeDn === 'string' ? nodeDn.split('\n').filter(Boolean).reverse().join(',') : '';
}

// A client may send a chain of any length (a hostile one, 50 or more): the page shows this many.
const MAX_CHAIN_SHOWN = 10;

/** The presented chain after the leaf, walking Node's issuer links; stops at a self-reference. */
function presentedChain(leaf: X509Certificate): { chain: ChainCertificate[]; chainTruncated: boolean } {
  const chain: ChainCertificate[] = [];
  const seen = new Set<X509Certificate>([leaf]);
  let c = leaf.issuerCertificate;
  while (c !== undefined && !seen.has(c)) {
    if (chain.length === MAX_CHAIN_SHOWN) return { chain, chainTruncated: true };
    seen.add(c);
    chain.push({ subject: rfc2253(c.subject), subjectCN: firstCommonName(nodeDnAttributes(c.subject)), issuer: rfc2253(c.issuer), validTo: c.validTo });
    // A self-signed root links to itself (getPeerCertificate(true) does); it is shown once.
    if (c.issuerCertificate?.fingerprint256 === c.fingerprint256) break;
    c = c.issuerCertificate;
  }
  return { chain, chainTruncated: false };
}

export function certSummary(c: X509Certificate): CertSummary {
  return {
    ...presentedChain(c),
    subject: rfc2253(c.subject),
    issuer: rfc2253(c.issuer),
    subjectCN: firstCommonName(nodeDnAttributes(c.subject)),
    issuerCN: firstCommonName(nodeDnAttributes(c.issuer)),
    serialNumber: c.serialNumber,
    validFrom: c.validFrom,
    validTo: c.validTo,
    fingerprint256: c.fingerprint256,
  };
}

const CHAIN_NOT_READ = `chain not read: the client sent more than ${CHAIN_READ_MAX_BYTES / 1024} KiB in its handshake, and only its leaf is shown`;

/**
 * A refused certificate for its event and its explanation page: the leaf and the chain the client
 * sent, or the leaf alone (marked truncated, and saying why) when that chain is too costly to read
 * (PeerCertificate.chainCheap). The leaf is then parsed from the session's DER: the socket's
 * certificate would link every certificate sent, which is the cost being avoided.
 */
export function presentedSummary(peer: PeerCertificate): CertSummary {
  return peer.chainCheap ? certSummary(peer.x509()) : leafAloneSummary(new X509Certificate(peer.der));
}

/** A leaf parsed from DER alone (no issuer links), for a client whose chain is not read. */
function leafAloneSummary(leaf: X509Certificate): CertSummary {
  return { ...certSummary(leaf), chainTruncated: true, chainNotRead: CHAIN_NOT_READ };
}

export class CertInfo {
  readonly summary: CertSummary;
  readonly mappedUser: string | null;
  private readonly templates = new Map<number, readonly HeaderPair[]>();
  private chain: readonly X509Certificate[] | undefined;
  private readonly dialectTemplates = new Map<DialectWriter, Map<number, readonly HeaderPair[]>>();

  constructor(
    private readonly leaf: X509Certificate,
    private readonly trust: readonly X509Certificate[],
    private readonly valueOptions: ClientCertValueOptions,
    mapUser: UserMappingLookup,
    summary: CertSummary = certSummary(leaf),
  ) {
    this.summary = summary;
    this.mappedUser = mapUser(leaf);
  }

  /** A dialect's headers for this certificate and verify result, computed once. */
  dialectValues(dialect: DialectWriter, verifyCode: number): readonly HeaderPair[] {
    let byCode = this.dialectTemplates.get(dialect);
    if (!byCode) this.dialectTemplates.set(dialect, (byCode = new Map()));
    let values = byCode.get(verifyCode);
    if (!values) {
      this.chain ??= verifiedChain(this.leaf, this.trust);
      values = Object.freeze(dialect.values({ leaf: this.leaf, chain: this.chain, verifyCode }));
      byCode.set(verifyCode, values);
    }
    return values;
  }

  /** The ten values for a connection with this certificate, its verify result and session ID. */
  headerValues(verifyCode: number, sessionIdHex: string): readonly HeaderPair[] {
    let template = this.templates.get(verifyCode);
    if (!template) {
      // A plain (unfrozen) copy: V8's slice() of a frozen array takes a slow path (~2 µs here).
      template = [
        ...clientCertHeaderValues(
          { leafDer: this.leaf.raw, chainDer: verifiedChain(this.leaf, this.trust).map((c) => c.raw), verifyCode, sessionId: null },
          this.valueOptions,
        ),
      ];
      this.templates.set(verifyCode, template);
    }
    const values = template.slice();
    values[SESSION_ID_INDEX] = [template[SESSION_ID_INDEX][0], sessionIdHex];
    return values;
  }
}

export class CertInfoCache {
  private readonly entries = new Map<string, CertInfo>();

  constructor(
    private readonly trust: readonly X509Certificate[],
    private readonly valueOptions: ClientCertValueOptions,
    private readonly mapUser: UserMappingLookup,
    private readonly maxEntries = 1024,
  ) {}

  get(peer: PeerCertificate): CertInfo {
    // A chain too costly to read (only a refused certificate's, in explain mode: verifyOutcome reads
    // the chain of any certificate it could accept) is not linked, and its leaf-only details are not
    // cached: a hostile client mints a new leaf per connection anyway, and a later connection with the
    // same leaf and a real chain must not find the leaf alone. Its headers are never asked for.
    if (!peer.chainCheap) {
      const leaf = new X509Certificate(peer.der);
      return new CertInfo(leaf, this.trust, this.valueOptions, this.mapUser, leafAloneSummary(leaf));
    }
    // The DER itself is the key (as text: Map hashes strings, not Buffers); no digest per connection.
    const key = peer.der.toString('latin1');
    let info = this.entries.get(key);
    if (!info) {
      info = new CertInfo(peer.x509(), this.trust, this.valueOptions, this.mapUser);
      // Map keeps insertion order: dropping the first key evicts the oldest entry.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, info);
    }
    return info;
  }
}
