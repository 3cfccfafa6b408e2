// Benchmarks: mtls-edge next to real HAProxy (the Cloud Foundry template's rules,
// docs/edge-behaviour.md §9) and nginx in the same role, and the bare-Node floor, in one run, with
// one PKI and one load generator (ab, presenting a client certificate). Prints everything it
// measures and rewrites the results table of docs/performance.md (between its two markers).
//
// Options: USAGE below (`npm run bench -- --help`).
//
// Layout on a 2-core machine: the proxy under test is pinned to CPU 0 (`taskset -c 0`), the load
// generator, the echo upstream and the idle-connection client to CPU 1. Only 127.0.0.1 is used.
import http from 'node:http';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { freePort, findHaproxy, haproxyVersion, renderHaproxyConfig, supportsFetch } from '../test/parity/haproxy.js';
import { makeBenchPki, type BenchPki } from './benchPki.js';
import { ab, HAVE_AB, type AbResult } from './ab.js';
import { childPids, HAVE_TASKSET, idleRssReadings, killAll, processTicks, rssMiB, run, start, startEchoUpstream, TICK_US, waitForOutput, waitForPort } from './procs.js';
import { summariseCpuProfile } from './cpuProfile.js';
import { AREAS, havePerf, perfRecord, samplesByArea, splitPerHandshake, type Area } from './nativeSplit.js';
import { median, pairedRound } from './pairing.js';
import { edgeBenchConfig, startNodeTarget } from './nodeTargets.js';
import { benchScript, REPO } from './paths.js';
import { helpAndExit } from './args.js';

