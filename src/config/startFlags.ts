// The flags of `mtls-edge start`, one entry each. yargs' options and the help text are made from
// this table (src/cli/start.ts), and so is the way a flag changes the configuration (applyOverrides,
// used by load.ts). The file itself is described by schema.ts; `sets` names the setting of the file
// a flag overrides, or the setting of the running process (not in the file: how the process is run,
// not what the edge does) that it sets.
import { resolve } from 'node:path';
import { FORWARDED_CLIENT_CERT_MODES } from '../headers/modeTable.js';
import { ACCESS_LOG_FORMATS, CLIENT_AUTH_MODES, LOG_FORMATS, LOG_LEVELS } from './schema.js';

/** A flag's value as yargs parses it. */
type FlagValue = number | string | boolean | readonly string[];

/** Settings of the running process rather than of the edge: read once at start, not reloaded. */
export interface ProcessSettings {
  /** Absolute path of the file the process writes its PID to once ready (--pid-file). */
  readonly pidFile?: string;
  /** Drain and exit when the parent process ends (--exit-with-parent). */
  readonly exitWithParent: boolean;
}

/**
 * The setting a flag overrides: a key of the file (dotted when nested), a key of the file's first
 * TLS configuration (the dev PKI's when the file has none and no --cert is given), a key of the
 * catch-all route (host "*", path "/"; added when the file has none), or a process setting.
 */
export type FlagSetting = { readonly file: string } | { readonly firstTls: string } | { readonly catchAllRoute: string } | { readonly process: keyof ProcessSettings };

export interface StartFlag {
  readonly type: 'number' | 'string' | 'boolean';
  /** Repeatable: each use adds one value. */
  readonly array?: true;
  readonly choices?: readonly string[];
  readonly describe: string;
  readonly sets: FlagSetting;
  /** A file path: made absolute against the working directory (paths in the file are relative to the file). */
  readonly isPath?: true;
  /** The value the setting gets (default: the flag's value); undefined leaves the setting as the file has it. */
  readonly toSetting?: (value: FlagValue) => unknown;
}

// Entries apply in this order, which is also the order of the help text: --no-admin comes after
// --admin-port so that it wins when both are given.
export const START_FLAGS = {
  'https-port': { type: 'number', describe: 'HTTPS port (0 = any free port)', sets: { file: 'https_port' } },
  'http-port': {
    type: 'number',
    describe: 'plain-HTTP port (0 = any free port, -1 = off)',
    sets: { file: 'http_port' },
    toSetting: (v) => (v === -1 ? false : v),
  },
  bind: { type: 'string', describe: 'address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)', sets: { file: 'bind' } },
  cert: { type: 'string', describe: 'server certificate PEM (with its chain)', sets: { firstTls: 'cert' }, isPath: true },
  key: { type: 'string', describe: 'server private key PEM', sets: { firstTls: 'key' }, isPath: true },
  trust: { type: 'string', array: true, describe: 'trust list: CA certificate PEM file (repeatable)', sets: { firstTls: 'trust' }, isPath: true },
  'client-auth': { type: 'string', choices: CLIENT_AUTH_MODES, describe: 'client certificate mode', sets: { firstTls: 'client_auth' } },
  'ignore-errors': { type: 'string', describe: 'OpenSSL verify codes to accept anyway: "2,10,18" or "all"', sets: { firstTls: 'ignore_errors' } },
  crl: { type: 'string', array: true, describe: 'CRL PEM file (repeatable)', sets: { firstTls: 'crl' }, isPath: true },
  'forwarded-client-cert': { type: 'string', describe: FORWARDED_CLIENT_CERT_MODES.join(' | '), sets: { file: 'forwarded_client_cert' } },
  'legacy-xfcc-header-mapping': { type: 'boolean', describe: 'DN/CN headers as oneline text instead of base64', sets: { file: 'legacy_xfcc_header_mapping' } },
  upstream: { type: 'string', describe: 'default route: http(s)://host:port, or "echo" (built-in)', sets: { catchAllRoute: 'upstream' } },
  'strict-sni': { type: 'boolean', describe: 'refuse handshakes whose SNI matches no TLS configuration', sets: { file: 'strict_sni' } },
  'log-format': { type: 'string', choices: LOG_FORMATS, describe: 'default: pretty on a terminal, json otherwise', sets: { file: 'log.format' } },
  'log-level': { type: 'string', choices: LOG_LEVELS, describe: 'least severe level logged (default info)', sets: { file: 'log.level' } },
  'access-log': { type: 'string', choices: ACCESS_LOG_FORMATS, describe: 'access-log line format', sets: { file: 'log.access' } },
  'admin-port': { type: 'number', describe: 'admin listener port for the flow page, /status, /metrics (default 9901)', sets: { file: 'admin.port' } },
  admin: {
    type: 'boolean',
    describe: 'admin listener on (default); --no-admin turns it off',
    sets: { file: 'admin' },
    toSetting: (v) => (v === false ? false : undefined),
  },
  'explain-rejections': { type: 'boolean', describe: 'answer refused certificates with a page that explains why', sets: { file: 'explain_rejections' } },
  workers: { type: 'number', describe: 'worker processes (node:cluster), one per core', sets: { file: 'workers' } },
  'pki-dir': { type: 'string', describe: 'where the dev PKI lives (default ./certs)', sets: { file: 'pki_dir' }, isPath: true },
  // For scripts and CI: npm and npx run the edge under `sh -c`, so a signal sent to them may not reach it.
  'pid-file': {
    type: 'string',
    describe: 'once ready, write the PID here (0644); removed on a clean stop; refuses to start while the edge it names runs',
    sets: { process: 'pidFile' },
    isPath: true,
  },
  'exit-with-parent': { type: 'boolean', describe: 'drain and exit when the process that started the edge ends', sets: { process: 'exitWithParent' } },
} as const satisfies Record<string, StartFlag>;

