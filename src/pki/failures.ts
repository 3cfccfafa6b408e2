// The failure family: one client certificate per way a client certificate can go wrong (or look odd)
// at the edge, each with the exact chain file a client should send to reproduce it.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { allExist, PRIVATE_MODE, writeFileAtomic } from './fsAtomic.js';
import { issueCertificate, type IssueOptions, type Validity } from './issue.js';
import { generateKeyPem } from './keys.js';
import type { Subject } from './subject.js';
// A cycle with devPki.ts is avoided by computing the CA paths locally.

export const FAILURE_KINDS = [
  'expired',
  'not-yet-valid',
  'self-signed',
  'untrusted-ca',
  'untrusted-root-in-chain',
  'missing-intermediate',
  'server-auth-only',
  'revoked',
  'utf8-subject',
  'bmp-subject',
  'multi-valued-rdn',
  'two-cns',
  'no-cn',
  'notafter-2060',
  'notbefore-1999',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export function isFailureKind(value: string): value is FailureKind {
  return (FAILURE_KINDS as readonly string[]).includes(value);
}

/**
 * The verify result the edge reports (X-SSL-Client-Verify when ignored; Node's `authorizationError`)
 * with the dev root as the only trust list entry. `revoked` gives 23 only when CRLs are configured.
 */
export const EXPECTED_VERIFY: Record<FailureKind, number> = {
  expired: 10,
  'not-yet-valid': 9,
  'self-signed': 18,
  'untrusted-ca': 21,
  'untrusted-root-in-chain': 19,
  'missing-intermediate': 21,
  'server-auth-only': 26,
  revoked: 23,
  'utf8-subject': 0,
  'bmp-subject': 0,
  'multi-valued-rdn': 0,
  'two-cns': 0,
  'no-cn': 0,
  'notafter-2060': 0,
  'notbefore-1999': 0,
};

/**
 * What `openssl verify` prints first. It stops at the first error for an unknown issuer (20), while
 * a TLS stack that lets verification continue (HAProxy with ignores, Node) ends at 21 for a lone leaf.
 */
export const EXPECTED_OPENSSL_FIRST_ERROR: Record<FailureKind, number> = {
  ...EXPECTED_VERIFY,
  'untrusted-ca': 20,
  'missing-intermediate': 20,
};

export const FAILURE_DESCRIPTIONS: Record<FailureKind, string> = {
  expired: 'expired a month ago (notAfter in the past)',
  'not-yet-valid': 'valid only from one year in the future (notBefore in the future)',
  'self-signed': 'self-signed end-entity certificate, no CA involved',
  'untrusted-ca': 'issued by a root CA that is not in the trust list; chain is the leaf only',
  'untrusted-root-in-chain': 'issued by an untrusted root; chain is leaf + that self-signed root',
  'missing-intermediate': 'issued by the dev intermediate, but the chain is the leaf only',
  'server-auth-only': 'extended key usage serverAuth only (no clientAuth)',
  revoked: 'revoked by the dev intermediate (listed in crl/intermediate-ca.crl)',
  'utf8-subject': 'subject with non-ASCII UTF8String values',
  'bmp-subject': 'subject with BMPString (UCS-2) values',
  'multi-valued-rdn': 'subject with a multi-valued RDN (OU=failures+OU=multi-valued)',
  'two-cns': 'subject with two CN attributes',
  'no-cn': 'subject without a CN',
  'notafter-2060': 'notAfter 2060-01-01 (GeneralizedTime)',
  'notbefore-1999': 'notBefore 1999-01-01 (UTCTime 99...), still valid today',
};

export interface FailureFiles {
  cert: string;
  key: string;
  /** Exactly what a client should send for this case. */
  chain: string;
}

export function failureFiles(dir: string): { dir: string; untrustedRoot: { cert: string; key: string } } {
  const f = join(resolve(dir), 'failures');
  return { dir: f, untrustedRoot: { cert: join(f, 'untrusted-root-ca.crt'), key: join(f, 'untrusted-root-ca.key') } };
}

export function failurePaths(dir: string, kind: FailureKind): FailureFiles {
  const f = failureFiles(dir).dir;
  return { cert: join(f, `${kind}.crt`), key: join(f, `${kind}.key`), chain: join(f, `${kind}-chain.crt`) };
}

export async function revokedCertPaths(dir: string): Promise<string[]> {
  return [failurePaths(dir, 'revoked').cert];
}

const DAY = 86_400_000;
const base = (cn: string): Subject => [[['C', 'DE']], [['O', 'mtls-edge dev']], [['OU', 'failures']], [['CN', cn]]];

interface Recipe {
  subject: Subject;
  issuer: 'intermediate' | 'untrusted-root' | 'self';
  profile: IssueOptions['profile'];
  validity: Validity;
  stringMask?: 'utf8only' | 'pkix';
  /** What the chain file holds besides the leaf. */
  chainExtra: 'intermediate' | 'untrusted-root' | 'none';
}

function recipe(kind: FailureKind, now: number): Recipe {
  const normal = { issuer: 'intermediate', profile: 'client', validity: { days: 365 }, chainExtra: 'intermediate' } as const;
  switch (kind) {
    case 'expired':
      return { ...normal, subject: base('expired'), validity: { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 30 * DAY) } };
    case 'not-yet-valid':
      return { ...normal, subject: base('not-yet-valid'), validity: { notBefore: new Date(now + 365 * DAY), notAfter: new Date(now + 730 * DAY) } };
    case 'self-signed':
      return { ...normal, subject: base('self-signed'), issuer: 'self', profile: 'self-signed-client', chainExtra: 'none' };
    case 'untrusted-ca':
      return { ...normal, subject: base('untrusted-ca'), issuer: 'untrusted-root', chainExtra: 'none' };
    case 'untrusted-root-in-chain':
      return { ...normal, subject: base('untrusted-root-in-chain'), issuer: 'untrusted-root', chainExtra: 'untrusted-root' };
    case 'missing-intermediate':
      return { ...normal, subject: base('missing-intermediate'), chainExtra: 'none' };
    case 'server-auth-only':
      return { ...normal, subject: base('server-auth-only'), profile: 'server-auth-only' };
    case 'revoked':
      return { ...normal, subject: base('revoked') };
    case 'utf8-subject':
      return { ...normal, subject: [[['C', 'DE']], [['O', "Víkî's Vergnügungspark"]], [['OU', 'Straße 1/2, Zoë']], [['CN', 'Jürgen Groß']]] };
    case 'bmp-subject':
      return { ...normal, stringMask: 'pkix', subject: [[['C', 'DE']], [['O', "Pete's Café"]], [['CN', 'Bjørn BMP']]] };
    case 'multi-valued-rdn':
      return { ...normal, subject: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['OU', 'failures'], ['OU', 'multi-valued']], [['CN', 'multi-valued-rdn']]] };
    case 'two-cns':
      return { ...normal, subject: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['CN', 'first-cn']], [['CN', 'second-cn']]] };
    case 'no-cn':
      return { ...normal, subject: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['OU', 'no-cn']]] };
    case 'notafter-2060':
      return { ...normal, subject: base('notafter-2060'), validity: { notBefore: new Date(now - DAY), notAfter: new Date(Date.UTC(2060, 0, 1)) } };
    case 'notbefore-1999':
      return { ...normal, subject: base('notbefore-1999'), validity: { notBefore: new Date(Date.UTC(1999, 0, 1)), notAfter: new Date(now + 365 * DAY) } };
  }
}

