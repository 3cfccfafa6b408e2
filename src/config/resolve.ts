// From validated config to what the edge runs on: file contents read once, certificates parsed,
// keys checked against certificates, relative paths anchored. All problems are reported together.
import { readFile } from 'node:fs/promises';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { ensureDevPki, type DevPki } from '../pki/devPki.js';
import { ConfigError, type ConfigProblem } from './configError.js';
import type { DialectName } from '../headers/dialects/dialects.js';
import { tlsConfigSchema, type ClientAuthMode, type Config, type TlsConfig } from './schema.js';

export interface ResolvedTlsProfile {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  readonly serverCert: X509Certificate;
  readonly clientAuth: ClientAuthMode;
  /** Concatenated PEM of the trust list (empty when none). */
  readonly trustPem: Buffer;
  readonly trustCerts: readonly X509Certificate[];
  readonly crlPem: readonly Buffer[];
  /** crt-ignore-err: verify codes accepted at depth 0 (the client certificate). */
  readonly ignore: 'all' | ReadonlySet<number>;
  /** ca-ignore-err: verify codes accepted at depth > 0; the same list as `ignore` unless ca_ignore_errors is set. */
  readonly caIgnore: 'all' | ReadonlySet<number>;
  readonly alpn: readonly string[];
  /** The configuration's own `dialect:`; undefined = the top-level one. */
  readonly dialect: DialectName | undefined;
  /** Files this profile was read from, for reload watching. */
  readonly files: readonly string[];
}

export interface ResolvedUpstreamTls {
  readonly ca?: readonly Buffer[];
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

export interface ResolvedRoute {
  readonly name: string;
  readonly host: string;
  readonly path: string;
  /** 'echo' or an origin such as http://127.0.0.1:3000 (no trailing slash). */
  readonly upstream: string;
  readonly tls?: ResolvedUpstreamTls;
}

interface ResolvedUserMapping {
  readonly user: string;
  readonly fingerprint256?: string;
  readonly subjectCn?: string;
}

export interface ResolvedConfig {
  readonly tlsProfiles: readonly ResolvedTlsProfile[];
  readonly routes: readonly ResolvedRoute[];
  readonly userMappings: readonly ResolvedUserMapping[];
  readonly devPki: DevPki | null;
  /** True when this load made the dev PKI (the first start in a folder): the edge says so once. */
  readonly devPkiGenerated: boolean;
  readonly files: readonly string[];
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;
const KEY_BLOCK = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * The CERTIFICATE blocks of a PEM file, each ending in a newline: what may go into a file others can
 * read. A `cert:` file without `key:` also holds the key (then certPem and keyPem are the same buffer).
 */
export function certificateBlocks(pem: Buffer): string {
  return (pem.toString('latin1').match(CERT_BLOCK) ?? []).map((b) => `${b}\n`).join('');
}

/** The private key block of a PEM file (the one the edge loaded), ending in a newline; '' when none. */
export function privateKeyBlock(pem: Buffer): string {
  const block = pem.toString('latin1').match(KEY_BLOCK)?.[0];
  return block ? `${block}\n` : '';
}

/** Reads files once each and collects problems instead of stopping at the first. */
class FileReader {
  readonly problems: ConfigProblem[] = [];
  readonly files = new Set<string>();
  constructor(private readonly baseDir: string) {}

  path(p: string): string {
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }

  async read(where: string, p: string): Promise<Buffer | null> {
    const full = this.path(p);
    try {
      const data = await readFile(full);
      this.files.add(full);
      return data;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permissions)' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? 'error'})`;
      this.problems.push({ where, message: `${full} ${why}: fix the path` });
      return null;
    }
  }

  certs(where: string, file: string, data: Buffer): X509Certificate[] {
    const blocks = data.toString('latin1').match(CERT_BLOCK) ?? [];
    if (blocks.length === 0) {
      const der = data[0] === 0x30;
      this.problems.push({ where, message: `${this.path(file)} holds no PEM certificate${der ? ' (it looks like DER: convert it with `openssl x509 -inform DER -in FILE -out FILE.pem`)' : ' (expected -----BEGIN CERTIFICATE-----)'}` });
      return [];
    }
    const out: X509Certificate[] = [];
    for (const [i, block] of blocks.entries()) {
      try {
        out.push(new X509Certificate(block));
      } catch {
        this.problems.push({ where, message: `${this.path(file)}: certificate #${i + 1} is garbled or truncated: export it again` });
      }
    }
    return out;
  }