// ------------------------------------------------------------------------------------------ options
const TARGET_NAMES = ['direct', 'haproxy', 'edge', 'node-floor', 'edge-log', 'edge-observe', 'nginx', 'tls-floor'];
const USAGE = `npm run bench -- [--baseline DIR] [--quick] [--duration S] [--growth-requests N] [--idle N] [--rounds N]
    [--only ${TARGET_NAMES.join(',')}] [--no-rounds] [--no-perf] [--no-profile] [--no-doc] [--no-certs-init] [--no-startup]
--baseline DIR: a built checkout of the previous main, paired with this one (the "÷ previous main" rows)
--quick: ~3 s per figure and 30k requests for RSS growth (checks the harness; figures not for the docs)
--no-doc: print only, leave docs/performance.md as it is
Env: BENCH_DURATION, BENCH_GROWTH_REQUESTS, BENCH_IDLE, BENCH_ROUNDS, BENCH_QUICK=1`;
helpAndExit(USAGE);
const SWITCHES = ['quick', 'no-rounds', 'no-perf', 'no-profile', 'no-doc', 'no-certs-init', 'no-startup'] as const;
const VALUES = ['baseline', 'duration', 'growth-requests', 'idle', 'rounds', 'only'] as const;
/** A full run takes many minutes: a mistyped option must stop it before it starts, not be ignored. */
function parseOptions(): Record<string, string | boolean | undefined> {
  try {
    const spec: ParseArgsConfig['options'] = {};
    for (const n of SWITCHES) spec[n] = { type: 'boolean' };
    for (const n of VALUES) spec[n] = { type: 'string' };
    // No option is `multiple`, so every value is a string or a boolean.
    const values = parseArgs({ args: process.argv.slice(2), strict: true, options: spec }).values as Record<string, string | boolean | undefined>;
    const only = values['only'];
    const unknownTarget = typeof only === 'string' ? only.split(',').find((t) => !TARGET_NAMES.includes(t)) : undefined;
    if (unknownTarget !== undefined) throw new Error(`--only: unknown target "${unknownTarget}"`);
    return values;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}
const options = parseOptions();
const flag = (name: (typeof VALUES)[number]): string | undefined => options[name] as string | undefined;
const has = (name: (typeof SWITCHES)[number]): boolean => options[name] === true;
const QUICK = has('quick') || process.env.BENCH_QUICK === '1';
const clampInt = (v: string | undefined, def: number, min: number, max: number): number => {
  const n = Number(v);
  return Number.isFinite(n) && v !== undefined && v !== '' ? Math.max(min, Math.min(max, Math.round(n))) : def;
};
const DURATION = clampInt(flag('duration') ?? process.env.BENCH_DURATION, QUICK ? 3 : 10, 1, 300);
const GROWTH_REQUESTS = clampInt(flag('growth-requests') ?? process.env.BENCH_GROWTH_REQUESTS, QUICK ? 30_000 : 200_000, 1000, 5_000_000);
const GROWTH_WARMUP = QUICK ? 5_000 : 20_000;
// New connections before a handshake figure is taken, for every target alike. A Node process
// compiles its connection path (TLS socket set-up, the HTTP server's per-connection code, the
// upstream request) with TurboFan during its first few thousand connections (seen with
// `--trace-opt`). A long-running edge runs warm; HAProxy has nothing to warm.
const HANDSHAKE_WARMUP_S = QUICK ? 2 : 8;
const IDLE = clampInt(flag('idle') ?? process.env.BENCH_IDLE, 1000, 10, 10_000);
const CONCURRENCY = 50;
const PROXY_CPU = 0;
const LOAD_CPU = cpus().length > 1 ? 1 : 0;
const ONLY = flag('only')?.split(',');
const wanted = (name: string): boolean => !ONLY || ONLY.includes(name);

// Goals from the issues; the memory goal is relative to the bare-Node floor measured in the same run.
const TARGETS = { keepAliveRatio: 0.6, handshakeRatio: 0.9, p99Ratio: 2, idleRssVsFloor: 1.5, growthPercent: 5 };
const BASELINE = flag('baseline');

// Bench-only timeouts, the same for every proxy: the 5 s request / 6 s keep-alive timeouts of docs/edge-behaviour.md §7.5
// would close the idle connections before their RSS is read.
const LONG_TIMEOUT_S = 120;

// ------------------------------------------------------------------------------------------ targets
interface Running {
  readonly port: number;
  readonly scheme: 'https' | 'http';
  pids(): number[];
  stop(): Promise<void>;
  readonly command: string;
}

interface TargetDef {
  readonly name: string;
  readonly label: string;
  readonly tls: boolean;
  start(pki: BenchPki, echoPort: number, opts?: { cpuProfDir?: string }): Promise<Running>;
}

const repo = REPO;
const work = mkdtempSync(join(tmpdir(), 'mtls-edge-bench-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

function edgeTarget(name: string, label: string, observe: 'off' | 'access-log' | 'access-log+admin'): TargetDef {
  return {
    name,
    label,
    tls: true,
    async start(pki, echoPort, opts = {}) {
      const port = await freePort();
      const adminPort = observe === 'access-log+admin' ? await freePort() : null;
      const cfg = join(work, `${name}-${pki.keyType}.yaml`);
      writeFileSync(cfg, edgeBenchConfig({ port, pki, echoPort, timeoutSeconds: LONG_TIMEOUT_S, log: observe !== 'off', adminPort }));
      const nodeArgs = [...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []), join(repo, 'bin/mtls-edge.js'), 'start', '--config', cfg];
      // Log and access log go to /dev/null: their formatting and write cost is measured, not a reader's.
      const devnull = openSync('/dev/null', 'w');
      const p = start(process.execPath, nodeArgs, { cpu: PROXY_CPU, stdio: ['ignore', devnull, 'pipe'] });
      closeSync(devnull);
      await waitForPort(port, p);
      let sse: http.ClientRequest | null = null;
      if (adminPort) {
        // A flow page open in a browser: one client on the admin event stream, drained.
        await waitForPort(adminPort, p);
        sse = http.get({ host: '127.0.0.1', port: adminPort, path: '/events', agent: false }, (res) => res.resume());
        sse.on('error', () => undefined);
      }
      return {
        port,
        scheme: 'https',
        pids: () => [p.pid],
        command: `taskset -c ${PROXY_CPU} node ${nodeArgs.slice(0, -2).map((a) => a.replace(repo + '/', '')).join(' ')} --config <${name}.yaml>`,
        async stop() {
          sse?.destroy();
          await p.stop(15_000);
        },
      };
    },
  };
}

/** A Node reference script of the bench on the proxy core, with Node's default flags (as the edge). */
function nodeScriptTarget(name: string, label: string, script: string, args: (pki: BenchPki, echoPort: number) => string[]): TargetDef {
  return {
    name,
    label,
    tls: true,
    async start(pki, echoPort) {
      const port = await freePort();
      const p = start(process.execPath, [benchScript(script), String(port), ...args(pki, echoPort)], { cpu: PROXY_CPU });
      await waitForPort(port, p);
      return { port, scheme: 'https', pids: () => [p.pid], command: `taskset -c ${PROXY_CPU} node dist-bench/bench/${script} …`, stop: async () => void (await p.stop()) };
    },
  };
}

const nodeFloorTarget = nodeScriptTarget('node-floor', 'Node floor: bare node:https + undici forward + ten constant headers (no edge logic)', 'nodeFloor.js',
  (pki, echoPort) => [pki.serverChain, pki.serverKey, pki.rootCert, String(echoPort), pki.clientChain]);
const tlsFloorTarget = nodeScriptTarget('tls-floor', 'bare node:tls, fixed response (no HTTP server, no upstream; not a proxy)', 'tlsFloor.js',
  (pki) => [pki.serverChain, pki.serverKey, pki.rootCert]);

const haproxyBin = findHaproxy();
const haproxyTarget: TargetDef = {
  name: 'haproxy',
  label: `HAProxy ${haproxyBin ? haproxyVersion(haproxyBin) : ''}`.trim(),
  tls: true,
  async start(pki, echoPort) {
    const port = await freePort();
    const cfgText = renderHaproxyConfig({
      httpsPort: port,
      httpPort: null,
      upstreamPort: echoPort,
      mode: 'sanitize_set',
      tls: { serverPem: pki.serverPem, caFile: pki.rootCert, verify: 'optional' },
      withRootCaDn: supportsFetch(haproxyBin!, 'ssl_c_r_dn'),
      nbthread: 1,
      maxconn: 8_000,
      timeouts: { client: `${LONG_TIMEOUT_S}s`, 'http-keep-alive': `${LONG_TIMEOUT_S}s`, 'http-request': `${LONG_TIMEOUT_S}s` },
    });
    const cfg = join(work, `haproxy-${pki.keyType}.cfg`);
    writeFileSync(cfg, cfgText);
    const p = start(haproxyBin!, ['-f', cfg, '-db'], { cpu: PROXY_CPU });
    await waitForPort(port, p);
    return { port, scheme: 'https', pids: () => [p.pid], command: `taskset -c ${PROXY_CPU} haproxy -f <haproxy.cfg> -db`, stop: async () => void (await p.stop()) };
  },
};

const nginxBin = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? null;
const nginxTarget: TargetDef = {
  name: 'nginx',
  label: `nginx ${nginxBin ? (/nginx\/(\S+)/.exec(spawnSync(nginxBin, ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? '') : ''}`.trim(),
  tls: true,
  async start(pki, echoPort) {
    const port = await freePort();
    const dir = join(work, `nginx-${pki.keyType}`);
    mkdirSync(dir, { recursive: true });
    // Same role: verify optional against the root, the H10-equivalent variables as headers, a new
    // upstream connection per request (like HAProxy's `option http-server-close`), no session tickets.
    const conf = `
worker_processes 1;
daemon off;
user root;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 8000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_timeout ${LONG_TIMEOUT_S}s; client_header_timeout ${LONG_TIMEOUT_S}s; keepalive_requests 100000000;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.serverChain};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.rootCert};
    ssl_verify_client optional;
    ssl_verify_depth 3;
    ssl_session_tickets off;
    location / {
      proxy_pass http://127.0.0.1:${echoPort};
      proxy_set_header X-Forwarded-Client-Cert $ssl_client_escaped_cert;
      proxy_set_header X-SSL-Client $ssl_client_verify;
      proxy_set_header X-SSL-Client-Session-ID $ssl_session_id;
      proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
      proxy_set_header X-SSL-Client-NotBefore $ssl_client_v_start;
      proxy_set_header X-SSL-Client-NotAfter $ssl_client_v_end;
      proxy_set_header X-SSL-Client-Subject-DN $ssl_client_s_dn;
      proxy_set_header X-SSL-Client-Issuer-DN $ssl_client_i_dn;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
    const cfg = join(dir, 'nginx.conf');
    writeFileSync(cfg, conf);
    const p = start(nginxBin!, ['-c', cfg, '-p', dir], { cpu: PROXY_CPU });
    await waitForPort(port, p);
    return {
      port,
      scheme: 'https',
      // master + worker (the worker inherits the CPU pinning)
      pids: () => [p.pid, ...childPids(p.pid)],
      command: `taskset -c ${PROXY_CPU} nginx -c <nginx.conf> (worker_processes 1)`,
      stop: async () => void (await p.stop()),
    };
  },
};

// ------------------------------------------------------------------------------------------ measurements
interface Figures {
  keepAlive?: Load;
  hsP256?: Load;
  hsRsa?: Load;
  rssStart?: number;
  /** Settled (IDLE_SETTLE_MS after the connections are up); rssIdle1s one second after. */
  rssIdle?: number;
  rssIdle1s?: number;
  idleOpen?: number;
  idleFailed?: number;
  growthBefore?: number;
  growthAfter?: number;
  notes: string[];
}

const url = (r: Running): string => `${r.scheme}://127.0.0.1:${r.port}/`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Per-CPU busy jiffies and totals from /proc/stat. */
function cpuTimes(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      const idle = (v[3] ?? 0) + (v[4] ?? 0);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    });
}

export interface Load extends AbResult {
  /** Busy % of each CPU during the run (proxy core first). */
  readonly cpuBusy: number[];
  /**
   * The proxy's own CPU time (user + system, all its processes) per completed request, in µs. Unlike
   * req/s it does not depend on whether the load generator's core saturated first, so it is the
   * figure the cost comparisons use.
   */
  readonly cpuUsPerRequest: number;
}


async function load(r: Running, pki: BenchPki | null, o: { keepAlive: boolean; seconds?: number; requests?: number }): Promise<Load> {
  const before = cpuTimes();
  const ticksBefore = processTicks(r.pids());
  const res0 = await ab({ url: url(r), concurrency: CONCURRENCY, keepAlive: o.keepAlive, seconds: o.seconds, requests: o.requests, clientPem: r.scheme === 'https' ? pki?.clientPem : undefined, cpu: LOAD_CPU });
  const after = cpuTimes();
  const cpuUsPerRequest = ((processTicks(r.pids()) - ticksBefore) * TICK_US) / Math.max(1, res0.complete);
  const res: Load = { ...res0, cpuUsPerRequest, cpuBusy: after.map((a, i) => Math.round((100 * (a.busy - (before[i]?.busy ?? 0))) / Math.max(1, a.total - (before[i]?.total ?? 0)))) };
  return res;
}

async function idleRss(r: Running, pki: BenchPki, f: Figures): Promise<void> {
  const p = start(process.execPath, [benchScript('idleClients.js'), String(r.port), String(IDLE), pki.clientChain, pki.clientKey], { cpu: LOAD_CPU });
  try {
    const m = await waitForOutput(p, /open (\d+) failed (\d+)/, 180_000);
    f.idleOpen = Number(m[1]);
    f.idleFailed = Number(m[2]);
    const rss = await idleRssReadings(() => r.pids());
    f.rssIdle = rss.settled;
    f.rssIdle1s = rss.at1s;
  } finally {
    await p.stop();
  }
}

const ROUNDS = clampInt(flag('rounds') ?? process.env.BENCH_ROUNDS, QUICK ? 2 : 5, 1, 50);

type CpuKind = 'keepAlive' | 'hsP256' | 'hsRsa';

export interface Interleaved {
  readonly keepAlive: Load[];
  readonly hsP256: Load[];
  readonly hsRsa: Load[];
}

/** Observability cost as the ratio "with ÷ without", measured paired (bench/pairing.ts). */
interface PairedCosts {
  readonly logKeepAlive: number[];
  readonly observeKeepAlive: number[];
  readonly observeHandshake: number[];
}

/**
 * The cost of observability compares the edge with itself, so it is measured paired: both builds on
 * the proxy core at the same time, loaded together. Sequential rounds scattered by more than the
 * 10 % being checked on this VM. Each comparison gets a fresh pair with nothing else running, as in
 * bench/paired.ts (whose A/A check reads 1.00): a third edge on the same core, and handshake rounds
 * between the keep-alive rounds, had inflated the ratios by several percent. Each round
 * warms both together and loads both for the same seconds (bench/pairing.ts says why).
 */
async function pairedObservability(edgeDef: TargetDef, logDef: TargetDef, observeDef: TargetDef, pki: BenchPki, echoPort: number): Promise<PairedCosts> {
  const out: PairedCosts = { logKeepAlive: [], observeKeepAlive: [], observeHandshake: [] };
  const seconds = QUICK ? 4 : 10;
  const opts = { clientPem: pki.clientPem, loadCpu: LOAD_CPU };
  const freshPair = async (aDef: TargetDef, keepAlive: boolean): Promise<number> => {
    const running: Running[] = [];
    try {
      const a = await aDef.start(pki, echoPort);
      running.push(a);
      const b = await edgeDef.start(pki, echoPort);
      running.push(b);
      const r = await pairedRound(a, b, { ...opts, keepAlive, seconds });
      return r.usA / r.usB;
    } finally {
      for (const r of running) await r.stop();
    }
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const l = await freshPair(logDef, true);
    const o = await freshPair(observeDef, true);
    const h = await freshPair(observeDef, false);
    out.logKeepAlive.push(l);
    out.observeKeepAlive.push(o);
    out.observeHandshake.push(h);
    process.stdout.write(`   round ${round}/${ROUNDS}: access log ×${l.toFixed(3)} per request; log + page ×${o.toFixed(3)} per request, ×${h.toFixed(3)} per handshake\n`);
  }
  return out;
}

/**
 * The comparisons that decide the targets, measured in interleaved rounds: every target runs at
 * once (idle ones cost nothing), and each round loads them one after another. On a shared VM the
 * speed of the CPU drifts by tens of percent over minutes; interleaving puts that drift into every
 * target alike, and the median of the rounds drops the outliers.
 */
async function interleaved(defs: readonly TargetDef[], p256: BenchPki, rsa: BenchPki, echoPort: number, seconds: number): Promise<Map<string, Interleaved>> {
  const out = new Map<string, Interleaved>();
  // Each target runs twice, once per PKI: a server certificate is a process's configuration.
  // `stops` takes every process as it starts, so one that fails to start still stops the others.
  const running: { def: TargetDef; r: Running; rRsa: Running }[] = [];
  const stops: Running[] = [];
  try {
    for (const def of defs) {
      const r = await def.start(p256, echoPort);
      stops.push(r);
      const rRsa = await def.start(rsa, echoPort);
      stops.push(rRsa);
      running.push({ def, r, rRsa });
    }
    for (const { def, r, rRsa } of running) {
      out.set(def.name, { keepAlive: [], hsP256: [], hsRsa: [] });
      await load(r, p256, { keepAlive: true, seconds: 1 }); // warm-up
      await load(r, p256, { keepAlive: false, seconds: HANDSHAKE_WARMUP_S });
      await load(rRsa, rsa, { keepAlive: false, seconds: HANDSHAKE_WARMUP_S });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`   round ${round}/${ROUNDS}:`);
      for (const { def, r, rRsa } of running) {
        const ka = await load(r, p256, { keepAlive: true, seconds });
        const hs = await load(r, p256, { keepAlive: false, seconds });
        const hsRsa = await load(rRsa, rsa, { keepAlive: false, seconds });
        out.get(def.name)!.keepAlive.push(ka);
        out.get(def.name)!.hsP256.push(hs);
        out.get(def.name)!.hsRsa.push(hsRsa);
        process.stdout.write(` ${def.name} ${ka.cpuUsPerRequest.toFixed(0)} µs/req ${(hs.cpuUsPerRequest / 1000).toFixed(2)} ms/hs P-256 ${(hsRsa.cpuUsPerRequest / 1000).toFixed(2)} ms/hs RSA;`);
      }
      process.stdout.write('\n');
    }
  } finally {
    for (const r of stops) await r.stop();
  }
  return out;
}

async function measure(def: TargetDef, p256: BenchPki, rsa: BenchPki, echoPort: number, variant: 'full' | 'throughput'): Promise<Figures> {
  const f: Figures = { notes: [] };
  process.stdout.write(`\n== ${def.label}\n`);
  if (!def.tls) {
    const r = await def.start(p256, echoPort);
    try {
      await load(r, null, { keepAlive: true, seconds: 1 });
      f.keepAlive = await load(r, null, { keepAlive: true, seconds: DURATION });
      process.stdout.write(`   keep-alive ${f.keepAlive.rps.toFixed(0)} req/s p50 ${f.keepAlive.p50} ms p99 ${f.keepAlive.p99} ms CPU busy ${f.keepAlive.cpuBusy.join('/')}%, proxy ${f.keepAlive.cpuUsPerRequest.toFixed(0)} µs CPU/request\n`);
    } finally {
      await r.stop();
    }
    return f;
  }
  // Fresh process: RSS at start and with IDLE idle mTLS connections (P-256).
  let r = await def.start(p256, echoPort);
  try {
    await sleep(300);
    f.rssStart = rssMiB(r.pids());
    if (variant === 'full') {
      await idleRss(r, p256, f);
      process.stdout.write(`   RSS ${f.rssStart.toFixed(1)} MiB at start, ${f.rssIdle1s?.toFixed(1)} MiB 1 s after ${f.idleOpen} idle mTLS connections are up (${f.idleFailed} failed), ${f.rssIdle?.toFixed(1)} MiB settled\n`);
    }
    await load(r, p256, { keepAlive: true, seconds: Math.min(2, DURATION) });
    f.keepAlive = await load(r, p256, { keepAlive: true, seconds: DURATION });
    process.stdout.write(`   keep-alive ${f.keepAlive.rps.toFixed(0)} req/s p50 ${f.keepAlive.p50} ms p99 ${f.keepAlive.p99} ms (failed ${f.keepAlive.failed}, non-2xx ${f.keepAlive.non2xx}) CPU busy ${f.keepAlive.cpuBusy.join('/')}%, proxy ${f.keepAlive.cpuUsPerRequest.toFixed(0)} µs CPU/request\n`);
    await load(r, p256, { keepAlive: false, seconds: HANDSHAKE_WARMUP_S });
    f.hsP256 = await load(r, p256, { keepAlive: false, seconds: DURATION });
    process.stdout.write(`   handshakes P-256 ${f.hsP256.rps.toFixed(0)}/s (failed ${f.hsP256.failed}, non-2xx ${f.hsP256.non2xx}) CPU busy ${f.hsP256.cpuBusy.join('/')}%, proxy ${(f.hsP256.cpuUsPerRequest / 1000).toFixed(2)} ms CPU/handshake\n`);
    if (variant === 'full') {
      await load(r, p256, { keepAlive: true, requests: GROWTH_WARMUP });
      await sleep(500);
      f.growthBefore = rssMiB(r.pids());
      const g = await load(r, p256, { keepAlive: true, requests: GROWTH_REQUESTS });
      await sleep(500);
      f.growthAfter = rssMiB(r.pids());
      if (g.failed || g.non2xx) f.notes.push(`growth run: ${g.failed} failed, ${g.non2xx} non-2xx`);
      process.stdout.write(`   RSS ${f.growthBefore.toFixed(1)} → ${f.growthAfter.toFixed(1)} MiB over ${GROWTH_REQUESTS} requests\n`);
    }
  } finally {
    await r.stop();
  }
  if (variant === 'full') {
    r = await def.start(rsa, echoPort);
    try {
      await load(r, rsa, { keepAlive: false, seconds: HANDSHAKE_WARMUP_S });
      f.hsRsa = await load(r, rsa, { keepAlive: false, seconds: DURATION });
      process.stdout.write(`   handshakes RSA-2048 ${f.hsRsa.rps.toFixed(0)}/s (failed ${f.hsRsa.failed}) CPU busy ${f.hsRsa.cpuBusy.join('/')}%, proxy ${(f.hsRsa.cpuUsPerRequest / 1000).toFixed(2)} ms CPU/handshake\n`);
    } finally {
      await r.stop();
    }
  }
  return f;
}

const RESULTS_START = '<!-- results: written by bench/run.ts -->';
const RESULTS_END = '<!-- end of results -->';

/** Replaces what lies between the two markers of `file` with `text`; the rest of the page is hand-written. */
function writeResults(file: string, text: string): void {
  const page = readFileSync(file, 'utf8');
  const start = page.indexOf(RESULTS_START);
  const end = page.indexOf(RESULTS_END);
  if (start < 0 || end < start) throw new Error(`${file}: the markers ${RESULTS_START} and ${RESULTS_END} are missing; put them back around the results table`);
  writeFileSync(file, `${page.slice(0, start + RESULTS_START.length)}\n${text}\n${page.slice(end)}`);
  process.stdout.write(`\nwrote the results table of ${file}\n`);
}

interface VsBaseline {
  /** mtls-edge's CPU ÷ the baseline's, per round. */
  readonly keepAlive: number[];
  readonly handshake: number[];
}

/** This checkout's edge and the one built in `dir`, paired (bench/pairing.ts), a fresh pair per round and kind. */
async function pairedVsBaseline(dir: string, pki: BenchPki, echoPort: number): Promise<VsBaseline> {
  const out: VsBaseline = { keepAlive: [], handshake: [] };
  const seconds = QUICK ? 4 : 10;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const keepAlive of [true, false]) {
      const a = await startNodeTarget('edge', pki, echoPort, { cpu: PROXY_CPU, work });
      const b = await startNodeTarget(`edge@${dir}`, pki, echoPort, { cpu: PROXY_CPU, work }).catch(async (err: unknown) => {
        await a.stop();
        throw err;
      });
      try {
        const r = await pairedRound({ port: a.port, pids: () => [a.pid] }, { port: b.port, pids: () => [b.pid] }, { keepAlive, seconds, clientPem: pki.clientPem, loadCpu: LOAD_CPU });
        (keepAlive ? out.keepAlive : out.handshake).push(r.usA / r.usB);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    }
    process.stdout.write(`   round ${round}/${ROUNDS}: ×${out.keepAlive.at(-1)!.toFixed(3)} per keep-alive request, ×${out.handshake.at(-1)!.toFixed(3)} per handshake\n`);
  }
  return out;
}