const UNTRUSTED_ROOT_SUBJECT: Subject = [[['C', 'DE']], [['O', 'Untrusted Ltd']], [['CN', 'Untrusted Root CA']]];

function allFailureFiles(dir: string): string[] {
  const f = failureFiles(dir);
  return [f.untrustedRoot.cert, f.untrustedRoot.key, ...FAILURE_KINDS.flatMap((k) => Object.values(failurePaths(dir, k)))];
}

/** Creates the failure family under `dir/failures`; returns false when it was already complete. */
export async function ensureFailures(dir: string, opts: { force?: boolean } = {}): Promise<boolean> {
  if (!opts.force && (await allExist(allFailureFiles(dir)))) return false;
  const root = resolve(dir);
  const intermediate = { cert: join(root, 'ca', 'intermediate-ca.crt'), key: join(root, 'ca', 'intermediate-ca.key') };
  const untrusted = failureFiles(dir).untrustedRoot;
  const now = Date.now();

  // Keys first, all in parallel, then the one certificate the others depend on.
  await Promise.all([
    generateKeyPem('ec-p256').then((k) => writeFileAtomic(untrusted.key, k, PRIVATE_MODE)),
    ...FAILURE_KINDS.map((kind) => generateKeyPem('ec-p256').then((k) => writeFileAtomic(failurePaths(dir, kind).key, k, PRIVATE_MODE))),
  ]);
  await writeFileAtomic(untrusted.cert, await issueCertificate({
    subject: UNTRUSTED_ROOT_SUBJECT, keyPath: untrusted.key, profile: 'root-ca', validity: { days: 3650 },
  }));
  const [interPem, untrustedPem] = await Promise.all([readFile(intermediate.cert, 'utf8'), readFile(untrusted.cert, 'utf8')]);

  await Promise.all(FAILURE_KINDS.map(async (kind) => {
    const r = recipe(kind, now);
    const p = failurePaths(dir, kind);
    const issuer = r.issuer === 'intermediate' ? intermediate : r.issuer === 'untrusted-root' ? untrusted : undefined;
    const pem = await issueCertificate({ subject: r.subject, keyPath: p.key, issuer, profile: r.profile, validity: r.validity, stringMask: r.stringMask });
    const extra = r.chainExtra === 'intermediate' ? interPem : r.chainExtra === 'untrusted-root' ? untrustedPem : '';
    await writeFileAtomic(p.cert, pem);
    await writeFileAtomic(p.chain, pem + extra);
  }));
  return true;
}
