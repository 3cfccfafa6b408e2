// `mtls-edge start`: load the configuration (file ← flags), start observability and the edge, print
// how to try it, and drain on SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 runtime failure, 2 bad
// configuration (the message names the file and field).
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig, type ConfigOverrides, type LoadedConfig } from '../config/load.js';
import { ConfigError } from '../config/configError.js';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES } from './commandList.js';
import { isLoaderProcess, replyToParent } from '../config/loaderProcess.js';
import { toWire, type LoadedConfigWire } from '../config/loadedWire.js';

export interface StartArgs {
  config?: string;
  'https-port'?: number;
  'http-port'?: number;
  bind?: string;
  cert?: string;
  key?: string;
  trust?: string[];
  'client-auth'?: string;
  'ignore-errors'?: string;
  crl?: string[];
  'forwarded-client-cert'?: string;
  'legacy-xfcc-header-mapping'?: boolean;
  upstream?: string;
  'strict-sni'?: boolean;
  'log-format'?: string;
  'log-level'?: string;
  'access-log'?: string;
  'admin-port'?: number;
  admin?: boolean;
  'explain-rejections'?: boolean;
  workers?: number;
  'pki-dir'?: string;
}

/** What the edge needs to run: the loaded configuration and how to load it again on reload. */
export interface StartRequest {
  readonly loaded: LoadedConfig;
  readonly configFile?: string;
  readonly overrides: ConfigOverrides;
}

/** What a loader child sends back to the process that runs the edge (startHost.ts). */
export interface StartReply {
  readonly kind: 'start';
  readonly request: Omit<StartRequest, 'loaded'> & { readonly loaded: LoadedConfigWire };
}

const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));

export function overridesFromArgs(a: ArgumentsCamelCase<StartArgs> | StartArgs): ConfigOverrides {
  return {
    httpsPort: a['https-port'],
    httpPort: a['http-port'] === -1 ? false : a['http-port'],
    bind: a.bind,
    cert: abs(a.cert),
    key: abs(a.key),
    trust: a.trust?.map((t) => resolve(t)),
    clientAuth: a['client-auth'],
    ignoreErrors: a['ignore-errors'],
    crl: a.crl?.map((c) => resolve(c)),
    forwardedClientCert: a['forwarded-client-cert'],
    legacyXfccHeaderMapping: a['legacy-xfcc-header-mapping'],
    upstream: a.upstream,
    strictSni: a['strict-sni'],
    logFormat: a['log-format'],
    logLevel: a['log-level'],
    accessLog: a['access-log'],
    adminPort: a.admin === false ? false : a['admin-port'],
    explainRejections: a['explain-rejections'],
    workers: a.workers,
    pkiDir: a['pki-dir'],
  };
}

export const startCommand: CommandModule<object, StartArgs> = {
  ...COMMAND_SUMMARIES.start,
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
      .option('https-port', { type: 'number', describe: 'HTTPS port (0 = any free port)' })
      .option('http-port', { type: 'number', describe: 'plain-HTTP port (0 = any free port, -1 = off)' })
      .option('bind', { type: 'string', describe: 'address to listen on (default 0.0.0.0)' })
      .option('cert', { type: 'string', describe: 'server certificate PEM (with its chain)' })
      .option('key', { type: 'string', describe: 'server private key PEM' })
      .option('trust', { type: 'string', array: true, describe: 'trust list: CA certificate PEM file (repeatable)' })
      .option('client-auth', { type: 'string', choices: ['disabled', 'optional', 'required'], describe: 'client certificate mode' })
      .option('ignore-errors', { type: 'string', describe: 'OpenSSL verify codes to accept anyway: "2,10,18" or "all"' })
      .option('crl', { type: 'string', array: true, describe: 'CRL PEM file (repeatable)' })
      .option('forwarded-client-cert', { type: 'string', describe: 'always_forward_only | forward_only | sanitize_set | forward_only_if_route_service' })
      .option('legacy-xfcc-header-mapping', { type: 'boolean', describe: 'DN/CN headers as oneline text instead of base64' })
      .option('upstream', { type: 'string', describe: 'default route: http(s)://host:port, or "echo" (built-in)' })
      .option('strict-sni', { type: 'boolean', describe: 'refuse handshakes whose SNI matches no TLS configuration' })
      .option('log-format', { type: 'string', choices: ['pretty', 'json'], describe: 'default: pretty on a terminal, json otherwise' })
      .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'] })
      .option('access-log', { type: 'string', choices: ['cpi', 'haproxy', 'off'], describe: 'access-log line format' })
      .option('admin-port', { type: 'number', describe: 'admin listener port for the flow page, /status, /metrics (default 9901)' })
      .option('admin', { type: 'boolean', describe: 'admin listener on (default); --no-admin turns it off' })
      .option('explain-rejections', { type: 'boolean', describe: 'answer refused certificates with a page that explains why' })
      .option('workers', { type: 'number', describe: 'worker processes (node:cluster), one per core' })
      .option('pki-dir', { type: 'string', describe: 'where the dev PKI lives (default ./certs)' }) as unknown as Argv<StartArgs>,
  handler: async (args) => {
    const overrides = overridesFromArgs(args);
    let loaded;
    try {
      loaded = await loadConfig({ file: args.config, overrides });
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(`configuration error:\n  ${e.problems.map((p) => `${p.where}: ${p.message}`).join('\n  ')}`, 2);
      throw e;
    }
    const request: StartRequest = { loaded, configFile: args.config, overrides };
    // In a loader child (startHost.ts) the parent runs the edge; otherwise it runs here.
    if (isLoaderProcess()) {
      replyToParent({ kind: 'start', request: { ...request, loaded: toWire(loaded) } } satisfies StartReply);
      return;
    }
    await (await import('./runStart.js')).runStart(request);
  },
};