interface HandshakeSplit {
  readonly def: TargetDef;
  readonly cpuMs: number;
  readonly us: Map<Area, number>;
}

/**
 * Each target alone on the proxy core, warmed up, then sampled by perf while ab opens connections:
 * CPU per handshake split into OpenSSL, C library, kernel and the proxy's own code
 * (bench/nativeSplit.ts). Shows which part of a gap to HAProxy is Node's runtime and which is TLS.
 */
async function handshakeSplit(defs: readonly TargetDef[], pki: BenchPki, echoPort: number): Promise<HandshakeSplit[]> {
  const out: HandshakeSplit[] = [];
  for (const def of defs) {
    const r = await def.start(pki, echoPort);
    try {
      await load(r, pki, { keepAlive: false, seconds: HANDSHAKE_WARMUP_S });
      const file = join(work, `perf-${def.name}.data`);
      const seconds = Math.max(3, DURATION);
      const loaded = load(r, pki, { keepAlive: false, seconds });
      await sleep(1000);
      await perfRecord(r.pids()[0]!, seconds - 2, file);
      const l = await loaded;
      const split = { def, cpuMs: l.cpuUsPerRequest / 1000, us: splitPerHandshake(samplesByArea(file), l.cpuUsPerRequest / 1000) };
      out.push(split);
      process.stdout.write(`   ${def.name}: ${split.cpuMs.toFixed(2)} ms/handshake = ${AREAS.map((a) => `${a} ${split.us.get(a)!.toFixed(0)} µs`).join(', ')}\n`);
      rmSync(file, { force: true });
    } finally {
      await r.stop();
    }
  }
  return out;
}

