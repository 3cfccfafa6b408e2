// The Node processes the side-by-side scripts (paired.ts, idleRss.ts) start: this checkout's edge
// with or without its Node flags or with observability on, another built checkout's edge, or the
// Node floor.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { EDGE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { freePort } from '../test/parity/haproxy.js';
import type { BenchPki } from './benchPki.js';
import { start, waitForPort, type Proc } from './procs.js';

export const NODE_TARGETS_HELP =
  'edge, edge-default-flags, edge-trim (glibc trim threshold 128 KiB), edge-log (access log), edge-admin (+ admin listener), edge-page (+ a page on /events), node-floor, https-floor (node:https, fixed response, no upstream), tls-floor (node:tls, fixed response); an edge variant takes +--FLAG (extra Node/V8 flags) and @DIR (a built checkout), e.g. edge-admin+--no-opt@/tmp/old';

const OBSERVE: Record<string, { log: boolean; admin: boolean; page: boolean }> = {
  edge: { log: false, admin: false, page: false },
  'edge-default-flags': { log: false, admin: false, page: false },
  'edge-trim': { log: false, admin: false, page: false },
  'edge-log': { log: true, admin: false, page: false },
  'edge-admin': { log: true, admin: true, page: false },
  'edge-page': { log: true, admin: true, page: true },
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

export interface NodeTarget {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts one target on `cpu`, with the bench's edge configuration (one TLS configuration, sanitize_set). */
export async function startNodeTarget(name: string, pki: BenchPki, echoPort: number, o: { cpu: number; work: string; nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv }): Promise<NodeTarget> {
  const repo = process.cwd();
  const port = await freePort();
  let args: string[];
  let adminPort: number | null = null;
  const { variant, flags, checkout } = parseEdgeName(name);
  if (name === 'node-floor' || name === 'https-floor') {
    const upstream = name === 'node-floor' ? String(echoPort) : 'none';
    args = [...EDGE_NODE_FLAGS, ...(o.nodeFlags ?? []), join(repo, 'dist/bench/nodeFloor.js'), String(port), pki.serverChain, pki.serverKey, pki.rootCert, upstream, pki.clientChain];
  } else if (name === 'tls-floor') {
    args = [...EDGE_NODE_FLAGS, ...(o.nodeFlags ?? []), join(repo, 'dist/bench/tlsFloor.js'), String(port), pki.serverChain, pki.serverKey, pki.rootCert];
  } else if (OBSERVE[variant]) {
    const observe = OBSERVE[variant]!;
    adminPort = observe.admin ? await freePort() : null;
    const cfg = join(o.work, `${name.replace(/[^a-z0-9]/gi, '_')}-${port}.yaml`);
    writeFileSync(cfg, edgeBenchConfig({ port, pki, echoPort, timeoutSeconds: 600, log: observe.log, adminPort }));
    args = [...(variant === 'edge-default-flags' ? [] : EDGE_NODE_FLAGS), ...flags, ...(o.nodeFlags ?? []), join(checkout ?? repo, 'bin/mtls-edge.js'), 'start', '--config', cfg];
  } else {
    throw new Error(`unknown target "${name}": use ${NODE_TARGETS_HELP}`);
  }
  // Logs go to /dev/null ('ignore'): their formatting and write cost is measured, not a reader's.
  // edge-trim: glibc returns free memory at the top of its heap above 128 KiB instead of its
  // adaptive threshold (measured and not adopted: docs/performance-notes.md).
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
    async stop() {
      page?.destroy();
      await proc.stop();
    },
  };
}
