// The hostile family: client certificates shaped to break code that reads them (empty subject, 150
// RDNs, 8 KB names, control bytes and markup in the CN, odd string types, odd keys, a 50-certificate
// chain), each with the chain file a client sends and its key. Built with certBuilder, signed by the
// dev intermediate (or the dev root for the long chain) so most of them verify.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { allExist, PRIVATE_MODE, writeFileAtomic } from './fsAtomic.js';
import {
  buildCertificate, certKeyFromPem, generateCertKey, OID, privateKeyPem, signerOf, type CertKey, type CertKeyType,
  type ExtensionSpec, type NameSpec, type Signer, type StringType,
} from './certBuilder.js';

export const HOSTILE_KINDS = [
  'empty-subject', // subject is the empty Name (`-subj "/"`), issued by the dev intermediate: verifies (0)
  'empty-subject-self-signed', // empty subject and empty issuer, self-signed (18)
  'empty-cn', // CN present with an empty value (/O=mtls-edge dev/CN=)
  'no-extensions', // v3 certificate without any extension, issued by the dev intermediate
  'rdns-150', // 150 RDNs (OU=rdn-0 … OU=rdn-148, CN=rdns-150)
  'huge-subject', // subject of about 8 KB (eight 1,000-byte OUs and a CN)
  'crlf-cn', // CN with CR/LF and a fake header line: "a\r\nX-SSL-Client-Verify: 0\r\n"
  'html-cn', // CN with HTML markup: <script>alert(1)</script><img src=x onerror=alert(2)>
  'ansi-cn', // CN with ANSI escape sequences (ESC[31m red, ESC[2J clear screen) and a BEL
  'bmp-subject', // O and CN as BMPString (UCS-2), including characters outside Latin-1
  't61-subject', // O and CN as TeletexString (T61String) with bytes above 0x7F
  'universal-subject', // O and CN as UniversalString (UCS-4), including an emoji
  'random-utf8-bytes', // 64 random bytes in a UTF8String CN (almost surely invalid UTF-8: OpenSSL cannot load it)
  'ed25519-key', // Ed25519 client key (the signature by the dev intermediate is ECDSA)
  'rsa1024-key', // RSA-1024 client key
  'chain-50', // leaf + 49 intermediate CAs under the dev root: a 50-certificate chain
  'expired-bad-signature', // expired a month ago AND a broken signature (two defects at once)
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileFiles {
  cert: string;
  key: string;
  /** Exactly what a client sends for this case. */
  chain: string;
}

export function hostileDir(dir: string): string {
  return join(resolve(dir), 'hostile');
}

export function hostilePaths(dir: string, kind: HostileKind): HostileFiles {
  const h = hostileDir(dir);
  return { cert: join(h, `${kind}.crt`), key: join(h, `${kind}.key`), chain: join(h, `${kind}-chain.crt`) };
}

const DAY = 86_400_000;
const CLIENT_EXTENSIONS: readonly ExtensionSpec[] = [
  { kind: 'basicConstraints', ca: false, critical: true },
  { kind: 'keyUsage', usages: ['digitalSignature'], critical: true },
  { kind: 'extKeyUsage', purposes: [OID.clientAuth] },
  { kind: 'subjectKeyIdentifier' },
  { kind: 'authorityKeyIdentifier' },
];
const attr = (oid: string, stringType: StringType, value: string | Uint8Array): NameSpec[number] => [{ oid, stringType, value }];
const base = (cn: string, stringType: StringType = 'utf8'): NameSpec => [attr(OID.O, 'utf8', 'mtls-edge dev'), attr(OID.OU, 'utf8', 'hostile'), attr(OID.CN, stringType, cn)];

interface Recipe {
  subject: NameSpec;
  key: CertKeyType;
  selfSigned?: boolean;
  extensions?: readonly ExtensionSpec[];
  notBefore?: Date;
  notAfter?: Date;
  corruptSignature?: boolean;
}

function recipe(kind: Exclude<HostileKind, 'chain-50'>, now: number): Recipe {
  switch (kind) {
    case 'empty-subject':
      return { subject: [], key: 'ec-p256' };
    case 'empty-subject-self-signed':
      return { subject: [], key: 'ec-p256', selfSigned: true, extensions: [{ kind: 'basicConstraints', ca: false }, { kind: 'extKeyUsage', purposes: [OID.clientAuth] }] };
    case 'empty-cn':
      return { subject: [attr(OID.O, 'utf8', 'mtls-edge dev'), attr(OID.CN, 'utf8', '')], key: 'ec-p256' };
    case 'no-extensions':
      return { subject: base('no-extensions'), key: 'ec-p256', extensions: [] };
    case 'rdns-150':
      return { subject: [...Array.from({ length: 149 }, (_, i) => attr(OID.OU, 'utf8', `rdn-${i}`)), attr(OID.CN, 'utf8', 'rdns-150')], key: 'ec-p256' };
    case 'huge-subject':
      return { subject: [...Array.from({ length: 8 }, (_, i) => attr(OID.OU, 'utf8', `${i}`.repeat(1000))), attr(OID.CN, 'utf8', 'huge-subject')], key: 'ec-p256' };
    case 'crlf-cn':
      return { subject: base('a\r\nX-SSL-Client-Verify: 0\r\n'), key: 'ec-p256' };
    case 'html-cn':
      return { subject: base('<script>alert(1)</script><img src=x onerror=alert(2)>'), key: 'ec-p256' };
    case 'ansi-cn':
      return { subject: base('\u001b[31mred\u001b[0m\u001b[2J\u0007bell'), key: 'ec-p256' };
    case 'bmp-subject':
      return { subject: [attr(OID.O, 'bmp', 'Ωmega Straße'), attr(OID.CN, 'bmp', 'Bjørn Ωμέγα')], key: 'ec-p256' };
    case 't61-subject':
      return { subject: [attr(OID.O, 'teletex', Buffer.from('T61 org \xe9\xfc', 'latin1')), attr(OID.CN, 'teletex', 't61 \xa9 cn')], key: 'ec-p256' };
    case 'universal-subject':
      return { subject: [attr(OID.O, 'universal', 'Universal Zoë'), attr(OID.CN, 'universal', 'cn 😀')], key: 'ec-p256' };
    case 'random-utf8-bytes':
      return { subject: [attr(OID.O, 'utf8', 'mtls-edge dev'), attr(OID.CN, 'utf8', randomBytes(64))], key: 'ec-p256' };
    case 'ed25519-key':
      return { subject: base('ed25519-key'), key: 'ed25519' };
    case 'rsa1024-key':
      return { subject: base('rsa1024-key'), key: 'rsa1024', extensions: CLIENT_EXTENSIONS.map((e) => (e.kind === 'keyUsage' ? { ...e, usages: ['digitalSignature', 'keyEncipherment'] } : e)) };
    case 'expired-bad-signature':
      return { subject: base('expired-bad-signature'), key: 'ec-p256', notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 30 * DAY), corruptSignature: true };
  }
}

