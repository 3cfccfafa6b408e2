// Reads certificates and keys from whatever users have: PEM (also one-line with literal `\n`, or
// base64 of a PEM), DER, PKCS#12/PFX. Every failure is a MaterialError naming the file and the problem
// in one line, never containing key material or a password.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Pkcs12Error, readPkcs12, type Pkcs12Contents } from './pkcs12.js';

export class MaterialError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'MaterialError';
  }
}

/** `base64`: a one-line base64 string of DER (as SuccessFactors and JSON bodies carry it). */
export type MaterialFormat = 'pem' | 'der' | 'pkcs12' | 'base64';

export interface Material {
  file: string;
  format: MaterialFormat;
  /** In file order. */
  certs: X509Certificate[];
  key?: KeyObject;
}

export interface ReadOptions {
  password?: string;
  /** Formats accepted; a file in another format is an error naming what was expected. */
  accept?: readonly MaterialFormat[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Undoes the flattening users apply to PEM: literal `\n`, `\r\n`, surrounding quotes (JSON values). */
function normalisePemText(text: string): string {
  let t = text.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) t = t.slice(1, -1);
  return t.replace(/\\r\\n|\\n/g, '\n').replace(/\r\n/g, '\n');
}

/** Drops the trailing `###…` tags some systems (SuccessFactors) append to base64 and PEM bodies. */
function stripHashTags(text: string): string {
  return text.replace(/#{3,}[^\n-]*/g, '');
}

function looksLikeBase64OfPem(text: string): boolean {
  const t = stripHashTags(text).trim();
  if (!/^[A-Za-z0-9+/=_\-\s]+$/.test(t) || t.length < 40) return false;
  return Buffer.from(t, 'base64').toString('latin1').includes('-----BEGIN ');
}

export function pemBlocks(text: string): { label: string; der: Buffer; pem: string }[] {
  const out: { label: string; der: Buffer; pem: string }[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const body = stripHashTags(m[2]!).replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    out.push({ label: m[1]!, der: Buffer.from(body, 'base64'), pem: m[0] });
  }
  return out;
}

function keyFromPem(file: string, pem: string, label: string, password: string | undefined): KeyObject {
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && password === undefined) throw new MaterialError(file, 'the private key is encrypted: pass --password');
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: password });
  } catch {
    throw new MaterialError(file, encrypted ? 'wrong password for the encrypted private key' : `the ${label} block is garbled (not a valid key)`);
  }
}

function parsePemText(file: string, text: string, password: string | undefined): Material {
  const t = normalisePemText(text);
  const begins = (t.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? []).length;
  const blocks = pemBlocks(t);
  if (blocks.length < begins) throw new MaterialError(file, 'truncated PEM: a BEGIN line has no matching END line');
  const certs: X509Certificate[] = [];
  let key: KeyObject | undefined;
  blocks.forEach((b, i) => {
    if (b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE') {
      try {
        certs.push(new X509Certificate(b.der));
      } catch {
        throw new MaterialError(file, `PEM block ${i + 1} (CERTIFICATE) is garbled: its base64 does not decode to a certificate`);
      }
    } else if (/PRIVATE KEY$/.test(b.label)) {
      if (key) throw new MaterialError(file, 'holds more than one private key');
      key = keyFromPem(file, b.pem, b.label, password);
    }
    // Other blocks (CRLs, parameters, CSRs) are not ours to judge here; they are ignored.
  });
  if (certs.length === 0 && !key) throw new MaterialError(file, 'PEM without a certificate or private key');
  return { file, format: 'pem', certs, key };
}

async function parsePkcs12(file: string, data: Buffer, password: string | undefined): Promise<Material> {
  let contents: Pkcs12Contents;
  try {
    contents = readPkcs12(data, password ?? '');
  } catch (err) {
    if (!(err instanceof Pkcs12Error)) throw new MaterialError(file, 'not a readable PKCS#12 file (truncated or garbled)');
    if (err.reason === 'password') {
      throw new MaterialError(file, password === undefined ? 'the PKCS#12 file is password-protected: pass --password' : 'wrong password for the PKCS#12 file');
    }
    if (err.reason === 'unsupported') {
      throw new MaterialError(file, `cannot read this PKCS#12 file: ${err.message}; export it again with AES-256 (e.g. keytool -importkeystore, or the tool that made it)`);
    }
    throw new MaterialError(file, 'not a readable PKCS#12 file (truncated or garbled)');
  }
  const certs = contents.certs.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch {
      throw new MaterialError(file, `certificate ${i + 1} in the PKCS#12 file is garbled`);
    }
  });
  let key: KeyObject | undefined;
  if (contents.privateKeyPkcs8) {
    try {
      key = createPrivateKey({ key: contents.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
    } catch {
      throw new MaterialError(file, 'the private key in the PKCS#12 file is garbled');
    }
  }
  return { file, format: 'pkcs12', certs, key };
}

function looksLikeDerSequence(data: Buffer): boolean {
  return data.length > 4 && data[0] === 0x30 && (data[1]! & 0x80) !== 0;
}

/** Reads and classifies one file. Throws MaterialError for anything unusable. */
export async function readMaterial(file: string, opts: ReadOptions = {}): Promise<Material> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, expected a file' : `cannot read (${code ?? 'unknown error'})`;
    throw new MaterialError(file, why);
  }
  if (data.length === 0) throw new MaterialError(file, 'the file is empty');
  const m = await parseMaterial(file, data, opts.password);
  if (opts.accept && !opts.accept.includes(m.format)) {
    const what = { der: 'DER (binary)', pkcs12: 'PKCS#12', pem: 'PEM', base64: 'a base64 string' }[m.format];
    throw new MaterialError(file, `is ${what}, expected ${opts.accept.map((f) => f.toUpperCase()).join(' or ')}${m.format === 'der' ? ' (convert it with: mtls-edge certs import FILE)' : ''}`);
  }
  return m;
}

