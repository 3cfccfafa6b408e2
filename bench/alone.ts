// Each Node target alone on the proxy core, one after the other: user and system CPU per new mTLS
// connection (or per keep-alive request), read from /proc/PID/stat, and how many upstream
// connections the echo server holds at the end (a pool that reconnected would show many, or sockets
// in TIME-WAIT). Sequential runs drift on a shared VM, so compare targets with paired.js; this is
// for the user/system split, and, with --profile, for a CPU profile of each target under the same
// load with a side-by-side table of self time per unit of work; with --alloc, where each target's
// allocation goes (V8's sampling heap profiler, bench/allocSampling.ts), bytes per unit of work.
//
//   npm run bench:alone -- --targets https-floor,node-floor,edge [--keep-alive] [--seconds 8]
//        [--warmup 6] [--profile DIR | --alloc DIR] [--top 30]
//
// Targets: bench/nodeTargets.ts. Only 127.0.0.1 is used; every process is stopped at the end.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ab, HAVE_AB } from './ab.js';
import { makeBenchPki } from './benchPki.js';
import { summariseCpuProfile } from './cpuProfile.js';
import { NODE_TARGETS_HELP, startNodeTarget } from './nodeTargets.js';
import { processTicksSplit, startEchoUpstream, TICK_US } from './procs.js';
import { bounded, flag, helpAndExit } from './args.js';
import { benchScript } from './paths.js';

helpAndExit(`npm run bench:alone -- --targets https-floor,node-floor,edge [--keep-alive] [--seconds 8] [--warmup 6] [--profile DIR | --alloc DIR] [--top 30]\ntargets: ${NODE_TARGETS_HELP}`);

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const CONCURRENCY = 20;

const TARGETS = (flag('targets') ?? 'https-floor,node-floor,edge').split(',').filter(Boolean);
const KEEP_ALIVE = process.argv.includes('--keep-alive');
const SECONDS = bounded(flag('seconds'), 8, 2, 120);
const WARMUP = bounded(flag('warmup'), 6, 1, 120);
const PROFILE_DIR = flag('profile');
const ALLOC_DIR = flag('alloc');
const TOP = bounded(flag('top'), 30, 5, 200);