/** Leaf + 49 CAs: each CA signs the next, the top one is signed by the dev root (no path length limit). */
function chain50(root: Signer, key: CertKey, now: number): { leaf: string; chain: string } {
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) };
  const cas: string[] = [];
  let signer = root;
  for (let i = 49; i >= 1; i--) {
    const ca = buildCertificate({
      subject: [attr(OID.O, 'utf8', 'mtls-edge dev'), attr(OID.CN, 'utf8', `chain-50 CA ${i}`)], subjectKey: key, signer, ...validity,
      extensions: [{ kind: 'basicConstraints', ca: true, critical: true }, { kind: 'keyUsage', usages: ['keyCertSign'], critical: true }, { kind: 'subjectKeyIdentifier' }],
    });
    cas.unshift(ca.pem);
    signer = signerOf(ca.der, key);
  }
  const leaf = buildCertificate({ subject: base('chain-50'), subjectKey: key, signer, ...validity, extensions: CLIENT_EXTENSIONS });
  return { leaf: leaf.pem, chain: leaf.pem + cas.join('') };
}

function allHostileFiles(dir: string): string[] {
  return HOSTILE_KINDS.flatMap((k) => Object.values(hostilePaths(dir, k)));
}

/**
 * Creates the hostile family under `dir/hostile` from the dev CA in `dir/ca`; returns false when it
 * was already complete. The CA material must exist (ensureDevPki first).
 */
export async function ensureHostile(dir: string, opts: { force?: boolean } = {}): Promise<boolean> {
  if (!opts.force && (await allExist(allHostileFiles(dir)))) return false;
  const ca = join(resolve(dir), 'ca');
  const [interPem, interKeyPem, rootPem, rootKeyPem] = await Promise.all(
    ['intermediate-ca.crt', 'intermediate-ca.key', 'root-ca.crt', 'root-ca.key'].map((f) => readFile(join(ca, f), 'utf8')),
  );
  const intermediate = signerOf(interPem!, certKeyFromPem(interKeyPem!));
  const root = signerOf(rootPem!, certKeyFromPem(rootKeyPem!));
  // One key per key type: what varies between kinds is the certificate, not the key.
  const keyTypes: CertKeyType[] = ['ec-p256', 'ed25519', 'rsa1024'];
  const keys = Object.fromEntries(await Promise.all(keyTypes.map(async (t) => [t, await generateCertKey(t)] as const))) as Record<string, CertKey>;
  const now = Date.now();

  await Promise.all(HOSTILE_KINDS.map(async (kind) => {
    const p = hostilePaths(dir, kind);
    let leaf: string;
    let chain: string;
    let key: CertKey;
    if (kind === 'chain-50') {
      key = keys['ec-p256']!;
      ({ leaf, chain } = chain50(root, key, now));
    } else {
      const r = recipe(kind, now);
      key = keys[r.key]!;
      const built = buildCertificate({
        subject: r.subject, subjectKey: key, signer: r.selfSigned ? undefined : intermediate,
        notBefore: r.notBefore ?? new Date(now - DAY), notAfter: r.notAfter ?? new Date(now + 365 * DAY),
        extensions: r.extensions ?? CLIENT_EXTENSIONS, corruptSignature: r.corruptSignature,
      });
      leaf = built.pem;
      chain = r.selfSigned ? leaf : leaf + interPem;
    }
    await writeFileAtomic(p.key, privateKeyPem(key), PRIVATE_MODE);
    await writeFileAtomic(p.cert, leaf);
    await writeFileAtomic(p.chain, chain);
  }));
  return true;
}
