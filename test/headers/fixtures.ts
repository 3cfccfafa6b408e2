// Test fixtures for src/headers: real certificates made at test time with the system openssl in a
// temp dir (removed after), plus a tiny DER encoder and a Node-signed certificate builder for
// names openssl's CLI refuses to make (e.g. a 12-letter C= value, as in the spec's example).

import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs openssl with argv (no shell), binary stdout. Rejects with stderr on a non-zero exit. */
export function openssl(args: readonly string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      args as string[],
      { cwd, encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const errText = stderr.toString('utf8');
        if (err) reject(new Error(`openssl ${args.join(' ')} failed: ${errText || err.message}`));
        else resolve({ stdout, stderr: errText });
      },
    );
  });
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** A temp dir per suite: call create() in before(), remove() in after(). */
export class TempDir {
  path = '';
  create(): string {
    this.path = mkdtempSync(join(tmpdir(), 'mtls-edge-headers-'));
    return this.path;
  }
  remove(): void {
    if (this.path) rmSync(this.path, { recursive: true, force: true });
  }
  file(name: string): string {
    return join(this.path, name);
  }
}

export interface MadeCert {
  certPath: string;
  keyPath: string;
  der: Buffer;
}

export interface ReqOptions {
  /** `utf8only` (openssl default config) or `pkix` (non-ASCII → BMPString). */
  stringMask?: 'utf8only' | 'pkix';
  multivalueRdn?: boolean;
  /** Extra `name = dotted OID` lines, so -subj can carry OIDs that HAProxy's OpenSSL won't know. */
  newOids?: Record<string, string>;
}

let seq = 0;

function reqConfig(dir: TempDir, o: ReqOptions): string {
  const path = dir.file(`req-${++seq}.cnf`);
  const oids = Object.entries(o.newOids ?? {}).map(([k, v]) => `${k} = ${v}`);
  writeFileSync(
    path,
    [
      oids.length ? 'oid_section = new_oids\n[new_oids]\n' + oids.join('\n') + '\n' : '',
      '[req]',
      'distinguished_name = dn',
      `string_mask = ${o.stringMask ?? 'utf8only'}`,
      '[dn]',
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      // digitalSignature too, so the same self-signed cert can serve TLS in the session-ID test
      'keyUsage = critical,keyCertSign,cRLSign,digitalSignature',
      'subjectKeyIdentifier = hash',
      '[v3_leaf]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
      '',
    ].join('\n'),
  );
  return path;
}

function subjArgs(subj: string, o: ReqOptions): string[] {
  return ['-utf8', ...(o.multivalueRdn ? ['-multivalue-rdn'] : []), '-subj', subj];
}

/** Self-signed CA with `openssl req -x509`. */
export async function makeRoot(
  dir: TempDir,
  name: string,
  subj: string,
  o: ReqOptions = {},
): Promise<MadeCert> {
  const cnf = reqConfig(dir, o);
  const keyPath = dir.file(`${name}.key`);
  const certPath = dir.file(`${name}.pem`);
  await openssl([
    'req', '-config', cnf, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '30', '-set_serial', '1',
    '-extensions', 'v3_ca', ...subjArgs(subj, o),
  ]);
  return { certPath, keyPath, der: await readDer(certPath) };
}

export interface SignOptions extends ReqOptions {
  /** `YYMMDDHHMMSSZ` or `YYYYMMDDHHMMSSZ`; openssl ca picks UTCTime for 1950-2049. */
  startdate?: string;
  enddate?: string;
  ca?: boolean;
  serial?: string;
}