export type StartFlagName = keyof typeof START_FLAGS;

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type ValueOf<F> = F extends { readonly type: 'number' } ? number : F extends { readonly type: 'boolean' } ? boolean : F extends { readonly array: true } ? string[] : string;

/** The start flags given, under the camel-case names yargs also parses them to (`https-port` → httpsPort). Undefined = not given. */
export type ConfigOverrides = { [K in StartFlagName as CamelCase<K>]?: ValueOf<(typeof START_FLAGS)[K]> };

/** yargs' camel-case name of a flag, the key of its value in ConfigOverrides. */
const overrideKey = (flag: StartFlagName): keyof ConfigOverrides => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ConfigOverrides;

export const startFlagEntries = (): [StartFlagName, StartFlag][] => Object.entries(START_FLAGS) as [StartFlagName, StartFlag][];

/** The setting as the configuration file spells it, for help text and error messages. */
export function settingLabel(sets: FlagSetting): string {
  if ('file' in sets) return sets.file;
  if ('firstTls' in sets) return `tls[0].${sets.firstTls}`;
  if ('process' in sets) return `process.${sets.process}`;
  return `routes[host "*", path "/"].${sets.catchAllRoute}`;
}

/** A flag and the setting it overrides, for messages that say what to change: `--https-port (https_port in the configuration)`. */
export const flagAndSetting = (flag: StartFlagName): string => `--${flag} (${settingLabel(START_FLAGS[flag].sets)} in the configuration)`;

/** The process settings among the flags given; a path is made absolute against `cwd`. */
export function processSettings(overrides: ConfigOverrides, cwd: string): ProcessSettings {
  return { pidFile: overrides.pidFile === undefined ? undefined : resolve(cwd, overrides.pidFile), exitWithParent: overrides.exitWithParent === true };
}

/** The start flags among yargs' parsed arguments (it gives each under its camel-case name too). */
export function overridesFromArgs(args: Readonly<Record<string, unknown>>): ConfigOverrides {
  const out: Record<string, unknown> = {};
  for (const [flag] of startFlagEntries()) {
    const key = overrideKey(flag);
    if (args[key] !== undefined) out[key] = args[key];
  }
  return out as ConfigOverrides;
}

