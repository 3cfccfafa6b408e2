// Configuration = defaults ← YAML file ← command-line flags, validated by one zod schema, then
// resolved: files read, keys checked against their certificates, the dev PKI made when nothing else
// was configured. Every problem is collected and reported with the file and field it comes from.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import { ConfigError } from './configError.js';
import { resolveConfig, type ResolvedConfig } from './resolve.js';

/** Flags of `mtls-edge start` that override the file. Undefined = not given. */
export interface ConfigOverrides {
  httpsPort?: number;
  httpPort?: number | false;
  bind?: string;
  cert?: string;
  key?: string;
  trust?: string[];
  clientAuth?: string;
  ignoreErrors?: string;
  crl?: string[];
  forwardedClientCert?: string;
  legacyXfccHeaderMapping?: boolean;
  upstream?: string;
  strictSni?: boolean;
  logFormat?: string;
  logLevel?: string;
  accessLog?: string;
  adminPort?: number | false;
  explainRejections?: boolean;
  workers?: number;
  pkiDir?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readConfigFile(file: string): Promise<Obj> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ where: file, message: `cannot read the configuration file (${(e as NodeJS.ErrnoException).code ?? 'error'}): check the path` }]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const line = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}` : '';
    throw new ConfigError([{ where: `${file}${line}`, message: `not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new ConfigError([{ where: file, message: 'the top level must be a mapping of keys (e.g. `https_port: 8443`)' }]);
  return doc;
}

/** Applies command-line flags on top of the file's content (before validation, so flags are validated too). */
export function applyOverrides(input: Obj, o: ConfigOverrides): Obj {
  const out: Obj = { ...input };
  const set = (key: string, v: unknown): void => {
    if (v !== undefined) out[key] = v;
  };
  set('https_port', o.httpsPort);
  set('http_port', o.httpPort);
  set('bind', o.bind);
  set('forwarded_client_cert', o.forwardedClientCert);
  set('legacy_xfcc_header_mapping', o.legacyXfccHeaderMapping);
  set('strict_sni', o.strictSni);
  set('explain_rejections', o.explainRejections);
  set('workers', o.workers);
  set('pki_dir', o.pkiDir);
  if (o.logFormat !== undefined || o.logLevel !== undefined || o.accessLog !== undefined) {
    const log: Obj = isObj(out.log) ? { ...out.log } : {};
    if (o.logFormat !== undefined) log.format = o.logFormat;
    if (o.logLevel !== undefined) log.level = o.logLevel;
    if (o.accessLog !== undefined) log.access = o.accessLog;
    out.log = log;
  }
  if (o.adminPort !== undefined) {
    out.admin = o.adminPort === false ? false : { ...(isObj(out.admin) ? out.admin : {}), port: o.adminPort };
  }
  const tlsFlags = [o.cert, o.key, o.trust, o.clientAuth, o.ignoreErrors, o.crl].some((v) => v !== undefined);
  if (tlsFlags) {
    const list = Array.isArray(out.tls) ? [...out.tls] : [];
    const first: Obj = isObj(list[0]) ? { ...list[0] } : {};
    if (o.cert !== undefined) first.cert = o.cert; // flag paths arrive absolute (resolved against the working directory)
    if (o.key !== undefined) first.key = o.key;
    if (o.trust !== undefined) first.trust = o.trust;
    if (o.clientAuth !== undefined) first.client_auth = o.clientAuth;
    if (o.ignoreErrors !== undefined) first.ignore_errors = o.ignoreErrors;
    if (o.crl !== undefined) first.crl = o.crl;
    // Without --cert and without a file, the first TLS configuration is the dev PKI's (filled in later).
    if (first.cert !== undefined || list.length > 0) list[0] = first;
    else out.dev_tls_overrides = first;
    if (list.length > 0) out.tls = list;
  }
  if (o.upstream !== undefined) {
    const routes = Array.isArray(out.routes) ? [...out.routes] : [];
    const catchAll = routes.findIndex((r) => isObj(r) && (r.host ?? '*') === '*' && (r.path ?? '/') === '/');
    const route = { ...(catchAll >= 0 && isObj(routes[catchAll]) ? (routes[catchAll] as Obj) : {}), host: '*', path: '/', upstream: o.upstream };
    if (catchAll >= 0) routes[catchAll] = route;
    else routes.push(route);
    out.routes = routes;
  }
  return out;
}

function formatIssues(source: string, issues: readonly z.core.$ZodIssue[]): ConfigError {
  return new ConfigError(
    issues.map((issue) => {
      const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or correct ${issue.keys.length > 1 ? 'them' : 'it'} (see config.schema.json)`;
      return { where: field ? `${source}: ${field}` : source, message };
    }),
  );
}

export interface LoadedConfig {
  config: Config;
  resolved: ResolvedConfig;
}

/** Loads, validates and resolves the configuration. Throws ConfigError listing every problem found. */
export async function loadConfig(opts: { file?: string; overrides?: ConfigOverrides; cwd?: string }): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file ? resolve(cwd, opts.file) : undefined;
  const fromFile = file ? await readConfigFile(file) : {};
  const merged = applyOverrides(fromFile, opts.overrides ?? {});
  const devTlsOverrides = merged.dev_tls_overrides;
  delete merged.dev_tls_overrides;
  const parsed = configSchema.safeParse(merged as ConfigInput);
  if (!parsed.success) throw formatIssues(file ?? 'command line', parsed.error.issues);
  // Paths in a file are relative to that file; paths from flags to the working directory.
  const baseDir = file ? dirname(file) : cwd;
  const resolved = await resolveConfig(parsed.data, {
    baseDir,
    cwd,
    source: file ?? 'command line',
    devTlsOverrides: isObj(devTlsOverrides) ? devTlsOverrides : undefined,
  });
  return { config: parsed.data, resolved };
}
