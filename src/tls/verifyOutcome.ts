// From what Node's TLS layer reports to the verdict HAProxy would reach.
// Node gives the LAST verify error OpenSSL met (its verify callback accepts everything and the
// result is read after the handshake), which is also what HAProxy's ssl_c_verify reports. An ignore
// list must however cover EVERY error met on the way (an untrusted CA needs 20 and 21), so the
// errors OpenSSL walked through are reconstructed from the chain itself.
import type { X509Certificate } from 'node:crypto';
import { verifyCodeFromNode, verifyCodeInfo, type VerifyCodeInfo } from '../pki/verifyCodes.js';
import type { ClientAuthMode } from '../config/schema.js';

export type VerifyOutcome =
  | { readonly kind: 'no-cert'; readonly accepted: boolean }
  | { readonly kind: 'cert'; readonly accepted: boolean; readonly code: number; readonly errors: readonly number[]; readonly info: VerifyCodeInfo };

export interface VerifyPolicy {
  readonly clientAuth: ClientAuthMode;
  readonly ignore: 'all' | ReadonlySet<number>;
  readonly trustCerts: readonly X509Certificate[];
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EKU_OID = '2.5.29.37.0';

/** The certificate chain as Node links it: leaf, then each issuerCertificate until it repeats. */
export function peerChain(leaf: X509Certificate): X509Certificate[] {
  const chain = [leaf];
  let cur = leaf;
  for (let i = 0; i < 10; i++) {
    const next = cur.issuerCertificate;
    if (!next || next.fingerprint256 === cur.fingerprint256) break;
    chain.push(next);
    cur = next;
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
  for (let i = 0; i < 10; i++) {
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

function inTrust(c: X509Certificate, trust: readonly X509Certificate[]): boolean {
  return trust.some((t) => t.fingerprint256 === c.fingerprint256);
}

function issuedByTrust(c: X509Certificate, trust: readonly X509Certificate[]): boolean {
  return trust.some((t) => c.checkIssued(t) && c.verify(t.publicKey));
}

/** Errors of chain building that a later error (expiry, EKU) can hide from Node's single code. */
function trustErrors(chain: readonly X509Certificate[], trust: readonly X509Certificate[]): number[] {
  if (chain.some((c) => inTrust(c, trust) || issuedByTrust(c, trust))) return [];
  const top = chain[chain.length - 1];
  if (chain.length === 1 && isSelfIssued(top)) return [18];
  if (isSelfIssued(top)) return [19];
  return chain.length === 1 ? [20, 21] : [20];
}

function timeErrors(chain: readonly X509Certificate[], now: number): number[] {
  const out: number[] = [];
  for (const c of chain) {
    if (Date.parse(c.validFrom) > now) out.push(9);
    if (Date.parse(c.validTo) < now) out.push(10);
  }
  return out;
}

function ekuErrors(leaf: X509Certificate): number[] {
  const eku = leaf.keyUsage;
  if (!eku || eku.length === 0) return [];
  return eku.includes(CLIENT_AUTH_OID) || eku.includes(ANY_EKU_OID) ? [] : [26];
}

/** The errors OpenSSL met, for Node's final code: the code itself plus what it may have hidden. */
export function walkedErrors(finalCode: number, chain: readonly X509Certificate[], trust: readonly X509Certificate[], now = Date.now()): number[] {
  if (finalCode === 0) return [];
  const errors = new Set<number>(finalCode === 21 ? [20, 21] : [finalCode]);
  for (const e of [...trustErrors(chain, trust), ...timeErrors(chain, now), ...ekuErrors(chain[0])]) errors.add(e);
  return [...errors].sort((a, b) => a - b);
}

function isIgnored(errors: readonly number[], ignore: VerifyPolicy['ignore']): boolean {
  return ignore === 'all' || errors.every((e) => ignore.has(e));
}

const VERIFIED: VerifyOutcome = Object.freeze({ kind: 'cert', accepted: true, code: 0, errors: Object.freeze([]) as readonly number[], info: verifyCodeInfo(0) });

/**
 * @param nodeError Node's verify error code (e.g. `CERT_HAS_EXPIRED`), or null when verified.
 * @param presented the presented certificate (its chain is read only for an error), or null.
 */
export function verifyOutcome(nodeError: string | null, presented: { x509(): X509Certificate } | null, policy: VerifyPolicy): VerifyOutcome {
  if (!presented) return { kind: 'no-cert', accepted: policy.clientAuth !== 'required' };
  if (!nodeError) return VERIFIED;
  const info = verifyCodeFromNode(nodeError) ?? verifyCodeInfo(-1);
  const errors = walkedErrors(info.code, peerChain(presented.x509()), policy.trustCerts);
  return { kind: 'cert', accepted: isIgnored(errors, policy.ignore), code: info.code, errors, info };
}