/** The flags given that set a field of the first TLS configuration, by field: `{ trust: '--trust' }`. */
export function tlsFieldFlags(overrides: ConfigOverrides): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, spec] of startFlagEntries()) {
    if ('firstTls' in spec.sets && (overrides as Readonly<Record<string, unknown>>)[overrideKey(flag)] !== undefined) out[spec.sets.firstTls] = `--${flag}`;
  }
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `target` with `value` at the dotted `key`; objects on the way are copied, anything else there replaced. */
function setIn(target: Obj, key: string, value: unknown): Obj {
  const [head, ...rest] = key.split('.') as [string, ...string[]];
  return { ...target, [head]: rest.length === 0 ? value : setIn(isObj(target[head]) ? target[head] : {}, rest.join('.'), value) };
}

export interface Overridden {
  /** The file's content with the flags applied (validated afterwards, so flags are validated too). */
  readonly input: Obj;
  /** TLS flags given without --cert and without a TLS configuration in the file: they refine the dev PKI's. */
  readonly devTlsOverrides?: Obj;
  /** The flag that set each value, by its path in `input` (`routes.0.upstream` → `--upstream`): problems there name the flag. */
  readonly flagPaths: Readonly<Record<string, string>>;
}

/** Applies the start flags given to the file's content; paths given by flags are resolved against `cwd`. */
export function applyOverrides(fileInput: Obj, overrides: ConfigOverrides, cwd: string): Overridden {
  let input: Obj = { ...fileInput };
  let tls: Obj = {};
  let route: Obj = {};
  const flagPaths: Record<string, string> = {};
  const tlsFlags: Record<string, string> = {};
  const routeFlags: Record<string, string> = {};
  for (const [flag, spec] of startFlagEntries()) {
    const given = (overrides as Readonly<Record<string, FlagValue | undefined>>)[overrideKey(flag)];
    if (given === undefined || 'process' in spec.sets) continue;
    const value = spec.toSetting ? spec.toSetting(given) : spec.isPath ? absolute(given, cwd) : given;
    if (value === undefined) continue;
    if ('file' in spec.sets) {
      input = setIn(input, spec.sets.file, value);
      flagPaths[spec.sets.file] = `--${flag}`;
    } else if ('firstTls' in spec.sets) {
      tls = setIn(tls, spec.sets.firstTls, value);
      tlsFlags[spec.sets.firstTls] = `--${flag}`;
    } else {
      route = setIn(route, spec.sets.catchAllRoute, value);
      routeFlags[spec.sets.catchAllRoute] = `--${flag}`;
    }
  }
  let devTlsOverrides: Obj | undefined;
  if (Object.keys(tls).length > 0) {
    const list = Array.isArray(input.tls) ? [...(input.tls as unknown[])] : [];
    const first: Obj = { ...(isObj(list[0]) ? list[0] : {}), ...tls };
    if (first.cert !== undefined || list.length > 0) {
      list[0] = first;
      input.tls = list;
      for (const [field, flag] of Object.entries(tlsFlags)) flagPaths[`tls.0.${field}`] = flag;
    } else devTlsOverrides = first;
  }
  if (Object.keys(route).length > 0) {
    const routes = Array.isArray(input.routes) ? [...(input.routes as unknown[])] : [];
    const at = routes.findIndex((r) => isObj(r) && (r.host ?? '*') === '*' && (r.path ?? '/') === '/');
    const catchAll = { ...(at >= 0 && isObj(routes[at]) ? routes[at] : {}), host: '*', path: '/', ...route };
    if (at >= 0) routes[at] = catchAll;
    else routes.push(catchAll);
    input.routes = routes;
    for (const [field, flag] of Object.entries(routeFlags)) flagPaths[`routes.${at >= 0 ? at : routes.length - 1}.${field}`] = flag;
  }
  return { input, devTlsOverrides, flagPaths };
}

function absolute(value: FlagValue, cwd: string): FlagValue {
  if (typeof value === 'string') return resolve(cwd, value);
  if (Array.isArray(value)) return value.map((p: string) => resolve(cwd, p));
  return value;
}