/** A CSR signed by `issuer` with `openssl ca` (which can set arbitrary start and end dates). */
export async function makeSigned(
  dir: TempDir,
  name: string,
  subj: string,
  issuer: MadeCert,
  o: SignOptions = {},
): Promise<MadeCert> {
  const cnf = reqConfig(dir, o);
  const keyPath = dir.file(`${name}.key`);
  const csrPath = dir.file(`${name}.csr`);
  const certPath = dir.file(`${name}.pem`);
  await openssl([
    'req', '-config', cnf, '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', keyPath, '-out', csrPath, ...subjArgs(subj, o),
  ]);
  const caDir = dir.file(`ca-${++seq}`);
  const caCnf = `${caDir}.cnf`;
  mkdirSync(caDir);
  writeFileSync(join(caDir, 'index.txt'), '');
  writeFileSync(join(caDir, 'serial'), (o.serial ?? '1000') + '\n');
  writeFileSync(
    caCnf,
    [
      '[ca]',
      'default_ca = ca_default',
      '[ca_default]',
      `dir = ${caDir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir',
      'serial = $dir/serial',
      'default_md = sha256',
      'default_days = 30',
      'policy = policy_any',
      'unique_subject = no',
      'email_in_dn = yes',
      'preserve = yes',
      `string_mask = ${o.stringMask ?? 'utf8only'}`,
      '[policy_any]',
      '[ext]',
      o.ca ? 'basicConstraints = critical,CA:TRUE' : 'basicConstraints = CA:FALSE',
      o.ca ? 'keyUsage = critical,keyCertSign,cRLSign' : 'keyUsage = critical,digitalSignature',
      '',
    ].join('\n'),
  );
  await openssl([
    'ca', '-batch', '-config', caCnf, '-cert', issuer.certPath, '-keyfile', issuer.keyPath,
    '-in', csrPath, '-out', certPath, '-notext', '-preserveDN', '-extensions', 'ext',
    ...(o.startdate ? ['-startdate', o.startdate] : []),
    ...(o.enddate ? ['-enddate', o.enddate] : ['-days', '30']),
  ]);
  return { certPath, keyPath, der: await readDer(certPath) };
}

async function readDer(certPath: string): Promise<Buffer> {
  const { stdout } = await openssl(['x509', '-in', certPath, '-outform', 'DER']);
  return stdout;
}

/**
 * openssl's own view of a name as raw oneline bytes: `-nameopt sep_multiline,sname,ignore_type`
 * prints short names and the raw value bytes unescaped, one RDN per line and ` + ` inside an RDN.
 * Rebuilt as `/SN=value…`. Only valid for values without a newline or ` + `.
 */
export async function cliOneline(certPath: string, which: 'subject' | 'issuer'): Promise<Buffer> {
  const { stdout } = await openssl([
    'x509', '-in', certPath, '-noout', `-${which}`, '-nameopt', 'sep_multiline,sname,ignore_type',
  ]);
  const text = stdout.toString('latin1').replace(/\n$/, '');
  const lines = text.split('\n').slice(1); // first line: "subject="
  const parts = lines.flatMap((l) => l.replace(/^ {4}/, '').split(' + '));
  return Buffer.from(parts.map((p) => '/' + p).join(''), 'latin1');
}

// ---- DER encoding, for hand-made names and certificates -------------------------------------

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else if (n < 0x10000) len = Buffer.from([0x82, n >> 8, n & 0xff]);
  else len = Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const s of subs) {
    const chunk: number[] = [];
    let v = s;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

export const STR = {
  utf8: 0x0c,
  printable: 0x13,
  t61: 0x14,
  ia5: 0x16,
  bmp: 0x1e,
  universal: 0x1c,
} as const;

/** One attribute: [dotted OID, string tag, value bytes] or [dotted OID, full value TLV]. */
export type Atv = readonly [string, number, Uint8Array] | readonly [string, Uint8Array];

/** A Name from RDNs, each a list of attributes, encoded in exactly the given order. */
export function nameDer(rdns: readonly (readonly Atv[])[]): Buffer {
  return tlv(
    0x30,
    ...rdns.map((rdn) =>
      tlv(
        0x31,
        ...rdn.map((a) =>
          tlv(0x30, oid(a[0]), a.length === 3 ? tlv(a[1], a[2]) : a[1]),
        ),
      ),
    ),
  );
}

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
export const bmp = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();

export interface BuiltCert {
  der: Buffer;
  key: KeyObject;
}

/** An X.509 v3 certificate with the given raw Names and Time TLVs, ECDSA P-256/SHA-256 signed. */
export function buildCert(o: {
  subject: Buffer;
  issuer: Buffer;
  notBefore: Buffer;
  notAfter: Buffer;
  issuerKey?: KeyObject;
  ca?: boolean;
  serial?: number;
  /** v1: no [0] version field and no extensions. */
  v1?: boolean;
}): BuiltCert {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const ecdsaSha256 = tlv(0x30, oid('1.2.840.10045.4.3.2'));
  const basicConstraints = tlv(
    0x30,
    oid('2.5.29.19'),
    tlv(0x01, Buffer.from([0xff])),
    tlv(0x04, tlv(0x30, ...(o.ca ? [tlv(0x01, Buffer.from([0xff]))] : []))),
  );
  const tbs = tlv(
    0x30,
    ...(o.v1 ? [] : [tlv(0xa0, tlv(0x02, Buffer.from([2])))]),
    tlv(0x02, Buffer.from([o.serial ?? 1])),
    ecdsaSha256,
    o.issuer,
    tlv(0x30, o.notBefore, o.notAfter),
    o.subject,
    spki,
    ...(o.v1 ? [] : [tlv(0xa3, tlv(0x30, basicConstraints))]),
  );
  const sig = sign('sha256', tbs, o.issuerKey ?? privateKey);
  const der = tlv(0x30, tbs, ecdsaSha256, tlv(0x03, Buffer.from([0]), sig));
  return { der, key: privateKey };
}

export const utcTime = (text: string): Buffer => tlv(0x17, Buffer.from(text, 'latin1'));
export const generalizedTime = (text: string): Buffer => tlv(0x18, Buffer.from(text, 'latin1'));
