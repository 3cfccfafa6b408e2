// From what Node's TLS layer reports to the verdict HAProxy would reach.
// Node gives the LAST verify error OpenSSL met (its verify callback accepts everything and the
// result is read after the handshake), which is also what HAProxy's ssl_c_verify reports. HAProxy
// however refuses the handshake at the FIRST error its ignore lists do not cover (crt-ignore-err at
// depth 0, ca-ignore-err above), so every error is rebuilt from the chain (chainErrors.ts) and each
// one must be covered at its depth. Nothing of this runs for a certificate Node reports verified.
import type { X509Certificate } from 'node:crypto';
import { verifyCodeFromNode, verifyCodeInfo, type VerifyCodeInfo } from '../pki/verifyCodes.js';
import type { ClientAuthMode } from '../config/schema.js';
import { chainErrors, MAX_CHAIN, parseCrls, type ChainError, type CrlSet } from './chainErrors.js';
import { CHAIN_READ_MAX_BYTES } from './peerCertificate.js';

export type VerifyOutcome =
  | { readonly kind: 'no-cert'; readonly accepted: boolean }
  | {
      readonly kind: 'cert';
      readonly accepted: boolean;
      /** Node's (= OpenSSL's last) verify code: what X-SSL-Client-Verify carries. */
      readonly code: number;
      /** Every code met, sorted (empty when verified). */
      readonly errors: readonly number[];
      /** Every error with its depth, in OpenSSL's order; null when they could not be computed. */
      readonly chainErrors: readonly ChainError[] | null;
      /** Why the errors could not be computed (then only `all` accepts), or null. */
      readonly uncomputable: string | null;
      readonly info: VerifyCodeInfo;
    };

type IgnoreList = 'all' | ReadonlySet<number>;

export interface VerifyPolicy {
  readonly clientAuth: ClientAuthMode;
  /** crt-ignore-err: errors at depth 0 (the client certificate). */
  readonly ignore: IgnoreList;
  /** ca-ignore-err: errors at depth > 0 (its CAs); absent = the same list as `ignore`. */
  readonly caIgnore?: IgnoreList;
  readonly trustCerts: readonly X509Certificate[];
  /** The configuration's CRLs, one PEM CRL per buffer; absent or empty = CRL checking off. */
  readonly crlPem?: readonly Buffer[];
}

/** How many certificates of a client's Certificate message are read; a longer list is not modelled. */
const MAX_SENT = 1000;

/**
 * Every certificate the client sent, in its order, or null when it sent more than MAX_SENT. Node's
 * X509Certificate links them in that order (each one's issuerCertificate is the next one sent,
 * whoever issued it), so duplicates and unrelated certificates are all here: OpenSSL builds its
 * chain from all of them, and so must the chain model (test/tls/sentCertificates.test.ts).
 */
function sentCertificates(leaf: X509Certificate): X509Certificate[] | null {
  const sent = [leaf];
  for (let c = leaf.issuerCertificate; c !== undefined && c !== sent[sent.length - 1]; c = c.issuerCertificate) {
    if (sent.length >= MAX_SENT) return null;
    sent.push(c);
  }
  return sent;
}

/** The issuer chain among the certificates sent: leaf, then the one that issued it, … (by name and key identifier, as OpenSSL's check_issued). */
function peerChain(leaf: X509Certificate): X509Certificate[] {
  const sent = sentCertificates(leaf) ?? [leaf];
  const chain = [leaf];
  while (chain.length < MAX_CHAIN) {
    const top = chain[chain.length - 1]!;
    if (isSelfIssued(top)) break;
    const issuer = sent.find((c) => top.checkIssued(c) && !chain.some((x) => x.fingerprint256 === c.fingerprint256));
    if (!issuer) break;
    chain.push(issuer);
  }
  return chain;
}

/**
 * The chain as OpenSSL verified it: the peer chain, completed from the trust list up to a
 * self-issued root. Node links only the certificates the client sent, but X-SSL-Client-Root-CA-DN
 * names the trust-list root that completed the chain.
 */
export function verifiedChain(leaf: X509Certificate, trust: readonly X509Certificate[]): X509Certificate[] {
  const chain = peerChain(leaf);
  while (chain.length < MAX_CHAIN) {
    const top = chain[chain.length - 1];
    if (isSelfIssued(top)) break;
    const issuer = trust.find((t) => top.checkIssued(t) && top.verify(t.publicKey));
    if (!issuer || chain.some((c) => c.fingerprint256 === issuer.fingerprint256)) break;
    chain.push(issuer);
  }
  return chain;
}

function isSelfIssued(c: X509Certificate): boolean {
  return c.subject === c.issuer && c.checkIssued(c);
}

const covers = (list: IgnoreList, code: number): boolean => list === 'all' || list.has(code);

/** The list HAProxy consults for an error at this depth (ssl_sock_bind_verifycbk). */
function ignoreListFor(policy: Pick<VerifyPolicy, 'ignore' | 'caIgnore'>, depth: number): IgnoreList {
  return depth > 0 ? (policy.caIgnore ?? policy.ignore) : policy.ignore;
}

