// Issues one certificate with the system openssl. Plain validity in days takes one process
// (`req -x509 -CA`, OpenSSL 3.0+); explicit notBefore/notAfter need `openssl ca` with a throwaway
// database, because OpenSSL 3.0's req/x509 cannot set a start date.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { openssl, withTempDir } from './openssl.js';
import { toOpensslSubj, type Subject } from './subject.js';

type Profile =
  | 'root-ca'
  | 'intermediate-ca'
  | 'server'
  | 'client'
  /** EKU serverAuth only: a client presenting it fails with 26. */
  | 'server-auth-only'
  /** A self-signed end-entity certificate; no keyUsage so OpenSSL recognises it as self-signed (18). */
  | 'self-signed-client';

export type Validity = { days: number } | { notBefore: Date; notAfter: Date };

export interface CaFiles {
  cert: string;
  key: string;
}

export interface IssueOptions {
  subject: Subject;
  /** The subject's private key (PEM file). */
  keyPath: string;
  /** Signing CA; absent means self-signed. */
  issuer?: CaFiles;
  profile: Profile;
  san?: readonly string[];
  validity: Validity;
  /** `pkix` makes openssl encode non-ASCII values as BMPString instead of UTF8String. */
  stringMask?: 'utf8only' | 'pkix';
  /** Hex serial; random 128-bit when absent. */
  serial?: string;
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10; // positive, and no leading zero byte to strip
  return b.toString('hex').toUpperCase();
}

/** A subjectAltName value that cannot be written into an OpenSSL extension safely. */
export class SanError extends Error {}

const SAN_TYPES = ['DNS', 'IP', 'email', 'URI'] as const;
// Controls (a newline would start a new line in the OpenSSL config: another extension), separators,
// bidi characters, and the comma, which separates entries in the subjectAltName line.
const SAN_FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c,]/;
const DNS_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`);
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]{1,64}@${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

const shown = (v: string): string => JSON.stringify(v).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * One subjectAltName entry as `TYPE:value`, checked by type: `DNS:`, `IP:`, `email:` and `URI:`
 * prefixes are kept, bare values are classified (IP address, e-mail with `@`, URI with `scheme://`,
 * else DNS name). Throws SanError, saying what is wrong and how to fix it, for anything else.
 */
