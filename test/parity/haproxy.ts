// Real HAProxy for the parity suite (and the benchmarks): finds the binaries (Debian's 2.6, the
// 3.2 build beside the repository), renders the haproxy.cfg the Cloud Foundry template produces
// (docs/edge-behaviour.md §9) for one TLS/forwarded_client_cert setting, runs it in the foreground (`haproxy -f cfg
// -db`) on free loopback ports and stops it again; startSideBySide puts the edge and each HAProxy found
// in front of one upstream for the side-by-side parity files.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { H10_DELETE_ORDER, renderHaproxyCfg, type TimeoutName } from '../../src/export/haproxyConfig.js';

/** The ten headers in the template's deletion order (the one list: src/export/haproxyConfig.ts). */
export const H10_NAMES = H10_DELETE_ORDER;

export type Mode = 'always_forward_only' | 'forward_only' | 'sanitize_set' | 'forward_only_if_route_service';

/** The path of `haproxy` on PATH (plus /usr/sbin, where Debian puts it), or null. */
export function findHaproxy(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, 'haproxy');
    const r = spawnSync(p, ['-v'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0 && /HAProxy version/.test(r.stdout)) return p;
  }
  return null;
}

/** Where the HAProxy 3.2 build lives, relative to a directory beside the repository (CI clones next to `shared/`). */
const HAPROXY_32_RELATIVE = join('shared', 'tools', 'haproxy-3.2', 'haproxy');

/** The nearest directory at or above `from` that holds a package.json (the repository root). */
function repoRoot(from: string): string | null {
  for (let d = from, i = 0; i < 64; d = dirname(d), i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return null;
  }
  return null;
}

/**
 * `<repo>/../shared/tools/haproxy-3.2/haproxy`, or the same path under any further parent (a git
 * worktree such as /work/wt/NAME finds /work/shared/...): the first one that runs and reports 3.2.
 */
export function findHaproxy32(from: string = dirname(fileURLToPath(import.meta.url))): { bin: string | null; looked: string[] } {
  const root = repoRoot(from);
  const looked: string[] = [];
  if (!root) return { bin: null, looked };
  for (let d = dirname(root), i = 0; i < 64; d = dirname(d), i++) {
    const p = join(d, HAPROXY_32_RELATIVE);
    looked.push(p);
    if (existsSync(p) && /^3\.2\./.test(haproxyVersion(p))) return { bin: p, looked };
    if (dirname(d) === d) break;
  }
  return { bin: null, looked };
}

/** One HAProxy the parity suite compares with: its binary, or why there is none here. */
export interface HaproxyTarget {
  readonly name: string;
  readonly bin: string | null;
  readonly whyMissing: string;
}

/** Both HAProxy versions the parity suite runs against: Debian's package (2.6) and the 3.2 build beside the repository. */
export function parityTargets(): HaproxyTarget[] {
  const h32 = findHaproxy32();
  return [
    {
      name: "Debian's haproxy (PATH, /usr/sbin)",
      bin: findHaproxy(),
      whyMissing: 'no `haproxy` on PATH or in /usr/sbin; install it, e.g. `apt-get install -y haproxy` (Debian 12: 2.6)',
    },
    {
      name: 'HAProxy 3.2 (<repo>/../shared/tools/haproxy-3.2)',
      bin: h32.bin,
      whyMissing: `no HAProxy 3.2 binary at ${h32.looked.length ? h32.looked.join(', ') : `<repo>/../${HAPROXY_32_RELATIVE}`}`,
    },
  ];
}

/** `2.6.12-1+deb12u4` → `2.6`: the key version-specific known differences are declared under. */
export function majorMinor(version: string): string {
  return /^(\d+\.\d+)/.exec(version)?.[1] ?? version;
}