/** No list names any code: HAProxy then refuses at the first error. */
function ignoresNothing(policy: VerifyPolicy): boolean {
  const none = (l: IgnoreList): boolean => l !== 'all' && l.size === 0;
  return none(policy.ignore) && none(policy.caIgnore ?? policy.ignore);
}

/** Both lists are `all`: HAProxy then accepts whatever the errors. */
function ignoresEverything(policy: VerifyPolicy): boolean {
  return policy.ignore === 'all' && (policy.caIgnore ?? policy.ignore) === 'all';
}

/** CRLs are parsed once per configuration (the buffers live as long as the configuration). */
const parsedCrls = new WeakMap<readonly Buffer[], CrlSet>();
function crlSetOf(pems: readonly Buffer[] | undefined): CrlSet {
  if (!pems || pems.length === 0) return null;
  let set = parsedCrls.get(pems);
  if (set === undefined) {
    set = parseCrls(pems);
    parsedCrls.set(pems, set);
  }
  return set;
}

/** Codes Node reports as UNSPECIFIED (its code table has no name for them). */
const NODE_UNNAMED: ReadonlySet<number> = new Set([32, 34, 35, 66, 67, 68]);

interface Verdict {
  /** The code X-SSL-Client-Verify carries: Node's, or the chain's last error when Node has no name for it. */
  readonly code: number;
  readonly accepted: boolean;
  readonly errors: readonly number[];
  readonly chainErrors: readonly ChainError[] | null;
  readonly uncomputable: string | null;
}

/**
 * Every error OpenSSL met must be covered by the list for its depth, and Node's own code must be
 * among them: a code the model did not find means the model and OpenSSL disagree, so only `all`
 * accepts. Time is read per call (never cached): a certificate may expire between two connections.
 */
function judgeChain(reportedCode: number, leaf: X509Certificate, policy: VerifyPolicy, now = Date.now()): Verdict {
  const all = ignoresEverything(policy);
  const sent = sentCertificates(leaf);
  if (sent === null) return { code: reportedCode, accepted: all, errors: [reportedCode], chainErrors: null, uncomputable: `more than ${MAX_SENT} certificates sent` };
  const found = chainErrors({ leaf, sent, trust: policy.trustCerts, crls: crlSetOf(policy.crlPem), now });
  if (found.kind === 'refused') return { code: reportedCode, accepted: false, errors: [reportedCode], chainErrors: null, uncomputable: found.reason };
  if (found.kind === 'uncomputable') return { code: reportedCode, accepted: all, errors: [reportedCode], chainErrors: null, uncomputable: found.reason };
  const last = found.errors[found.errors.length - 1];
  const nodeCode = reportedCode === -1 && last && NODE_UNNAMED.has(last.code) ? last.code : reportedCode;
  const codes = [...new Set(found.errors.map((e) => e.code))].sort((a, b) => a - b);
  if (!codes.includes(nodeCode)) {
    const errors = [...new Set([...codes, nodeCode])].sort((a, b) => a - b);
    return { code: nodeCode, accepted: all, errors, chainErrors: found.errors, uncomputable: `OpenSSL reported ${nodeCode}, which the chain model did not find (it found ${codes.join(',') || 'none'})` };
  }
  const accepted = all || found.errors.every((e) => covers(ignoreListFor(policy, e.depth), e.code));
  return { code: nodeCode, accepted, errors: codes, chainErrors: found.errors, uncomputable: null };
}

const VERIFIED: VerifyOutcome = Object.freeze({ kind: 'cert', accepted: true, code: 0, errors: Object.freeze([]) as readonly number[], chainErrors: Object.freeze([]) as readonly ChainError[], uncomputable: null, info: verifyCodeInfo(0) });

/**
 * @param nodeError Node's verify error code (e.g. `CERT_HAS_EXPIRED`), or null when verified.
 * @param presented the presented certificate (its chain is read only for an error), or null.
 */
export function verifyOutcome(nodeError: string | null, presented: { x509(): X509Certificate; readonly chainCheap?: boolean; readonly handshakeBytes?: number } | null, policy: VerifyPolicy): VerifyOutcome {
  if (!presented) return { kind: 'no-cert', accepted: policy.clientAuth !== 'required' };
  if (!nodeError) return VERIFIED;
  const info = verifyCodeFromNode(nodeError) ?? verifyCodeInfo(-1);
  // Without an ignore list every error refuses, whatever the chain holds: a chain costly to read
  // (peerCertificate.ts) is then left unread, and the code is Node's alone. Not for the codes Node
  // leaves unnamed (-1: 34, 66, 67, 68): the chain model names them.
  if (presented.chainCheap === false && ignoresNothing(policy) && info.code !== -1) {
    const uncomputable = `not modelled: the client had sent ${presented.handshakeBytes ?? 0} bytes when its handshake completed, and a chain is read past ${CHAIN_READ_MAX_BYTES} bytes only when an ignore list could accept an error`;
    return { kind: 'cert', accepted: false, code: info.code, errors: [info.code], chainErrors: null, uncomputable, info };
  }
  const verdict = judgeChain(info.code, presented.x509(), policy);
  return { kind: 'cert', ...verdict, info: verdict.code === info.code ? info : verifyCodeInfo(verdict.code) };
}

