// Conversions between the forms users need: PKCS#12 for Postman/SoapUI/browsers, chain-only PEM for
// certificate mappings, one-line and base64 PEM for JSON bodies, and back from PKCS#12 / base64 strings.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { devPkiPaths } from './devPki.js';
import { failurePaths, isFailureKind } from './failures.js';
import { exists, PRIVATE_MODE, writeFileAtomic } from './fsAtomic.js';
import { writePkcs12 } from './pkcs12.js';
import { assertKeyMatches, MaterialError, orderChain, readMaterial } from './readMaterial.js';

/** Java's conventional keystore password; used when none is given, and said so in the docs. */
export const DEFAULT_P12_PASSWORD = 'changeit';

export interface NamedMaterial {
  name: string;
  /** Leaf first, then the intermediates the peer should send. */
  chain: X509Certificate[];
  key?: KeyObject;
  /** File the certificates came from (for messages). */
  source: string;
}

/**
 * NAME is `client`, `server`, `root`, `intermediate`, a failure kind (from the dev PKI in `dir`), or a
 * path to a PEM/DER/PKCS#12 file. For a path `x.crt`/`x.pem` without a key inside, a sibling `x.key`
 * is used when present.
 */
export async function resolveName(dir: string, name: string, password?: string): Promise<NamedMaterial> {
  const pki = devPkiPaths(dir);
  const named: Record<string, { chain: string; key: string } | undefined> = {
    client: pki.client, server: pki.server,
    root: { chain: pki.rootCa.cert, key: pki.rootCa.key },
    intermediate: { chain: pki.intermediateCa.cert, key: pki.intermediateCa.key },
  };
  const files = named[name] ?? (isFailureKind(name) ? failurePaths(dir, name) : undefined);
  if (files) {
    if (!(await exists(files.chain))) {
      throw new MaterialError(files.chain, `no such file: run \`mtls-edge certs init${isFailureKind(name) ? ' --with-failures' : ''} --dir ${dir}\` first`);
    }
    const certs = await readMaterial(files.chain, { accept: ['pem'] });
    const key = await readMaterial(files.key, { accept: ['pem'] });
    return finish(name, files.chain, certs.certs, key.key, files.key);
  }
  const path = resolve(name);
  const m = await readMaterial(path, { password });
  let key = m.key;
  let keyFile = path;
  if (!key) {
    const sibling = join(dirname(path), `${basename(path, extname(path))}.key`);
    if (await exists(sibling)) {
      key = (await readMaterial(sibling, { password })).key;
      keyFile = sibling;
    }
  }
  return finish(basename(path, extname(path)), path, m.certs, key, keyFile);
}

function finish(name: string, source: string, certs: X509Certificate[], key: KeyObject | undefined, keyFile: string): NamedMaterial {
  if (certs.length === 0) throw new MaterialError(source, 'holds no certificate');
  const chain = orderChain(certs, key);
  if (key) assertKeyMatches(keyFile, chain[0]!, key);
  return { name, chain, key, source };
}

export const toPem = (certs: readonly X509Certificate[]): string => certs.map((c) => c.toString()).join('');

/** Single-line PEM with literal `\n`, as pasted into JSON or env variables. */
export const toOneLinePem = (pem: string): string => pem.trim().replace(/\r?\n/g, '\\n');

/** Base64 of the PEM text, as a CertificateUserMapping `Certificate` field expects. */
export const toBase64Pem = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/**
 * PKCS#12 with key, leaf and chain. AES-256-CBC with PBKDF2/HMAC-SHA256 for keys and certificates
 * and a SHA-256 MAC: read by Java 17+ keytool/SoapUI, curl, Postman and current browsers (the
 * RC2/3DES legacy form is refused by OpenSSL 3 without -legacy and by some current browsers).
 */
export function toPkcs12(m: NamedMaterial, password: string): Buffer {
  if (!m.key) throw new MaterialError(m.source, 'no private key found for it (a PKCS#12 keystore needs one); use --chain-only for certificates alone');
  return writePkcs12({ key: m.key, certs: m.chain.map((c) => c.raw), friendlyName: m.name, password });
}

export interface Imported {
  cert: string;
  key?: string;
  chain: string;
}

/**
 * Imports a PKCS#12/PFX, a PEM, or base64 strings (certificate in `file`, PKCS#8 key in `keyFile`,
 * `###…` tags dropped) into `outDir/NAME.crt`, `NAME.key` (0600) and `NAME-chain.crt`.
 */
export async function importMaterial(file: string, opts: { keyFile?: string; password?: string; outDir: string; name?: string }): Promise<Imported> {
  const m = await readMaterial(file, { password: opts.password });
  let key = m.key;
  let keyFile = file;
  if (opts.keyFile) {
    const k = await readMaterial(opts.keyFile, { password: opts.password });
    if (!k.key) throw new MaterialError(opts.keyFile, 'holds no private key');
    key = k.key;
    keyFile = opts.keyFile;
  }
  if (m.certs.length === 0) throw new MaterialError(file, 'holds no certificate');
  const chain = orderChain(m.certs, key);
  if (key) assertKeyMatches(keyFile, chain[0]!, key);
  const name = opts.name ?? basename(file, extname(file));
  const out: Imported = {
    cert: join(resolve(opts.outDir), `${name}.crt`),
    chain: join(resolve(opts.outDir), `${name}-chain.crt`),
    key: key ? join(resolve(opts.outDir), `${name}.key`) : undefined,
  };
  // Everything is validated above, before the first write.
  if (key && out.key) await writeFileAtomic(out.key, key.export({ type: 'pkcs8', format: 'pem' }), PRIVATE_MODE);
  await writeFileAtomic(out.cert, chain[0]!.toString());
  await writeFileAtomic(out.chain, toPem(chain.filter((c, i) => i === 0 || !isRoot(c))));
  return out;
}

const isRoot = (c: X509Certificate): boolean => c.subject === c.issuer && c.checkIssued(c);