const work = mkdtempSync(join(tmpdir(), 'mtls-edge-alone-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

/** Established and TIME-WAIT sockets on the echo server's port, from `ss` (null without it). */
function echoSockets(port: number): { established: number; timeWait: number } | null {
  try {
    const lines = execFileSync('ss', ['-tan', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n');
    return { established: lines.filter((l) => l.startsWith('ESTAB')).length, timeWait: lines.filter((l) => l.startsWith('TIME-WAIT')).length };
  } catch {
    return null;
  }
}

interface Measured {
  readonly name: string;
  /** Requests (or connections) over warm-up and measurement: the profile covers both. */
  readonly allUnits: number;
  readonly profile: string | null;
  readonly alloc: string | null;
}

async function main(): Promise<void> {
  if (!HAVE_AB) throw new Error('ab (Debian apache2-utils) is needed');
  // The CPU profiler's own allocations would show up in the allocation profile, and its cost in the CPU figures.
  if (PROFILE_DIR && ALLOC_DIR) throw new Error('--profile and --alloc: one at a time');
  const pki = await makeBenchPki(join(work, 'pki'), 'ec-p256');
  const { port: echoPort, proc: echo } = await startEchoUpstream(LOAD_CPU);
  const unit = KEEP_ALIVE ? 'keep-alive request' : 'new mTLS connection (P-256)';
  process.stdout.write(`alone: ${TARGETS.join(', ')}, each alone on CPU ${PROXY_CPU}: ${WARMUP} s warm-up, then ${SECONDS} s of ab -c ${CONCURRENCY}${KEEP_ALIVE ? ' -k' : ''}; CPU µs per ${unit}\n`);
  const measured: Measured[] = [];
  try {
    for (const name of TARGETS) {
      const folder = name.replace(/[^a-z0-9-]/gi, '_');
      const profileDir = PROFILE_DIR ? join(PROFILE_DIR, folder) : null;
      const allocDir = ALLOC_DIR ? join(ALLOC_DIR, folder) : null;
      for (const d of [profileDir, allocDir]) if (d) mkdirSync(d, { recursive: true });
      const nodeFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : allocDir ? ['--import', benchScript('allocSampling.js')] : [];
      const env = allocDir ? { ...process.env, ALLOC_PROFILE_DIR: allocDir } : undefined;
      const t = await startNodeTarget(name, pki, echoPort, { cpu: PROXY_CPU, work, nodeFlags, env });
      const load = { url: `https://127.0.0.1:${t.port}/`, concurrency: CONCURRENCY, keepAlive: KEEP_ALIVE, clientPem: pki.clientPem, cpu: LOAD_CPU };
      let allUnits = 0;
      try {
        allUnits += (await ab({ ...load, seconds: WARMUP })).complete;
        const before = processTicksSplit([t.pid]);
        const r = await ab({ ...load, seconds: SECONDS });
        const after = processTicksSplit([t.pid]);
        allUnits += r.complete;
        const per = (ticks: number): string => ((ticks * TICK_US) / r.complete).toFixed(0);
        const sockets = echoSockets(echoPort);
        process.stdout.write(
          `${name}: ${r.complete} in ${SECONDS} s (${r.rps.toFixed(0)}/s), user ${per(after.user - before.user)} µs, system ${per(after.system - before.system)} µs` +
            (sockets ? `; echo upstream sockets: ${sockets.established} established, ${sockets.timeWait} in TIME-WAIT` : '') +
            '\n',
        );
      } finally {
        await t.stop();
      }
      // The target's own profile is named after its pid (another node process in the run writes its own).
      const file = profileDir ? readdirSync(profileDir).find((f) => f.includes(`.${t.pid}.`) && f.endsWith('.cpuprofile')) : undefined;
      const allocFile = allocDir ? readdirSync(allocDir).find((f) => f === `alloc-${t.pid}.heapprofile`) : undefined;
      measured.push({ name, allUnits, profile: profileDir && file ? join(profileDir, file) : null, alloc: allocDir && allocFile ? join(allocDir, allocFile) : null });
    }
  } finally {
    await echo.stop();
  }
  const profiled = measured.filter((m) => m.profile !== null);
  if (profiled.length > 0) printProfiles(profiled, unit);
  const sampled = measured.filter((m) => m.alloc !== null);
  if (sampled.length > 0) printAllocations(sampled, unit);
}

/** Self time per function in µs per unit of work, one column per target, sorted by the spread. */
function printProfiles(list: readonly Measured[], unit: string): void {
  const columns = list.map((m) => {
    const s = summariseCpuProfile(m.profile!, 1_000_000);
    return { name: m.name, busy: (s.busyMs * 1000) / m.allUnits, self: new Map(s.frames.map((f) => [f.frame, (f.selfMs * 1000) / m.allUnits])) };
  });
  const frames = new Set(columns.flatMap((c) => [...c.self.keys()]));
  const rows = [...frames].map((frame) => {
    const v = columns.map((c) => c.self.get(frame) ?? 0);
    return { frame, v, spread: Math.max(...v) - Math.min(...v) };
  });
  rows.sort((a, b) => b.spread - a.spread);
  process.stdout.write(`\nCPU profiles (warm-up included), self µs per ${unit}; profiles in ${PROFILE_DIR}\n`);
  process.stdout.write(`${columns.map((c) => c.name.padStart(14)).join(' ')}  function\n`);
  process.stdout.write(`${columns.map((c) => c.busy.toFixed(0).padStart(14)).join(' ')}  (all busy samples)\n`);
  for (const r of rows.slice(0, TOP)) process.stdout.write(`${r.v.map((x) => x.toFixed(1).padStart(14)).join(' ')}  ${r.frame}\n`);
}

interface AllocNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: AllocNode[] }

/** Allocated bytes per call site in a sampling heap profile. */
function allocationBySite(file: string): Map<string, number> {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode }).head;
  const out = new Map<string, number>();
  const stack: AllocNode[] = [head];
  for (let n = stack.pop(); n; n = stack.pop()) {
    const cf = n.callFrame;
    const where = /\/(node_modules\/.+|src\/.+|bench\/.+)$/.exec(cf.url)?.[1] ?? cf.url;
    const site = `${cf.functionName || '(anonymous)'}${where ? ` ${where}:${cf.lineNumber + 1}` : ''}`;
    if (n.selfSize > 0) out.set(site, (out.get(site) ?? 0) + n.selfSize);
    stack.push(...n.children);
  }
  return out;
}

/** Bytes allocated per unit of work by call site, one column per target, sorted by the largest. */
function printAllocations(list: readonly Measured[], unit: string): void {
  const columns = list.map((m) => {
    const sites = allocationBySite(m.alloc!);
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    return { name: m.name, total: total / m.allUnits, sites: new Map([...sites].map(([k, v]) => [k, v / m.allUnits])) };
  });
  const rows = [...new Set(columns.flatMap((c) => [...c.sites.keys()]))].map((site) => ({ site, v: columns.map((c) => c.sites.get(site) ?? 0) }));
  rows.sort((a, b) => Math.max(...b.v) - Math.max(...a.v));
  process.stdout.write(`\nAllocation (sampled every 4 KiB, freed objects included, warm-up included), bytes per ${unit}; profiles in ${ALLOC_DIR}\n`);
  process.stdout.write(`${columns.map((c) => c.name.padStart(14)).join(' ')}  site\n`);
  process.stdout.write(`${columns.map((c) => c.total.toFixed(0).padStart(14)).join(' ')}  (all)\n`);
  for (const r of rows.slice(0, TOP)) process.stdout.write(`${r.v.map((x) => x.toFixed(0).padStart(14)).join(' ')}  ${r.site}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`alone: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
