// Configuration = defaults ← YAML file ← command-line flags (startFlags.ts), validated by one zod
// schema, then resolved: files read, keys checked against their certificates, the dev PKI made
// when nothing else was configured. Every problem is collected and reported with the file and field
// it comes from.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import { ConfigError, type ConfigProblem } from './configError.js';
import { resolveConfig, type ResolvedConfig } from './resolve.js';
import { ADMIN_TOKEN_ENV, adminAccessProblems, adminToken } from '../observe/adminAccess.js';
import { applyOverrides, tlsFieldFlags, type ConfigOverrides } from './startFlags.js';

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

/** The flag that set the value at `path` or around it (`tls.0.trust.1` → `--trust`), if one did. */
function flagOf(path: readonly PropertyKey[], flagPaths: Readonly<Record<string, string>>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const flag = flagPaths[path.slice(0, n).map(String).join('.')];
    if (flag) return flag;
  }
  return undefined;
}

function formatIssues(source: string, issues: readonly z.core.$ZodIssue[], flagPaths: Readonly<Record<string, string>>): ConfigError {
  return new ConfigError(
    issues.map((issue) => {
      const flag = flagOf(issue.path, flagPaths);
      const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or correct ${issue.keys.length > 1 ? 'them' : 'it'} (see config.schema.json)`;
      return { where: flag ?? (field ? `${source}: ${field}` : source), message };
    }),
  );
}

/**
 * The admin listener's settings as the listener would refuse them (off loopback without a token, a
 * short MTLS_EDGE_ADMIN_TOKEN), found here rather than when the listener starts: `start` then exits 2
 * before a `--workers` primary forks a worker that would fail the same way, and a reload refuses the file.
 */
function adminSettingProblems(config: Config, source: string, env: NodeJS.ProcessEnv): ConfigProblem[] {
  if (config.admin === false) return [];
  // The schema already holds admin.token to its length: a short token in force came from the environment.
  const tokenWhere = config.admin.token ? `${source}: admin.token` : ADMIN_TOKEN_ENV;
  return adminAccessProblems(config.admin.host, adminToken(config.admin.token, env), { host: `${source}: admin.host`, token: tokenWhere });
}

export interface LoadedConfig {
  config: Config;
  resolved: ResolvedConfig;
  /** max_connections came from the default, not from the file or a flag (the edge may then lower it quietly). */
  maxConnectionsDefaulted: boolean;
}

export interface LoadOptions {
  readonly file?: string;
  readonly overrides?: ConfigOverrides;
  /** Where relative paths given by flags (and `file`) start; default: the working directory. */
  readonly cwd?: string;
  /** Where BIND_ENV and MTLS_EDGE_ADMIN_TOKEN are read; default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The bind address when neither the file nor --bind gives one. The container image sets 0.0.0.0
 * here: a published port must reach the listeners, whatever flags `docker run … start` is given
 * (arguments replace the image's CMD, an environment variable stays).
 */
export const BIND_ENV = 'MTLS_EDGE_BIND';

/** Loads, validates and resolves the configuration. Throws ConfigError listing every problem found. */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file ? resolve(cwd, opts.file) : undefined;
  const fromFile = file ? await readConfigFile(file) : {};
  const { input, devTlsOverrides, flagPaths } = applyOverrides(fromFile, opts.overrides ?? {}, cwd);
  const bindFromEnv = (opts.env ?? process.env)[BIND_ENV];
  if (bindFromEnv && input['bind'] === undefined) {
    // Only what an address or host name is made of: a stray space or newline from a shell would
    // otherwise surface as a listen error that names neither the variable nor the value.
    if (!/^[0-9A-Za-z.:%[\]-]+$/.test(bindFromEnv)) {
      throw new ConfigError([{ where: BIND_ENV, message: `${JSON.stringify(bindFromEnv)} is not an address to listen on: an IP address or host name without spaces, e.g. 0.0.0.0 (unset it for the default, 127.0.0.1)` }]);
    }
    input['bind'] = bindFromEnv;
  }
  const parsed = configSchema.safeParse(input as ConfigInput);
  if (!parsed.success) throw formatIssues(file ?? 'command line', parsed.error.issues, flagPaths);
  // Paths in a file are relative to that file; paths from flags to the working directory.
  const baseDir = file ? dirname(file) : cwd;
  // pki_dir written in the file is relative to the file like every other path there; the default
  // (`certs`, written nowhere) and --pki-dir (already absolute) start at the working directory.
  const pkiDirBase = 'pki_dir' in fromFile ? baseDir : cwd;
  const source = file ?? 'command line';
  const adminProblems = adminSettingProblems(parsed.data, source, opts.env ?? process.env);
  let resolved: ResolvedConfig;
  try {
    resolved = await resolveConfig(parsed.data, { baseDir, pkiDirBase, source, devTlsOverrides, tlsFieldFlags: tlsFieldFlags(opts.overrides ?? {}) });
  } catch (e) {
    // Every problem together, the admin listener's first (it is the first the reader can fix without a file).
    if (e instanceof ConfigError && adminProblems.length > 0) throw new ConfigError([...adminProblems, ...e.problems]);
    throw e;
  }
  if (adminProblems.length > 0) throw new ConfigError(adminProblems);
  return { config: parsed.data, resolved, maxConnectionsDefaulted: input['max_connections'] === undefined };
}