export async function parseMaterial(file: string, data: Buffer, password?: string): Promise<Material> {
  const text = data.toString('utf8');
  if (text.includes('-----BEGIN ')) return parsePemText(file, text, password);
  if (text.includes('-----BEGIN') || text.includes('-----END ')) throw new MaterialError(file, 'garbled PEM: damaged BEGIN/END lines');
  if (looksLikeBase64OfPem(text)) return parsePemText(file, Buffer.from(stripHashTags(text).trim(), 'base64').toString('utf8'), password);
  const der = decodeLooseBase64(text);
  if (der) return parseDer(file, der, password, true);
  if (looksLikeDerSequence(data)) return parseDer(file, data, password, false);
  if (/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text)) throw new MaterialError(file, 'not a certificate or key: no PEM BEGIN line, and not DER or PKCS#12');
  throw new MaterialError(file, 'not a certificate, key or PKCS#12 file (expected PEM, DER or PKCS#12)');
}

/**
 * Base64 strings as systems hand them out (SuccessFactors: one line, `###…` tag at the end, sometimes
 * base64 of the base64 body): returns the DER inside, or undefined when `text` is not such a string.
 */
export function decodeLooseBase64(text: string): Buffer | undefined {
  let t = stripHashTags(text).replace(/\s+/g, '');
  for (let depth = 0; depth < 3; depth++) {
    if (t.length < 40 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
    const bytes = Buffer.from(t, 'base64');
    if (bytes[0] === 0x30) return bytes;
    t = stripHashTags(bytes.toString('latin1')).replace(/\s+/g, '');
  }
  return undefined;
}

async function parseDer(file: string, data: Buffer, password: string | undefined, fromBase64: boolean): Promise<Material> {
  const format: MaterialFormat = fromBase64 ? 'base64' : 'der';
  {
    try {
      return { file, format, certs: [new X509Certificate(data)] };
    } catch {
      /* not a certificate: maybe a key or PKCS#12 */
    }
    try {
      return { file, format, certs: [], key: createPrivateKey({ key: data, format: 'der', type: 'pkcs8', passphrase: password }) };
    } catch (err) {
      if (/encrypted|passphrase|bad decrypt/i.test(String((err as Error).message))) {
        throw new MaterialError(file, password === undefined ? 'the private key is encrypted: pass --password' : 'wrong password for the encrypted private key');
      }
    }
    if (fromBase64) {
      try {
        return await parsePkcs12(file, data, password);
      } catch (err) {
        if (err instanceof MaterialError && /password/.test(err.problem)) throw err;
        throw new MaterialError(file, 'the base64 string decodes to neither a certificate, a PKCS#8 key nor a PKCS#12 file');
      }
    }
    return parsePkcs12(file, data, password);
  }
}

/** Throws unless `key` belongs to `cert`. */
export function assertKeyMatches(file: string, cert: X509Certificate, key: KeyObject): void {
  if (!cert.checkPrivateKey(key)) throw new MaterialError(file, 'the private key does not match the certificate');
}

/**
 * Orders certificates leaf first, each followed by its issuer when present. The leaf is the one
 * matching `key`, else the one that issued none of the others.
 */
export function orderChain(certs: readonly X509Certificate[], key?: KeyObject): X509Certificate[] {
  if (certs.length <= 1) return [...certs];
  const remaining = [...certs];
  let leaf = key ? remaining.find((c) => c.checkPrivateKey(key)) : undefined;
  leaf ??= remaining.find((c) => !remaining.some((o) => o !== c && o.checkIssued(c))) ?? remaining[0]!;
  const out = [leaf];
  remaining.splice(remaining.indexOf(leaf), 1);
  for (let guard = 0; guard < certs.length && remaining.length > 0; guard++) {
    const last = out[out.length - 1]!;
    if (isSelfIssued(last)) break;
    const next = remaining.find((c) => last.checkIssued(c));
    if (!next) break;
    out.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return [...out, ...remaining];
}

export function isSelfIssued(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.checkIssued(cert);
}