  privateKey(where: string, file: string, data: Buffer): KeyObject | null {
    const block = data.toString('latin1').match(KEY_BLOCK)?.[0];
    if (!block) {
      this.problems.push({ where, message: `${this.path(file)} holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)` });
      return null;
    }
    if (block.includes('ENCRYPTED')) {
      this.problems.push({ where, message: `${this.path(file)} is an encrypted key: decrypt it first (\`openssl pkey -in KEY -out KEY.plain\`)` });
      return null;
    }
    try {
      return createPrivateKey(block);
    } catch {
      this.problems.push({ where, message: `${this.path(file)}: the private key is garbled or truncated` });
      return null;
    }
  }
}

function ignoreSet(v: TlsConfig['ignore_errors']): 'all' | ReadonlySet<number> {
  return v === 'all' ? 'all' : new Set(v);
}

/** Where a field of a TLS configuration came from: `--trust` when a flag gave it, else file and field. */
type FieldLabel = (field: string, item?: number) => string;

async function resolveTlsProfile(reader: FileReader, t: TlsConfig, at: FieldLabel, index: number): Promise<ResolvedTlsProfile | null> {
  const problemsBefore = reader.problems.length;
  const certPem = await reader.read(at('cert'), t.cert);
  const keyPem = t.key ? await reader.read(at('key'), t.key) : certPem;
  const serverCerts = certPem ? reader.certs(at('cert'), t.cert, certPem) : [];
  const key = keyPem ? reader.privateKey(at('key'), t.key ?? t.cert, keyPem) : null;
  if (serverCerts[0] && key && !serverCerts[0].checkPrivateKey(key)) {
    reader.problems.push({ where: at('key'), message: `${reader.path(t.key ?? t.cert)} does not match the certificate in ${reader.path(t.cert)}: use the key the certificate was issued for` });
  }
  const trustParts: Buffer[] = [];
  const trustCerts: X509Certificate[] = [];
  for (const [i, f] of t.trust.entries()) {
    const data = await reader.read(at('trust', i), f);
    if (!data) continue;
    const certs = reader.certs(at('trust', i), f, data);
    trustCerts.push(...certs);
    trustParts.push(Buffer.from(certs.map((c) => c.toString()).join('')));
  }
  const crlPem: Buffer[] = [];
  for (const [i, f] of t.crl.entries()) {
    const data = await reader.read(at('crl', i), f);
    if (!data) continue;
    if (!data.includes('-----BEGIN X509 CRL-----')) {
      reader.problems.push({ where: at('crl', i), message: `${reader.path(f)} holds no PEM CRL (expected -----BEGIN X509 CRL-----)` });
      continue;
    }
    // Node's SecureContext reads one CRL per buffer: a file holding several (root + intermediate
    // concatenated) must be split, or only its first CRL is loaded and the other CAs fail with 3.
    for (const block of data.toString('latin1').match(CRL_BLOCK) ?? []) crlPem.push(Buffer.from(block, 'latin1'));
  }
  const clientAuth: ClientAuthMode = t.client_auth ?? (trustCerts.length > 0 ? 'optional' : 'disabled');
  if (clientAuth !== 'disabled' && t.trust.length === 0) {
    reader.problems.push({ where: at('client_auth'), message: `client_auth is "${clientAuth}" but the trust list is empty: add trust: [ca.pem], or set client_auth: disabled` });
  }
  if (reader.problems.length > problemsBefore || !certPem || !keyPem || !serverCerts[0]) return null;
  return {
    name: t.name ?? (index === 0 ? 'default' : t.hosts.join(',')),
    hosts: t.hosts,
    certPem,
    keyPem,
    serverCert: serverCerts[0],
    clientAuth,
    trustPem: Buffer.concat(trustParts),
    trustCerts,
    crlPem,
    ignore: ignoreSet(t.ignore_errors),
    caIgnore: ignoreSet(t.ca_ignore_errors ?? t.ignore_errors),
    alpn: t.alpn,
    dialect: t.dialect,
    files: [t.cert, ...(t.key ? [t.key] : []), ...t.trust, ...t.crl].map((f) => reader.path(f)),
  };
}

export interface ResolveOptions {
  baseDir: string;
  /** Where a relative pki_dir starts: the config file's folder when the file sets it, else the working directory. */
  pkiDirBase: string;
  source: string;
  /** Flags such as --client-auth given without --cert: they refine the dev PKI's TLS configuration. */
  devTlsOverrides?: Record<string, unknown>;
  /** The flag that gave a field of the first TLS configuration (`trust` → `--trust`): problems name it. */
  tlsFieldFlags?: Readonly<Record<string, string>>;
}

export async function resolveConfig(config: Config, opts: ResolveOptions): Promise<ResolvedConfig> {
  const reader = new FileReader(opts.baseDir);
  let devPki: DevPki | null = null;
  let devPkiGenerated = false;
  let tls: { input: TlsConfig; where: string }[];
  if (config.tls && config.tls.length > 0) {
    tls = config.tls.map((t, i) => ({ input: t, where: `${opts.source}: tls[${i}]` }));
  } else {
    const pkiDir = resolve(opts.pkiDirBase, config.pki_dir);
    ({ pki: devPki, created: devPkiGenerated } = await ensureDevPki(pkiDir));
    const parsed = tlsConfigSchema.safeParse({ name: 'dev', cert: devPki.server.chain, key: devPki.server.key, trust: [devPki.rootCa.cert], ...opts.devTlsOverrides });
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((i) => ({ where: opts.tlsFieldFlags?.[String(i.path[0])] ?? `command line: ${i.path.join('.')}`, message: i.message })));
    }
    tls = [{ input: parsed.data, where: 'dev PKI' }];
  }
  const profiles: ResolvedTlsProfile[] = [];
  for (const [i, t] of tls.entries()) {
    const flags = i === 0 ? (opts.tlsFieldFlags ?? {}) : {};
    const at: FieldLabel = (field, item) => flags[field] ?? `${t.where}.${field}${item === undefined ? '' : `[${item}]`}`;
    const p = await resolveTlsProfile(reader, t.input, at, i);
    if (p) profiles.push(p);
  }

  const routeInputs = config.routes && config.routes.length > 0 ? config.routes : [{ host: '*', path: '/', upstream: 'echo' }];
  const routes: ResolvedRoute[] = [];
  for (const [i, r] of routeInputs.entries()) {
    const where = `${opts.source}: routes[${i}]`;
    const upstream = r.upstream.replace(/\/$/, '');
    const t = 'tls' in r ? r.tls : undefined;
    let upstreamTls: ResolvedUpstreamTls | undefined;
    if (t) {
      const ca = t.ca ? (await Promise.all((Array.isArray(t.ca) ? t.ca : [t.ca]).map((f) => reader.read(`${where}.tls.ca`, f)))).filter((b): b is Buffer => b !== null) : undefined;
      const cert = t.cert ? (await reader.read(`${where}.tls.cert`, t.cert)) ?? undefined : undefined;
      const key = t.key ? (await reader.read(`${where}.tls.key`, t.key)) ?? undefined : cert;
      if (t.cert && !t.key && cert && !KEY_BLOCK.test(cert.toString('latin1'))) {
        reader.problems.push({ where: `${where}.tls.key`, message: 'a client certificate for the upstream needs its key: add tls.key' });
      }
      upstreamTls = { ca, cert, key: t.cert ? key : undefined, rejectUnauthorized: t.reject_unauthorized, servername: t.servername };
    }
    routes.push({ name: `${r.host}${r.path}`, host: r.host, path: r.path, upstream, tls: upstreamTls });
  }

  const userMappings: ResolvedUserMapping[] = [];
  for (const [i, m] of config.certificate_user_mappings.entries()) {
    const where = `${opts.source}: certificate_user_mappings[${i}]`;
    if (!m.certificate && !m.subject_cn) {
      reader.problems.push({ where, message: 'give `certificate` (a PEM file) or `subject_cn`' });
      continue;
    }
    let fingerprint256: string | undefined;
    if (m.certificate) {
      const data = await reader.read(`${where}.certificate`, m.certificate);
      const certs = data ? reader.certs(`${where}.certificate`, m.certificate, data) : [];
      fingerprint256 = certs[0]?.fingerprint256;
      if (!fingerprint256) continue;
    }
    userMappings.push({ user: m.user, fingerprint256, subjectCn: m.subject_cn });
  }

  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { tlsProfiles: profiles, routes, userMappings, devPki, devPkiGenerated, files: [...reader.files] };
}
