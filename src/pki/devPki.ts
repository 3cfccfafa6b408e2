// The dev PKI behind `mtls-edge certs init` and the first `npm start`: root CA -> intermediate CA ->
// server and client leaves, each leaf with the chain file a peer actually sends (leaf + intermediate).
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { allExist, PRIVATE_MODE, writeFileAtomic } from './fsAtomic.js';
import { generateCrl, issueCertificate, type CaFiles } from './issue.js';
import { generateKeyPem, type KeyType } from './keys.js';
import type { Subject } from './subject.js';
import { ensureFailures, failureFiles, revokedCertPaths } from './failures.js';
import { writeReadme } from './readme.js';
import { SERVER_SANS } from './serverSans.js';

export interface DevPki {
  dir: string;
  rootCa: { cert: string; key: string };
  intermediateCa: { cert: string; key: string };
  /** Intermediate + root PEM. */
  caChain: string;
  /** chain = leaf + intermediate PEM (what a server sends). */
  server: { cert: string; key: string; chain: string };
  /** chain = leaf + intermediate PEM (what a client sends). */
  client: { cert: string; key: string; chain: string };
}

const DEV_KEY_TYPE: KeyType = 'ec-p256';
const ROOT_DAYS = 3650;
const INTERMEDIATE_DAYS = 1825;
const SERVER_DAYS = 825;
const CLIENT_DAYS = 365;

const DEV_SUBJECTS = {
  root: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['CN', 'mtls-edge Dev Root CA']]],
  intermediate: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['CN', 'mtls-edge Dev Intermediate CA']]],
  server: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['CN', 'localhost']]],
  client: [[['C', 'DE']], [['O', 'mtls-edge dev']], [['OU', 'clients']], [['CN', 'dev-client']]],
} as const satisfies Record<string, Subject>;

export function devPkiPaths(dir: string): DevPki {
  const d = resolve(dir);
  const ca = join(d, 'ca');
  return {
    dir: d,
    rootCa: { cert: join(ca, 'root-ca.crt'), key: join(ca, 'root-ca.key') },
    intermediateCa: { cert: join(ca, 'intermediate-ca.crt'), key: join(ca, 'intermediate-ca.key') },
    caChain: join(ca, 'ca-chain.crt'),
    server: { cert: join(d, 'server.crt'), key: join(d, 'server.key'), chain: join(d, 'server-chain.crt') },
    client: { cert: join(d, 'client.crt'), key: join(d, 'client.key'), chain: join(d, 'client-chain.crt') },
  };
}

export function crlPaths(dir: string): { root: string; intermediate: string; all: string } {
  const crl = join(resolve(dir), 'crl');
  return { root: join(crl, 'root-ca.crl'), intermediate: join(crl, 'intermediate-ca.crl'), all: join(crl, 'all.crl') };
}

const certFiles = (p: DevPki): string[] => [p.rootCa.cert, p.rootCa.key, p.intermediateCa.cert, p.intermediateCa.key, p.caChain,
  p.server.cert, p.server.key, p.server.chain, p.client.cert, p.client.key, p.client.chain];

/** Writes a key (0600) and returns its path. */
async function newKey(path: string, type: KeyType): Promise<string> {
  await writeFileAtomic(path, await generateKeyPem(type), PRIVATE_MODE);
  return path;
}

async function writeLeaf(
  paths: { cert: string; key: string; chain: string },
  issuer: CaFiles,
  subject: Subject,
  profile: 'server' | 'client',
  days: number,
  san: readonly string[] = [],
): Promise<void> {
  await newKey(paths.key, DEV_KEY_TYPE);
  const pem = await issueCertificate({ subject, keyPath: paths.key, issuer, profile, san, validity: { days } });
  await writeFileAtomic(paths.cert, pem);
  await writeFileAtomic(paths.chain, pem + (await readFile(issuer.cert, 'utf8')));
}

/** Writes the CRLs: one per CA (so CRL_CHECK_ALL finds one for every CA) and both concatenated. */
async function writeCrls(dir: string, revokedByIntermediate: readonly string[]): Promise<void> {
  const pki = devPkiPaths(dir);
  const crls = crlPaths(dir);
  const [root, inter] = await Promise.all([generateCrl(pki.rootCa, []), generateCrl(pki.intermediateCa, revokedByIntermediate)]);
  await writeFileAtomic(crls.root, root);
  await writeFileAtomic(crls.intermediate, inter);
  await writeFileAtomic(crls.all, inter + root);
}

async function createCore(pki: DevPki): Promise<void> {
  // All keys at once: they don't depend on each other and key generation is the slow part for RSA.
  await Promise.all([
    newKey(pki.rootCa.key, DEV_KEY_TYPE),
    newKey(pki.intermediateCa.key, DEV_KEY_TYPE),
  ]);
  await writeFileAtomic(pki.rootCa.cert, await issueCertificate({
    subject: DEV_SUBJECTS.root, keyPath: pki.rootCa.key, profile: 'root-ca', validity: { days: ROOT_DAYS },
  }));
  const interPem = await issueCertificate({
    subject: DEV_SUBJECTS.intermediate, keyPath: pki.intermediateCa.key, issuer: pki.rootCa, profile: 'intermediate-ca',
    validity: { days: INTERMEDIATE_DAYS },
  });
  await writeFileAtomic(pki.intermediateCa.cert, interPem);
  await writeFileAtomic(pki.caChain, interPem + (await readFile(pki.rootCa.cert, 'utf8')));
  await Promise.all([
    writeLeaf(pki.server, pki.intermediateCa, DEV_SUBJECTS.server, 'server', SERVER_DAYS, SERVER_SANS),
    writeLeaf(pki.client, pki.intermediateCa, DEV_SUBJECTS.client, 'client', CLIENT_DAYS),
  ]);
}

export interface EnsureOptions {
  force?: boolean;
  withFailures?: boolean;
}

/**
 * Creates the dev PKI in `dir` unless it is already complete. Existing material is kept (the user may
 * have imported the root into a browser or keystore); `force` regenerates everything.
 */
export async function ensureDevPki(dir: string, opts: EnsureOptions = {}): Promise<{ pki: DevPki; created: boolean }> {
  const pki = devPkiPaths(dir);
  const crls = crlPaths(dir);
  const coreComplete = !opts.force && (await allExist([...certFiles(pki), crls.root, crls.intermediate, crls.all]));
  let created = false;
  if (!coreComplete) {
    // Old failure material would be signed by a CA that no longer exists: drop it with the CA.
    await rm(failureFiles(dir).dir, { recursive: true, force: true });
    await createCore(pki);
    await writeCrls(dir, []);
    created = true;
  }
  if (opts.withFailures) {
    const made = await ensureFailures(dir, { force: opts.force === true || created });
    if (made) {
      await writeCrls(dir, await revokedCertPaths(dir));
      created = true;
    }
  }
  if (created) await writeReadme(dir);
  return { pki, created };
}