export function normaliseSan(value: string): string {
  if (SAN_FORBIDDEN.test(value)) {
    throw new SanError(`${shown(value)} contains a comma, a line break or a control character: give one name per value (repeat the option for more names)`);
  }
  // The value is written into an OpenSSL configuration file, where `$` expands a variable, `#`
  // starts a comment and `\` and `"` escape or quote: none of them can be passed through as written.
  if (/[$#\\"]/.test(value)) {
    throw new SanError(`${shown(value)} contains $, #, \\ or ", which OpenSSL's configuration syntax would read as a variable, a comment or an escape: leave them out`);
  }
  const prefixed = /^([A-Za-z]+):(?!\/\/)(.*)$/.exec(value);
  let type: (typeof SAN_TYPES)[number];
  let body: string;
  if (prefixed && !isIP(value)) {
    const found = SAN_TYPES.find((t) => t.toLowerCase() === prefixed[1]!.toLowerCase());
    if (!found) throw new SanError(`${shown(value)}: unsupported type ${shown(prefixed[1]!)}: use DNS:, IP:, email: or URI: (or a bare name, address or e-mail)`);
    type = found;
    body = prefixed[2]!;
  } else if (isIP(value)) {
    [type, body] = ['IP', value];
  } else if (value.includes('@')) {
    [type, body] = ['email', value];
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    [type, body] = ['URI', value];
  } else {
    [type, body] = ['DNS', value];
  }
  switch (type) {
    case 'DNS':
      if (body.length > 253 || !DNS_NAME.test(body)) throw new SanError(`${shown(value)} is not a DNS name: use letters, digits, hyphens and dots (a leading *. for a wildcard)`);
      break;
    case 'IP':
      if (!isIP(body)) throw new SanError(`${shown(value)} is not an IPv4 or IPv6 address`);
      break;
    case 'email':
      if (!EMAIL.test(body)) throw new SanError(`${shown(value)} is not an e-mail address of the form name@example.com`);
      break;
    case 'URI': {
      let ok = false;
      try {
        ok = /^[a-z][a-z0-9+.-]*:/i.test(body) && !/\s/.test(body) && new URL(body).protocol.length > 1;
      } catch {
        ok = false;
      }
      if (!ok) throw new SanError(`${shown(value)} is not an absolute URI such as spiffe://example.org/client`);
      break;
    }
  }
  return `${type}:${body}`;
}

function extensionLines(profile: Profile, keyIsEc: boolean, san: readonly string[], selfSigned: boolean): string[] {
  const leafUsage = keyIsEc ? 'critical,digitalSignature' : 'critical,digitalSignature,keyEncipherment';
  const akid = selfSigned ? [] : ['authorityKeyIdentifier=keyid:always'];
  const sanLine = san.length > 0 ? [`subjectAltName=${san.map(normaliseSan).join(',')}`] : [];
  switch (profile) {
    case 'root-ca':
      return ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', ...akid];
    case 'intermediate-ca':
      return ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', ...akid];
    case 'server':
      return ['basicConstraints=critical,CA:FALSE', `keyUsage=${leafUsage}`, 'extendedKeyUsage=serverAuth', 'subjectKeyIdentifier=hash', ...akid, ...sanLine];
    case 'client':
      return ['basicConstraints=critical,CA:FALSE', `keyUsage=${leafUsage}`, 'extendedKeyUsage=clientAuth', 'subjectKeyIdentifier=hash', ...akid, ...sanLine];
    case 'server-auth-only':
      return ['basicConstraints=critical,CA:FALSE', `keyUsage=${leafUsage}`, 'extendedKeyUsage=serverAuth', 'subjectKeyIdentifier=hash', ...akid, ...sanLine];
    case 'self-signed-client':
      return ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth', 'subjectKeyIdentifier=hash', ...sanLine];
  }
}

/** A config file holding everything openssl needs: req defaults, the extension section, a CA db. */
function configText(dir: string, ext: readonly string[], stringMask: string): string {
  const p = (f: string): string => join(dir, f).replace(/\\/g, '/');
  return [
    '[req]',
    'distinguished_name = req_dn',
    'prompt = no',
    `string_mask = ${stringMask}`,
    'utf8 = yes',
    '[req_dn]',
    '[ext]',
    ...ext,
    '[ca]',
    'default_ca = ca_default',
    '[ca_default]',
    `database = ${p('index.txt')}`,
    `new_certs_dir = ${p('.')}`,
    `serial = ${p('serial')}`,
    `crlnumber = ${p('crlnumber')}`,
    'default_md = sha256',
    'policy = policy_any',
    'unique_subject = no',
    'default_crl_days = 3650',
    'crl_extensions = crl_ext',
    '[policy_any]',
    '[crl_ext]',
    'authorityKeyIdentifier = keyid:always',
    '',
  ].join('\n');
}

/** openssl accepts YYYYMMDDHHMMSSZ and stores UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280). */
function opensslDate(d: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

async function keyIsEc(keyPath: string): Promise<boolean> {
  const key = createPrivateKey(await readFile(keyPath));
  return key.asymmetricKeyType === 'ec';
}

/** Returns the certificate as PEM. */
export async function issueCertificate(opts: IssueOptions): Promise<string> {
  const selfSigned = opts.issuer === undefined;
  const ext = extensionLines(opts.profile, await keyIsEc(opts.keyPath), opts.san ?? [], selfSigned);
  const serial = opts.serial ?? randomSerial();
  return withTempDir('issue', async (dir) => {
    const cfg = join(dir, 'openssl.cnf');
    await writeFile(cfg, configText(dir, ext, opts.stringMask ?? 'utf8only'));
    const subj = toOpensslSubj(opts.subject);
    if ('days' in opts.validity) {
      const args = ['req', '-x509', '-new', '-config', cfg, '-extensions', 'ext', '-key', opts.keyPath, '-utf8', '-subj', subj,
        '-days', String(opts.validity.days), '-set_serial', `0x${serial}`, '-sha256'];
      if (opts.issuer) args.push('-CA', opts.issuer.cert, '-CAkey', opts.issuer.key);
      return (await openssl(args)).stdout.toString('utf8');
    }
    const csr = join(dir, 'req.csr');
    await openssl(['req', '-new', '-config', cfg, '-key', opts.keyPath, '-utf8', '-subj', subj, '-out', csr]);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), `${serial}\n`);
    const args = ['ca', '-batch', '-config', cfg, '-in', csr, '-preserveDN', '-notext', '-utf8',
      '-startdate', opensslDate(opts.validity.notBefore), '-enddate', opensslDate(opts.validity.notAfter),
      '-extfile', cfg, '-extensions', 'ext'];
    if (opts.issuer) args.push('-cert', opts.issuer.cert, '-keyfile', opts.issuer.key);
    else args.push('-selfsign', '-keyfile', opts.keyPath);
    return (await openssl(args)).stdout.toString('utf8');
  });
}

/** A PEM CRL signed by `ca`, listing the given certificates as revoked (empty list: a valid empty CRL). */
export async function generateCrl(ca: CaFiles, revokedCertPaths: readonly string[]): Promise<string> {
  return withTempDir('crl', async (dir) => {
    const cfg = join(dir, 'openssl.cnf');
    await writeFile(cfg, configText(dir, [], 'utf8only'));
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'crlnumber'), '1000\n');
    const base = ['-batch', '-config', cfg, '-cert', ca.cert, '-keyfile', ca.key];
    for (const cert of revokedCertPaths) await openssl(['ca', ...base, '-revoke', cert, '-crl_reason', 'keyCompromise']);
    return (await openssl(['ca', ...base, '-gencrl'])).stdout.toString('utf8');
  });
}