async function profileEdge(def: TargetDef, pki: BenchPki, echoPort: number, kind: 'keep-alive' | 'handshakes'): Promise<{ file: string; summary: ReturnType<typeof summariseCpuProfile> } | null> {
  const dir = join(work, `prof-${def.name}-${kind}`);
  mkdirSync(dir, { recursive: true });
  const r = await def.start(pki, echoPort, { cpuProfDir: dir });
  try {
    // At least 8 s of load so the start-up (module compilation) is a small part of the samples.
    await load(r, pki, { keepAlive: kind === 'keep-alive', seconds: Math.max(8, DURATION) });
  } finally {
    await r.stop(); // SIGTERM → graceful exit → the profile is written
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return null;
  const src = join(dir, file);
  return { file: src, summary: summariseCpuProfile(src, 15) };
}

/** Self time grouped by where the code lives (src/…, node_modules/<pkg>, node:internal/…, native). */
function byArea(frames: { frame: string; selfMs: number }[], totalMs: number): string[] {
  const areas = new Map<string, number>();
  for (const f of frames) {
    const where = f.frame.startsWith('(') ? '' : f.frame.split(' ').slice(1).join(' ');
    const area = f.frame.startsWith('(') ? f.frame : !where ? 'native (V8 builtins/bindings)' : where.startsWith('src/') ? where.split(':')[0]! : where.startsWith('node_modules/') ? where.split('/').slice(0, 2).join('/') : where.startsWith('node:') ? where.split(':').slice(0, 2).join(':').replace(/\/[^/]+$/, '') : where.split(':')[0]!;
    areas.set(area, (areas.get(area) ?? 0) + f.selfMs);
  }
  return [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([a, ms]) => `${((100 * ms) / totalMs).toFixed(1)}% ${a}`);
}

// ------------------------------------------------------------------------------------------ main
async function main(): Promise<void> {
  if (!HAVE_AB) throw new Error('`ab` (Debian apache2-utils) is required: apt-get install -y apache2-utils');
  if (!haproxyBin) throw new Error('`haproxy` is required for the ratios: apt-get install -y haproxy');
  if (!existsSync(join(repo, 'dist/src/cli/main.js'))) throw new Error('the edge is not built: `npm run bench` builds it first');
  process.stdout.write(`mtls-edge benchmarks (${QUICK ? 'quick' : 'full'}): ${DURATION} s per figure, ${CONCURRENCY} connections, RSS growth over ${GROWTH_REQUESTS} requests, ${IDLE} idle connections\n`);
  process.stdout.write(`CPUs: ${cpus().length} (${cpus()[0]?.model ?? '?'}); proxy on CPU ${PROXY_CPU}, load generator + echo on CPU ${LOAD_CPU}${HAVE_TASKSET ? '' : ' (taskset missing: NOT pinned)'}\n`);
  const [p256, rsa] = await Promise.all([makeBenchPki(join(work, 'pki-p256'), 'ec-p256'), makeBenchPki(join(work, 'pki-rsa'), 'rsa2048')]);

  const { port: echoPort, proc: echo } = await startEchoUpstream(LOAD_CPU);

  const results = new Map<string, { def: TargetDef; f: Figures }>();
  const skipped: string[] = [];
  const direct: TargetDef = {
    name: 'direct',
    label: 'direct to the echo upstream (plain HTTP, no proxy)',
    tls: false,
    start: async () => ({ port: echoPort, scheme: 'http', pids: () => [echo.pid], command: 'echo upstream', stop: async () => undefined }),
  };
  const edge = edgeTarget('edge', 'mtls-edge (access log off, no admin)', 'off');
  const edgeLog = edgeTarget('edge-log', 'mtls-edge + access log (cpi), no admin', 'access-log');
  const edgeObserve = edgeTarget('edge-observe', 'mtls-edge + access log (cpi) + admin with flow page open', 'access-log+admin');
  try {
    if (wanted('direct')) results.set('direct', { def: direct, f: await measure(direct, p256, rsa, echoPort, 'full') });
    if (wanted('haproxy')) results.set('haproxy', { def: haproxyTarget, f: await measure(haproxyTarget, p256, rsa, echoPort, 'full') });
    if (wanted('edge')) results.set('edge', { def: edge, f: await measure(edge, p256, rsa, echoPort, 'full') });
    if (wanted('node-floor')) results.set('node-floor', { def: nodeFloorTarget, f: await measure(nodeFloorTarget, p256, rsa, echoPort, 'full') });
    if (wanted('edge-log')) results.set('edge-log', { def: edgeLog, f: await measure(edgeLog, p256, rsa, echoPort, 'throughput') });
    if (wanted('edge-observe')) results.set('edge-observe', { def: edgeObserve, f: await measure(edgeObserve, p256, rsa, echoPort, 'throughput') });
    if (wanted('nginx')) {
      if (nginxBin) results.set('nginx', { def: nginxTarget, f: await measure(nginxTarget, p256, rsa, echoPort, 'full') });
      else skipped.push('nginx: not installed (optional; `apt-get install -y nginx`)');
    }
    // With all three edge variants wanted, observability is measured paired below, so the
    // interleaved rounds leave its two variants out.
    const pairedObservabilityWanted = !has('no-rounds') && [edge, edgeLog, edgeObserve].every((d) => wanted(d.name));
    const interDefs = [haproxyTarget, edge, nodeFloorTarget, tlsFloorTarget, ...(pairedObservabilityWanted ? [] : [edgeLog, edgeObserve])].filter((d) => wanted(d.name) && (d !== haproxyTarget || haproxyBin));
    let inter = new Map<string, Interleaved>();
    if (!has('no-rounds') && interDefs.length > 1) {
      process.stdout.write(`\n== interleaved rounds (P-256 keep-alive and handshakes, RSA-2048 handshakes; ${ROUNDS} × ${Math.min(5, DURATION)} s per figure and target)\n`);
      inter = await interleaved(interDefs, p256, rsa, echoPort, Math.min(5, DURATION));
    }
    let paired: PairedCosts | null = null;
    if (pairedObservabilityWanted) {
      process.stdout.write(`\n== observability cost, paired (${ROUNDS} rounds: the edge with and without, on the proxy core at the same time, a fresh pair for each comparison)\n`);
      paired = await pairedObservability(edge, edgeLog, edgeObserve, p256, echoPort);
    }
    if (!has('no-perf') && havePerf()) {
      process.stdout.write('\n== where a handshake\'s CPU goes (perf record, each target alone, warmed up)\n');
      await handshakeSplit([haproxyTarget, edge, nodeFloorTarget, tlsFloorTarget].filter((d) => wanted(d.name)), p256, echoPort);
    } else if (!has('no-perf')) skipped.push('the perf split of handshake CPU: `perf` cannot sample here (optional; Debian linux-perf)');
    /** Median CPU µs per request (or handshake) over the interleaved rounds; the single run otherwise. */
    const cpuOf = (name: string, kind: CpuKind): number | undefined => {
      const rounds = inter.get(name)?.[kind];
      if (rounds && rounds.length) return median(rounds.map((l) => l.cpuUsPerRequest));
      return results.get(name)?.f[kind]?.cpuUsPerRequest;
    };

    // ------------------------------------------------------------------ table
    const hp = results.get('haproxy')?.f;
    const ratio = (v: number | undefined, base: number | undefined, digits = 2): string => (v !== undefined && base ? `${(v / base).toFixed(digits)}×` : '—');
    const fmt = (v: number | undefined, d = 0): string => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
    const growth = (f: Figures): number | undefined => (f.growthBefore && f.growthAfter ? (100 * (f.growthAfter - f.growthBefore)) / f.growthBefore : undefined);
    const header = '| target | keep-alive req/s | p50 ms | p99 ms | handshakes/s P-256 | handshakes/s RSA-2048 | RSS start MiB | RSS 1,000 idle mTLS MiB: 1 s after / settled | RSS growth |';
    const rows: string[] = [header, '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
    for (const { def, f } of results.values()) {
      const isHp = def.name === 'haproxy';
      const rel = (v: number | undefined, base: number | undefined): string => (isHp || !base || v === undefined ? '' : ` (${ratio(v, base)})`);
      rows.push(
        `| ${def.label} | ${fmt(f.keepAlive?.rps)}${rel(f.keepAlive?.rps, hp?.keepAlive?.rps)} | ${fmt(f.keepAlive?.p50)} | ${fmt(f.keepAlive?.p99)}${rel(f.keepAlive?.p99, hp?.keepAlive?.p99)} | ${fmt(f.hsP256?.rps)}${rel(f.hsP256?.rps, hp?.hsP256?.rps)} | ${fmt(f.hsRsa?.rps)}${rel(f.hsRsa?.rps, hp?.hsRsa?.rps)} | ${fmt(f.rssStart, 1)} | ${fmt(f.rssIdle1s, 1)} / ${fmt(f.rssIdle, 1)}${f.idleFailed ? ` (${f.idleFailed} failed)` : ''} | ${growth(f) === undefined ? '—' : `${growth(f)!.toFixed(1)}% (${fmt(f.growthBefore, 1)}→${fmt(f.growthAfter, 1)})`} |`,
      );
    }
    const e = results.get('edge')?.f;
    const checks: { what: string; target: string; got: string; ok: boolean | null }[] = [];
    const check = (what: string, target: string, v: number | undefined, ok: (v: number) => boolean, show: (v: number) => string): void => {
      checks.push({ what, target, got: v === undefined || Number.isNaN(v) ? 'not measured' : show(v), ok: v === undefined || Number.isNaN(v) ? null : ok(v) });
    };
    const kaR = e?.keepAlive && hp?.keepAlive ? e.keepAlive.rps / hp.keepAlive.rps : undefined;
    const hsR = e?.hsP256 && hp?.hsP256 ? e.hsP256.rps / hp.hsP256.rps : undefined;
    const hsRsaR = e?.hsRsa && hp?.hsRsa ? e.hsRsa.rps / hp.hsRsa.rps : undefined;
    const p99R = e?.keepAlive && hp?.keepAlive ? e.keepAlive.p99 / Math.max(1, hp.keepAlive.p99) : undefined;
    check('keep-alive req/s vs HAProxy', `≥ ${TARGETS.keepAliveRatio}×`, kaR, (v) => v >= TARGETS.keepAliveRatio, (v) => `${v.toFixed(2)}×`);
    check('handshakes/s vs HAProxy, P-256', `≥ ${TARGETS.handshakeRatio}×`, hsR, (v) => v >= TARGETS.handshakeRatio, (v) => `${v.toFixed(2)}×`);
    check('handshakes/s vs HAProxy, RSA-2048', `≥ ${TARGETS.handshakeRatio}×`, hsRsaR, (v) => v >= TARGETS.handshakeRatio, (v) => `${v.toFixed(2)}×`);
    check('p99 latency vs HAProxy (keep-alive)', `≤ ${TARGETS.p99Ratio}×`, p99R, (v) => v <= TARGETS.p99Ratio, (v) => `${v.toFixed(2)}× (${e?.keepAlive?.p99} ms vs ${hp?.keepAlive?.p99} ms)`);
    const nf = results.get('node-floor')?.f;
    const idleVsFloor = e?.rssIdle && nf?.rssIdle ? e.rssIdle / nf.rssIdle : undefined;
    check(`RSS with ${IDLE} idle mTLS connections (settled) vs the Node floor`, `≤ ${TARGETS.idleRssVsFloor}×`, idleVsFloor, (v) => v <= TARGETS.idleRssVsFloor, (v) => `${v.toFixed(2)}× (${e?.rssIdle?.toFixed(1)} MiB vs ${nf?.rssIdle?.toFixed(1)} MiB)`);
    check(`RSS growth over ${GROWTH_REQUESTS} requests`, `≤ ${TARGETS.growthPercent}%`, e ? growth(e) : undefined, (v) => v <= TARGETS.growthPercent, (v) => `${v.toFixed(1)}%`);
    // CPU cost per unit of work: independent of which core saturated first (see "Reading these figures").
    const cpuR = (ours: number | undefined, theirs: number | undefined): number | undefined => (ours && theirs ? theirs / ours : undefined);
    const roundsNote = inter.size ? ` (median of ${ROUNDS} interleaved rounds)` : '';
    const fmtCpu = (v: number | undefined, kind: CpuKind): string => (v === undefined ? '—' : kind === 'keepAlive' ? `${v.toFixed(0)} µs` : `${(v / 1000).toFixed(2)} ms`);
    const vs = (a: string, b: string, kind: CpuKind): string => `${fmtCpu(cpuOf(a, kind), kind)} vs ${fmtCpu(cpuOf(b, kind), kind)}`;
    check(`keep-alive capacity vs HAProxy (its CPU/request ÷ ours)${roundsNote}`, `≥ ${TARGETS.keepAliveRatio}×`, cpuR(cpuOf('edge', 'keepAlive'), cpuOf('haproxy', 'keepAlive')), (v) => v >= TARGETS.keepAliveRatio, (v) => `${v.toFixed(2)}× (${vs('edge', 'haproxy', 'keepAlive')})`);
    const handshakeKinds = [['hsP256', 'P-256'], ['hsRsa', 'RSA-2048']] as const;
    for (const [kind, key] of handshakeKinds) {
      check(`handshake capacity vs HAProxy, ${key} (CPU/handshake)${roundsNote}`, `≥ ${TARGETS.handshakeRatio}×`, cpuR(cpuOf('edge', kind), cpuOf('haproxy', kind)), (v) => v >= TARGETS.handshakeRatio, (v) => `${v.toFixed(2)}× (${vs('edge', 'haproxy', kind)})`);
    }
    const info = (what: string, v: number | undefined, show: (v: number) => string): void => {
      checks.push({ what, target: 'for reference', got: v === undefined || Number.isNaN(v) ? 'not measured' : show(v), ok: null });
    };
    for (const [kind, key] of handshakeKinds) {
      info(`handshake capacity vs the Node floor, ${key} (CPU/handshake)${roundsNote}`, cpuR(cpuOf('edge', kind), cpuOf('node-floor', kind)), (v) => `${v.toFixed(2)}× (${vs('edge', 'node-floor', kind)})`);
      info(`Node floor handshake capacity vs HAProxy, ${key} (CPU/handshake)${roundsNote}`, cpuR(cpuOf('node-floor', kind), cpuOf('haproxy', kind)), (v) => `${v.toFixed(2)}× (${vs('node-floor', 'haproxy', kind)})`);
      info(`bare node:tls (no HTTP, no upstream) handshake capacity vs HAProxy, ${key} (CPU/handshake)${roundsNote}`, cpuR(cpuOf('tls-floor', kind), cpuOf('haproxy', kind)), (v) => `${v.toFixed(2)}× (${vs('tls-floor', 'haproxy', kind)})`);
    }
    info(`keep-alive capacity vs the Node floor (CPU/request)${roundsNote}`, cpuR(cpuOf('edge', 'keepAlive'), cpuOf('node-floor', 'keepAlive')), (v) => `${v.toFixed(2)}× (${vs('edge', 'node-floor', 'keepAlive')})`);
    info(`RSS with ${IDLE} idle mTLS connections, 1 s after they are up`, e?.rssIdle1s, (v) => `${v.toFixed(1)} MiB`);
    // Observability cost = extra proxy CPU per request: req/s here is bounded by the load generator's
    // core, which hides (or invents) differences of a few percent.
    const extraCpu = (base: number | undefined, withObs: number | undefined): number | undefined => (base && withObs ? 100 * (withObs / base - 1) : undefined);
    if (paired) {
      const pairedNote = ` (paired, a fresh pair per comparison, median of ${ROUNDS} rounds)`;
      const extraPaired = (ratios: readonly number[]): number => 100 * (median(ratios) - 1);
      const range = (ratios: readonly number[]): string => `${(100 * (Math.min(...ratios) - 1)).toFixed(1)}…${(100 * (Math.max(...ratios) - 1)).toFixed(1)}%`;
      check(`cost of the access log alone (CPU per keep-alive request)${pairedNote}`, '≤ 10%', extraPaired(paired.logKeepAlive), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/request (rounds ${range(paired!.logKeepAlive)})`);
      check(`cost of access log + admin/flow page (CPU per keep-alive request)${pairedNote}`, '≤ 10%', extraPaired(paired.observeKeepAlive), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/request (rounds ${range(paired!.observeKeepAlive)})`);
      check(`cost of access log + admin/flow page (CPU per handshake)${pairedNote}`, '≤ 10%', extraPaired(paired.observeHandshake), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/handshake (rounds ${range(paired!.observeHandshake)})`);
    } else {
      check(`cost of the access log alone (CPU per keep-alive request)${roundsNote}`, '≤ 10%', extraCpu(cpuOf('edge', 'keepAlive'), cpuOf('edge-log', 'keepAlive')), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/request (${vs('edge-log', 'edge', 'keepAlive')})`);
      check(`cost of access log + admin/flow page (CPU per keep-alive request)${roundsNote}`, '≤ 10%', extraCpu(cpuOf('edge', 'keepAlive'), cpuOf('edge-observe', 'keepAlive')), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/request (${vs('edge-observe', 'edge', 'keepAlive')})`);
      check(`cost of access log + admin/flow page (CPU per handshake)${roundsNote}`, '≤ 10%', extraCpu(cpuOf('edge', 'hsP256'), cpuOf('edge-observe', 'hsP256')), (v) => v <= 10, (v) => `${v.toFixed(1)}% more CPU/handshake (${vs('edge-observe', 'edge', 'hsP256')})`);
    }

    const busyRows = ['| target | CPU busy % (proxy core / load+echo core): keep-alive | handshakes P-256 | handshakes RSA-2048 | proxy CPU µs/request (keep-alive) | proxy CPU ms/handshake P-256 | RSA-2048 |', '|---|---|---|---|---:|---:|---:|'];
    for (const { def, f } of results.values()) {
      const b = (l: Load | undefined): string => (l ? l.cpuBusy.map((x) => `${x}%`).join(' / ') : '—');
      const us = (l: Load | undefined): string => (l ? l.cpuUsPerRequest.toFixed(0) : '—');
      const msHs = (l: Load | undefined): string => (l ? (l.cpuUsPerRequest / 1000).toFixed(2) : '—');
      busyRows.push(`| ${def.label} | ${b(f.keepAlive)} | ${b(f.hsP256)} | ${b(f.hsRsa)} | ${us(f.keepAlive)} | ${msHs(f.hsP256)} | ${msHs(f.hsRsa)} |`);
    }
    const busyTable = busyRows.join('\n');
    const interRows = inter.size
      ? [
          `Interleaved rounds (${ROUNDS} rounds, all targets running at once and loaded in turn; keep-alive with the P-256 PKI): the proxy's own CPU per unit of work, median [min–max].`,
          '',
          '| target | CPU µs per keep-alive request | CPU ms per new mTLS handshake, P-256 | RSA-2048 | keep-alive req/s (median) | handshakes/s P-256 (median) | RSA-2048 |',
          '|---|---:|---:|---:|---:|---:|---:|',
          ...[...inter.entries()].map(([name, v]) => {
            const label = interDefs.find((d) => d.name === name)?.label ?? name;
            const span = (ls: Load[], scale: number, d: number): string => {
              const xs = ls.map((l) => l.cpuUsPerRequest / scale);
              return `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;
            };
            return `| ${label} | ${span(v.keepAlive, 1, 0)} | ${span(v.hsP256, 1000, 2)} | ${span(v.hsRsa, 1000, 2)} | ${median(v.keepAlive.map((l) => l.rps)).toFixed(0)} | ${median(v.hsP256.map((l) => l.rps)).toFixed(0)} | ${median(v.hsRsa.map((l) => l.rps)).toFixed(0)} |`;
          }),
        ].join('\n')
      : '';
    const table = rows.join('\n');
    const checkTable = ['| target (issue) | goal | measured | |', '|---|---|---|---|', ...checks.map((c) => `| ${c.what} | ${c.target} | ${c.got} | ${c.ok === null ? '—' : c.ok ? 'met' : '**missed**'} |`)].join('\n');
    process.stdout.write(`\n${table}\n\n${busyTable}\n\n${interRows}\n\n${checkTable}\n`);

    // ------------------------------------------------------------------ profiles where a target is missed
    if (!has('no-profile') && results.has('edge')) {
      const missed = (re: RegExp, cost: boolean): boolean => checks.some((c) => c.ok === false && re.test(c.what) && /cost/.test(c.what) === cost);
      const jobs: { def: TargetDef; kind: 'keep-alive' | 'handshakes' }[] = [];
      if (missed(/keep-alive|p99|growth/, false)) jobs.push({ def: edge, kind: 'keep-alive' });
      if (missed(/handshakes/, false)) jobs.push({ def: edge, kind: 'handshakes' });
      if (checks.some((c) => c.ok === false && /access log alone/.test(c.what)) && results.has('edge-log')) jobs.push({ def: edgeLog, kind: 'keep-alive' });
      if (checks.some((c) => c.ok === false && /admin\/flow page \(keep-alive/.test(c.what)) && results.has('edge-observe')) jobs.push({ def: edgeObserve, kind: 'keep-alive' });
      for (const { def, kind } of jobs) {
        process.stdout.write(`\n== CPU profile of ${def.label} under ${kind} load (node --cpu-prof)\n`);
        const prof = await profileEdge(def, p256, echoPort, kind);
        if (!prof) {
          process.stdout.write(`CPU profile (${kind}): no .cpuprofile was written.\n`);
          continue;
        }
        const { totalMs, busyMs, frames } = prof.summary;
        const all = summariseCpuProfile(prof.file, 100000);
        const lines = [
          `#### ${def.label} — ${kind === 'keep-alive' ? 'keep-alive requests' : 'new mTLS handshakes (P-256)'}: top frames by self time (${(totalMs / 1000).toFixed(1)} s sampled incl. start-up, ${(busyMs / 1000).toFixed(1)} s busy; % of busy time)`,
          '',
          '| self % | self ms | function (file:line) |',
          '|---:|---:|---|',
          ...frames.map((fr) => `| ${fr.percent.toFixed(1)} | ${fr.selfMs.toFixed(0)} | \`${fr.frame}\` |`),
          '',
          `By area: ${byArea(all.frames, all.busyMs).join(', ')}. \`(program)\` is native code outside JavaScript (OpenSSL, libuv, the HTTP parser); TLS work started from JavaScript is attributed to the calling frame (e.g. \`initRead\` feeding the buffered ClientHello).`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
    }

    // ------------------------------------------------------------------ certs init, start-up
    if (!has('no-certs-init')) {
      const r = await run(process.execPath, [benchScript('certsInit.bench.js'), QUICK ? '3' : '5'], { timeoutMs: 300_000 });
      process.stdout.write(`\n== certs init\n${(r.stdout + r.stderr).trim()}\n`);
    }
    let startupMs: number | undefined;
    if (!has('no-startup')) {
      const r = await run(process.execPath, [benchScript('startup.bench.js')], { timeoutMs: 300_000, env: { ...process.env, STARTUP_RUNS: QUICK ? '3' : '7' } });
      process.stdout.write(`\n== npm start to ready\n${(r.stdout + r.stderr).trim()}\n`);
      const m = /existing PKI: median (\d+) ms/.exec(r.stdout);
      startupMs = m ? Number(m[1]) : undefined;
    }

    // ------------------------------------------------------------------ CPU against the previous main, paired
    let vsBaseline: VsBaseline | null = null;
    if (BASELINE) {
      process.stdout.write(`\n== mtls-edge vs ${BASELINE}, paired (${ROUNDS} rounds, keep-alive and new connections)\n`);
      vsBaseline = await pairedVsBaseline(BASELINE, p256, echoPort);
    }

    // ------------------------------------------------------------------ the results table of docs/performance.md
    const cols = ['edge', 'node-floor', 'haproxy', 'nginx'].filter((n) => results.has(n));
    const fig = (n: string): Figures | undefined => results.get(n)?.f;
    const cell = (v: number | undefined, d: number): string => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
    const row = (measure: string, goal: string, value: (n: string) => string): string => `| ${measure} | ${goal} | ${cols.map(value).join(' | ')} |`;
    const edgeOnly = (v: string) => (n: string): string => (n === 'edge' ? v : '');
    const ratioRange = (xs: readonly number[] | undefined): string => (xs?.length ? `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})` : 'not measured (`--baseline DIR`)');
    const resultRows = [
      `| measure | goal | ${cols.map((n) => (n === 'edge' ? 'mtls-edge' : n === 'node-floor' ? 'Node floor' : results.get(n)!.def.label)).join(' | ')} |`,
      `|---|---|${cols.map(() => '---:').join('|')}|`,
      row(`RSS with ${IDLE.toLocaleString('en')} idle mTLS connections, settled (MiB)`, `mtls-edge ≤ ${TARGETS.idleRssVsFloor}× Node floor`, (n) => cell(fig(n)?.rssIdle, 1) + (n === 'edge' && idleVsFloor !== undefined ? ` (${idleVsFloor.toFixed(2)}×)` : '')),
      row('RSS at start (MiB)', '', (n) => cell(fig(n)?.rssStart, 1)),
      row(`RSS growth over ${GROWTH_REQUESTS.toLocaleString('en')} keep-alive requests`, `≤ ${TARGETS.growthPercent} %`, (n) => { const f = fig(n); const g = f ? growth(f) : undefined; return g === undefined ? '—' : `${g.toFixed(1)} %`; }),
      row(`CPU per keep-alive request (µs)${roundsNote}`, '', (n) => cell(cpuOf(n, 'keepAlive'), 0)),
      row(`CPU per new mTLS handshake, P-256 (ms)${roundsNote}`, '', (n) => cell((cpuOf(n, 'hsP256') ?? NaN) / 1000, 2)),
      row(`CPU per new mTLS handshake, RSA-2048 (ms)${roundsNote}`, '', (n) => cell((cpuOf(n, 'hsRsa') ?? NaN) / 1000, 2)),
      row('keep-alive requests/s, p99 ms', '', (n) => { const k = fig(n)?.keepAlive; return k ? `${k.rps.toFixed(0)}, ${k.p99}` : '—'; }),
      row('new mTLS handshakes/s, P-256', '', (n) => cell(fig(n)?.hsP256?.rps, 0)),
      row(`mtls-edge CPU per keep-alive request ÷ previous main (paired, median of ${ROUNDS}, range)`, 'no worse, within noise', edgeOnly(ratioRange(vsBaseline?.keepAlive))),
      row(`mtls-edge CPU per handshake ÷ previous main (paired, median of ${ROUNDS}, range)`, 'no worse, within noise', edgeOnly(ratioRange(vsBaseline?.handshake))),
      row('`npm start` to ready, dev PKI present (ms, median)', '< 1000', edgeOnly(cell(startupMs, 0))),
    ];
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${haproxyTarget.label}${nginxBin ? `, ${nginxTarget.label}` : ''}`;
    const resultsText = [
      `Last run ${new Date().toISOString().slice(0, 10)}, ${QUICK ? '**quick mode** (for checking the harness only)' : 'full mode'}, \`npm run bench -- ${process.argv.slice(2).join(' ')}\`; ${machine}.`,
      '',
      ...resultRows,
      ...(skipped.length ? ['', 'Skipped: ' + skipped.join('; ')] : []),
    ].join('\n');
    process.stdout.write(`\n${resultsText}\n`);
    if (!has('no-doc')) writeResults(join(repo, 'docs/performance.md'), resultsText);
  } finally {
    await echo.stop();
  }
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (e: Error) => {
    process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
    killAll();
    process.exit(1);
  },
);