export function haproxyVersion(bin: string): string {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  return /HAProxy version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

/** Whether this HAProxy knows a sample fetch (`haproxy -c` on a one-rule configuration). */
export function supportsFetch(bin: string, fetch: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-haproxy-check-'));
  try {
    const cfg = join(dir, 'check.cfg');
    writeFileSync(cfg, `defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:1\n  http-request set-header X-Check %[${fetch}]\n  default_backend b\nbackend b\n  server s 127.0.0.1:2\n`);
    const r = spawnSync(bin, ['-c', '-q', '-f', cfg], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface HaproxyTls {
  /** One PEM: server certificate + chain + key. */
  readonly serverPem: string;
  /** null = client certificates off (no ca-file). */
  readonly caFile: string | null;
  readonly verify?: 'optional' | 'required';
  /** crt-ignore-err / ca-ignore-err, e.g. "10,18" or "all". */
  readonly ignore?: string;
  readonly crlFile?: string;
}

export interface HaproxyRender {
  readonly httpsPort: number;
  readonly httpPort: number | null;
  readonly upstreamPort: number;
  readonly mode: Mode;
  readonly tls: HaproxyTls;
  /** Leave the X-SSL-Client-Root-CA-DN set rule out (HAProxy < 2.8 has no ssl_c_r_dn). */
  readonly withRootCaDn: boolean;
  /** Benchmarks: `nbthread 1` so HAProxy uses the one core it is pinned to. */
  readonly nbthread?: number;
  readonly maxconn?: number;
  /** Benchmarks: replace the docs/edge-behaviour.md §7.5 timeouts (e.g. `{ 'http-keep-alive': '120s' }`) so idle connections stay open. */
  readonly timeouts?: Readonly<Record<string, string>>;
  /** The template's `http-response set-header Strict-Transport-Security` line; none by default. */
  readonly hsts?: { readonly maxAge: number; readonly includeSubdomains: boolean; readonly preload: boolean };
}

/** docs/edge-behaviour.md §7.5, as HAProxy writes them. */
const SPEC_TIMEOUTS: Readonly<Record<TimeoutName, string>> = {
  connect: '5s',
  client: '30s',
  server: '30s',
  tunnel: '3600s',
  'http-keep-alive': '6s',
  'http-request': '5s',
};

/**
 * The haproxy.cfg of the Cloud Foundry template for one setting (docs/edge-behaviour.md §9) in its
 * ssl_pem form (one `crt` on the bind), HTTPS + plain-HTTP frontends to one upstream: rendered by
 * src/export/haproxyConfig.ts, the declaration `mtls-edge export haproxy` uses.
 */
export function renderHaproxyConfig(r: HaproxyRender): string {
  const clientCert = r.tls.caFile !== null;
  return renderHaproxyCfg({
    notes: [],
    bind: '127.0.0.1',
    httpsPort: r.httpsPort,
    httpPort: r.httpPort,
    tls: {
      crt: { kind: 'crt', file: r.tls.serverPem },
      strictSni: false,
      caFile: r.tls.caFile,
      verify: r.tls.verify ?? 'optional',
      crtIgnoreErr: r.tls.ignore,
      caIgnoreErr: r.tls.ignore,
      crlFile: r.tls.crlFile,
    },
    mode: r.mode,
    clientCert,
    legacyXfccHeaderMapping: false,
    withRootCaDn: r.withRootCaDn,
    disableDomainFronting: false,
    hsts: r.hsts ?? null,
    maxconn: r.maxconn ?? 4000,
    frontendMaxconn: {},
    timeouts: { ...SPEC_TIMEOUTS, ...r.timeouts },
    nbthread: r.nbthread,
    backends: [{ name: 'upstream', acls: [], server: `127.0.0.1:${r.upstreamPort}` }],
  });
}

/**
 * Runs the real CLI, `mtls-edge export haproxy --config FILE --out DIR --haproxy-version V`, on an
 * edge configuration (written as JSON, which is YAML) and returns the haproxy.cfg it wrote.
 */
export function exportHaproxy(workDir: string, label: string, version: string, edgeConfig: Readonly<Record<string, unknown>>): string {
  const dir = mkdtempSync(join(workDir, `export-${label.replace(/[^A-Za-z0-9.-]+/g, '_')}-`));
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(configFile, JSON.stringify(edgeConfig, null, 2));
  const out = join(dir, 'haproxy');
  const cli = join(repoRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd(), 'bin', 'mtls-edge.js');
  const r = spawnSync(process.execPath, [cli, 'export', 'haproxy', '--config', configFile, '--out', out, '--haproxy-version', version], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`mtls-edge export haproxy failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return readFileSync(join(out, 'haproxy.cfg'), 'utf8');
}

/** server cert + chain + key in one PEM file, as HAProxy's `crt` wants it. */
export function writeServerPem(dir: string, chainFile: string, keyFile: string): string {
  const chain = readFileSync(chainFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  const file = join(dir, 'server.pem');
  writeFileSync(file, `${chain.endsWith('\n') ? chain : `${chain}\n`}${key}`, { mode: 0o600 });
  return file;
}

export interface RunningHaproxy {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly configFile: string;
  /** stdout + stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections on 127.0.0.1:port (0.5 s at most). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

/** Every HAProxy started here, so a process exit or Ctrl-C still stops them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/**
 * Starts `haproxy -f cfg -db` (optionally under `taskset -c <cpu>`) and waits until `readyPort`
 * accepts connections (at most 10 s).
 */
export async function startHaproxy(bin: string, configText: string, readyPort: number, opts: { dir: string; cpu?: number } = { dir: tmpdir() }): Promise<RunningHaproxy> {
  installExitHook();
  const configFile = join(opts.dir, `haproxy-${readyPort}.cfg`);
  writeFileSync(configFile, configText);
  const args = ['-f', configFile, '-db'];
  const child = opts.cpu !== undefined ? spawn('taskset', ['-c', String(opts.cpu), bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  let exited = false;
  const exitedP = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    live.delete(child);
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exitedP;
    clearTimeout(t);
  };
  const deadline = Date.now() + 10_000;
  for (let i = 0; i < 400 && Date.now() < deadline; i++) {
    if (exited) throw new Error(`haproxy exited during start-up:\n${out}\n--- config ---\n${configText}`);
    if (await canConnect(readyPort)) return { child, pid: child.pid ?? -1, configFile, output: () => out, stop };
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new Error(`haproxy did not listen on ${readyPort} within 10 s:\n${out}`);
}

/** What startSideBySide closes when it stops: the upstream and the edge its caller starts. */
interface Closable {
  close(): Promise<void>;
}

/** One target a side-by-side comparison sends the same requests to: the edge or one HAProxy. */
export interface ComparedTarget {
  /** `mtls-edge`, or `HAProxy <version>`. */
  readonly name: string;
  /** The HAProxy version (`2.6.12-1+deb12u4`); null for the edge. */
  readonly version: string | null;
  readonly httpPort: number;
  readonly httpsPort: number;
}

interface SideBySideOptions<U, E> {
  /** The HAProxy binaries to run, in order (the parity files pass ignoreParity's haproxyBinaries()); none: the edge alone. */
  readonly bins: readonly string[];
  /** The dev PKI: HAProxy's crt is the server chain and key, its ca-file the root CA. */
  readonly pki: { readonly server: { readonly chain: string; readonly key: string }; readonly rootCa: { readonly cert: string } };
  /** mkdtemp prefix of the folder for server.pem and the haproxy.cfg files. */
  readonly workDirPrefix: string;
  readonly startUpstream: () => Promise<U>;
  /** The edge in front of the upstream on this port; `timeoutsYaml` is the `timeouts:` line to put in its configuration ('' without timeouts). */
  readonly startEdge: (upstreamPort: number, timeoutsYaml: string) => Promise<E>;
  /** What the template sets beyond its defaults, as the edge's configuration does. */
  readonly haproxy?: Pick<HaproxyRender, 'hsts'>;
  /**
   * Timeouts for both sides, in seconds under the edge's names: startEdge gets them as the
   * `timeouts:` line of its configuration, HAProxy as the template's `timeout` lines.
   */
  readonly timeouts?: SideTimeouts;
}

interface SideTimeouts {
  readonly client: number;
  readonly keep_alive: number;
  readonly request_headers: number;
  /** The edge's whole-request limit (HAProxy has none of its own: `timeout client` bounds the body). */
  readonly request?: number;
}

/** The edge's `timeouts:` configuration line for these timeouts, or '' for none. */
function edgeTimeoutsYaml(t: SideTimeouts | undefined): string {
  if (!t) return '';
  return `timeouts: { ${Object.entries(t).map(([k, v]) => `${k}: ${String(v)}`).join(', ')} }\n`;
}

function haproxyTimeouts(t: SideTimeouts | undefined): Pick<HaproxyRender, 'timeouts'> {
  return t ? { timeouts: { client: `${t.client}s`, 'http-keep-alive': `${t.keep_alive}s`, 'http-request': `${t.request_headers}s` } } : {};
}

export interface SideBySide<U, E> {
  readonly upstream: U;
  readonly edge: E;
  /** The edge first, then one HAProxy for each binary, in order. */
  readonly targets: readonly ComparedTarget[];
  /** Stops each HAProxy, the edge and the upstream, in that order, and removes the work folder: all of them even when one fails. */
  stop(): Promise<void>;
}

/**
 * The upstream, the edge in front of it and one HAProxy for each binary in front of it too, each
 * rendered from the Cloud Foundry template (sanitize_set, client certificates optional against the
 * root CA) on two free ports; logs the targets compared. A start-up that fails stops what it had
 * started before it throws.
 */
export async function startSideBySide<U extends Closable & { readonly port: number }, E extends Closable & { readonly httpPort: number; readonly httpsPort: number }>(
  opts: SideBySideOptions<U, E>,
): Promise<SideBySide<U, E>> {
  let upstream: U | undefined;
  let edge: E | undefined;
  const haproxies: RunningHaproxy[] = [];
  let dir = '';
  const stop = async (): Promise<void> => {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (e) {
        failures.push(e);
      }
    };
    for (const h of haproxies) await attempt(() => h.stop());
    for (const c of [edge, upstream]) if (c) await attempt(() => c.close());
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'stopping the side-by-side targets failed');
  };
  try {
    upstream = await opts.startUpstream();
    edge = await opts.startEdge(upstream.port, edgeTimeoutsYaml(opts.timeouts));
    const targets: ComparedTarget[] = [{ name: 'mtls-edge', version: null, httpPort: edge.httpPort, httpsPort: edge.httpsPort }];
    dir = mkdtempSync(join(tmpdir(), opts.workDirPrefix));
    const serverPem = writeServerPem(dir, opts.pki.server.chain, opts.pki.server.key);
    for (const bin of opts.bins) {
      const [httpPort, httpsPort] = [await freePort(), await freePort()];
      const cfg = renderHaproxyConfig({
        httpsPort, httpPort, upstreamPort: upstream.port, mode: 'sanitize_set', tls: { serverPem, caFile: opts.pki.rootCa.cert }, withRootCaDn: supportsFetch(bin, 'ssl_c_r_dn'), ...opts.haproxy, ...haproxyTimeouts(opts.timeouts),
      });
      haproxies.push(await startHaproxy(bin, cfg, httpsPort, { dir }));
      const version = haproxyVersion(bin);
      targets.push({ name: `HAProxy ${version}`, version, httpPort, httpsPort });
    }
    console.log(`    compared: ${targets.map((t) => t.name).join(', ')}${targets.length === 1 ? ' (no HAProxy found: the edge against the table only)' : ''}`);
    return { upstream, edge, targets, stop };
  } catch (e) {
    // The start-up's failure is the one to report; stopping is only the clean-up.
    await stop().catch(() => undefined);
    throw e;
  }
}
