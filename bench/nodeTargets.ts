// The Node processes the side-by-side scripts (paired.ts, idleRss.ts, alone.ts) start: this
// checkout's edge, with observability on or extra Node flags, another built checkout's edge, or the
// Node floor.
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../test/parity/haproxy.js';
import type { BenchPki } from './benchPki.js';
import { benchScript, REPO } from './paths.js';
import { start, waitForPort, type Proc } from './procs.js';

export const NODE_TARGETS_HELP =
  'edge, edge-trim (glibc trim threshold 128 KiB), edge-log (access log), edge-admin (+ admin listener), edge-page (+ a page on /events), edge-inprocess (+ what main holds in its process since issue 20: the checkout\'s config loader run there, undici by its public entry; for older builds), node-floor, https-floor (node:https, fixed response, no upstream), tls-floor (node:tls, fixed response); an edge variant takes +--FLAG (extra Node/V8 flags) and @DIR (a built checkout), e.g. edge-admin+--no-opt@/tmp/old';

const OBSERVE: Record<string, { log: boolean; admin: boolean; page: boolean }> = {
  edge: { log: false, admin: false, page: false },
  'edge-trim': { log: false, admin: false, page: false },
  'edge-log': { log: true, admin: false, page: false },
  'edge-admin': { log: true, admin: true, page: false },
  'edge-page': { log: true, admin: true, page: true },
  'edge-inprocess': { log: false, admin: false, page: false },
};

/** The edge's configuration in every bench: one TLS configuration with the root as trust list, sanitize_set. */
export function edgeBenchConfig(c: { port: number; pki: BenchPki; echoPort: number; timeoutSeconds: number; log: boolean; adminPort: number | null }): string {
  return [
    'bind: 127.0.0.1',
    `https_port: ${c.port}`,
    'http_port: false',
    'forwarded_client_cert: sanitize_set',
    'tls:',
    `  - cert: ${c.pki.serverChain}`,
    `    key: ${c.pki.serverKey}`,
    `    trust: [${c.pki.rootCert}]`,
    'routes:',
    `  - upstream: http://127.0.0.1:${c.echoPort}`,
    // Long timeouts: idle connections must outlive the measurement.
    `timeouts: { client: ${c.timeoutSeconds}, keep_alive: ${c.timeoutSeconds}, request_headers: ${c.timeoutSeconds} }`,
    c.log ? 'log: { format: json, level: info, access: cpi }' : 'log: { format: json, level: error, access: off }',
    c.adminPort ? `admin: { host: 127.0.0.1, port: ${c.adminPort} }` : 'admin: false',
    '',
  ].join('\n');
}

/**
 * An edge target's name: `VARIANT[+--flag…][@DIR]`. `+--flag` adds Node or V8 flags after the
 * edge's own, to measure a flag before adopting it (V8 takes the last value of a repeated flag;
 * only `--` flags without spaces). `@DIR` runs the built checkout in DIR instead of this one.
 */
function parseEdgeName(name: string): { variant: string; flags: string[]; checkout: string | null } {
  const at = name.indexOf('@');
  const base = at > 0 ? name.slice(0, at) : name;
  const plus = base.indexOf('+');
  const flags = plus > 0 ? base.slice(plus + 1).split('+') : [];
  for (const f of flags) if (!/^--[a-z0-9-]+(=[\w.-]+)?$/.test(f)) throw new Error(`target "${name}": "${f}" is not a --flag[=value]`);
  return { variant: plus > 0 ? base.slice(0, plus) : base, flags, checkout: at > 0 ? name.slice(at + 1) : null };
}

/** The Node flags in a checkout's package.json `start` script (`node [--flag…] bin/mtls-edge.js start`). */
export function startNodeFlags(checkout: string): string[] {
  const file = join(checkout, 'package.json');
  const start = (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const node = words.indexOf('node');
  if (node < 0) throw new Error(`${file}: the "start" script ("${start}") does not run node; expected \`node [--flag…] bin/mtls-edge.js start\``);
  const flags: string[] = [];
  for (const w of words.slice(node + 1)) {
    if (!w.startsWith('--')) break;
    flags.push(w);
  }
  return flags;
}

export interface NodeTarget {
  readonly port: number;
  readonly pid: number;
  /** The Node flags it runs with (before the script). */
  readonly nodeFlags: readonly string[];
  stop(): Promise<void>;
}

/** Starts one target on `cpu`, with the bench's edge configuration (one TLS configuration, sanitize_set). */
export async function startNodeTarget(name: string, pki: BenchPki, echoPort: number, o: { cpu: number; work: string; nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv }): Promise<NodeTarget> {
  const port = await freePort();
  let args: string[];
  let script: string;
  let adminPort: number | null = null;
  const { variant, flags, checkout } = parseEdgeName(name);
  if (name === 'node-floor' || name === 'https-floor') {
    const upstream = name === 'node-floor' ? String(echoPort) : 'none';
    script = benchScript('nodeFloor.js');
    args = [...(o.nodeFlags ?? []), script, String(port), pki.serverChain, pki.serverKey, pki.rootCert, upstream, pki.clientChain];
  } else if (name === 'tls-floor') {
    script = benchScript('tlsFloor.js');
    args = [...(o.nodeFlags ?? []), script, String(port), pki.serverChain, pki.serverKey, pki.rootCert];
  } else if (OBSERVE[variant]) {
    const observe = OBSERVE[variant]!;
    adminPort = observe.admin ? await freePort() : null;
    const cfg = join(o.work, `${name.replace(/[^a-z0-9]/gi, '_')}-${port}.yaml`);
    writeFileSync(cfg, edgeBenchConfig({ port, pki, echoPort, timeoutSeconds: 600, log: observe.log, adminPort }));
    // An edge runs as its checkout's own `npm start` runs it, so an older main is measured with the Node flags it shipped with.
    const root = checkout ?? REPO;
    script = join(root, 'bin/mtls-edge.js');
    const preload: string[] = [];
    if (variant === 'edge-inprocess') {
      // Main already holds all of it: on this checkout the target would load the configuration twice.
      if (checkout === null) throw new Error(`target "${name}": edge-inprocess is for another, older checkout: add @DIR`);
      preload.push(`--import=${pathToFileURL(benchScript('inProcess.js')).href}`);
    }
    args = [...startNodeFlags(root), ...preload, ...flags, ...(o.nodeFlags ?? []), script, 'start', '--config', cfg];
  } else {
    throw new Error(`unknown target "${name}": use ${NODE_TARGETS_HELP}`);
  }
  // Logs go to /dev/null ('ignore'): their formatting and write cost is measured, not a reader's.
  // edge-trim: glibc returns free memory at the top of its heap above 128 KiB instead of its
  // adaptive threshold (measured, not adopted: 1.16× CPU per handshake).
  const baseEnv = o.env ?? process.env;
  const env = variant === 'edge-trim' ? { ...baseEnv, MALLOC_TRIM_THRESHOLD_: '131072' } : baseEnv;
  const proc: Proc = start(process.execPath, args, { cpu: o.cpu, stdio: ['ignore', 'ignore', 'pipe'], env });
  await waitForPort(port, proc);
  let page: http.ClientRequest | null = null;
  if (adminPort !== null && OBSERVE[variant]?.page) {
    await waitForPort(adminPort, proc);
    page = http.get({ host: '127.0.0.1', port: adminPort, path: '/events', agent: false }, (res) => res.resume());
    page.on('error', () => undefined);
  }
  return {
    port,
    pid: proc.pid,
    nodeFlags: args.slice(0, args.indexOf(script)),
    async stop() {
      page?.destroy();
      await proc.stop();
    },
  };
}
