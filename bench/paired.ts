// Paired comparison of two Node proxies: both run on the same core at the same time, each loaded by
// its own ab, and each one's CPU time per handshake (or per keep-alive request) is read from
// /proc/PID/stat. Both see the same machine in the same seconds, so the ratio repeats to a few
// percent where sequential runs on a shared VM scatter by tens of percent. Meant for two builds of
// the edge, or the edge and the Node floor; not for HAProxy (sharing a core hurts the larger
// process more, so that ratio would be biased).
//
//   npm run bench:paired -- [--a edge] [--b node-floor] [--rounds 4] [--seconds 10] [--keep-alive]
//   npm run bench:paired -- --slices 40 --seconds 3 [...]   (each alone, alternating: see alternatingSlices)
//   npm run bench:paired -- --perf [...]   (also where each one's CPU goes, by kind of code: bench/perfSplit.ts)
//
// Targets: see bench/nodeTargets.ts (`edge`, `edge-trim`, `edge-log`, `edge-admin`,
// `edge-page`, `node-floor`, `edge@DIR` (or `edge-page@DIR` and the like) for the built checkout in DIR, e.g. a `git worktree` of an
// older commit after `npm ci` there). Only 127.0.0.1 is used; every process is stopped at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAVE_AB } from './ab.js';
import { makeBenchPki } from './benchPki.js';
import { alternatingSlices, median, pairedRound } from './pairing.js';
import { NODE_TARGETS_HELP, startNodeTarget } from './nodeTargets.js';
import { startEchoUpstream } from './procs.js';
import { bounded, flag, helpAndExit } from './args.js';
import { HAVE_PERF, PERF_CATEGORIES, perfSamplesByCategory, recordPerf, threadsOf, usPerUnitByCategory, type PerfCategory } from './perfSplit.js';

helpAndExit(`npm run bench:paired -- [--a TARGET] [--b TARGET] [--rounds 4] [--seconds 10] [--keep-alive] [--slices N] [--perf]
--slices N: instead of paired rounds, both targets started once and loaded alone in turn, N alternating slices of --seconds each
--perf: also sample both with perf during each round and print their CPU per unit by kind of code (malloc, V8 builtins, OpenSSL, ...)
targets: ${NODE_TARGETS_HELP}
An edge target runs with the Node flags of its checkout's package.json "start" script; the floors with Node's defaults.`);

const PROXY_CPU = 0;
const LOAD_CPU = 1;

const A = flag('a') ?? 'edge';
const B = flag('b') ?? 'node-floor';
const ROUNDS = bounded(flag('rounds'), 4, 1, 20);
const KEEP_ALIVE = process.argv.includes('--keep-alive');
const SECONDS = bounded(flag('seconds'), 10, 2, 120);
const SLICES = flag('slices') === undefined ? null : bounded(flag('slices'), 40, 2, 400);
const PERF = process.argv.includes('--perf');

const work = mkdtempSync(join(tmpdir(), 'mtls-edge-paired-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

async function main(): Promise<void> {
  if (!HAVE_AB) throw new Error('ab (Debian apache2-utils) is needed');
  if (PERF && !HAVE_PERF) throw new Error('--perf needs perf (Debian linux-perf)');
  if (PERF && SLICES !== null) throw new Error('--perf goes with paired rounds, not --slices');
  const pki = await makeBenchPki(join(work, 'pki'), 'ec-p256');
  const { port: echoPort, proc: echo } = await startEchoUpstream(LOAD_CPU);
  const unit = KEEP_ALIVE ? 'µs CPU per keep-alive request' : 'µs CPU per new mTLS handshake (P-256)';
  const ratios: number[] = [];
  const mainRatios: number[] = [];
  const split: { a: Map<PerfCategory, number>; b: Map<PerfCategory, number> }[] = [];
  if (SLICES !== null) {
    try {
      await slices(pki, echoPort, unit);
    } finally {
      await echo.stop();
    }
    return;
  }
  process.stdout.write(`paired: ${A} vs ${B}, ${ROUNDS} rounds of ${SECONDS} s of ${KEEP_ALIVE ? 'keep-alive requests' : 'new connections'} each, both on CPU ${PROXY_CPU} at the same time\n`);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await startNodeTarget(A, pki, echoPort, { cpu: PROXY_CPU, work });
      const b = await startNodeTarget(B, pki, echoPort, { cpu: PROXY_CPU, work });
      try {
        if (round === 1) process.stdout.write(`node flags: ${A} [${a.nodeFlags.join(' ')}], ${B} [${b.nodeFlags.join(' ')}]\n`);
        const perfFile = join(work, `perf-${round}.data`);
        const { usA, usB, mainUsA, mainUsB, sysUsA, sysUsB, faultsA, faultsB } = await pairedRound(
          { port: a.port, pids: () => [a.pid] },
          { port: b.port, pids: () => [b.pid] },
          { keepAlive: KEEP_ALIVE, seconds: SECONDS, clientPem: pki.clientPem, loadCpu: LOAD_CPU, duringLoad: PERF ? () => recordPerf([a.pid, b.pid], SECONDS - 1, perfFile) : undefined },
        );
        if (PERF) {
          const samples = perfSamplesByCategory(perfFile, threadsOf([a.pid, b.pid]));
          split.push({ a: usPerUnitByCategory(samples.get(a.pid), usA), b: usPerUnitByCategory(samples.get(b.pid), usB) });
        }
        ratios.push(usA / usB);
        mainRatios.push(mainUsA / mainUsB);
        process.stdout.write(`round ${round}: ${A} ${usA.toFixed(0)}, ${B} ${usB.toFixed(0)} ${unit}; ratio ${(usA / usB).toFixed(3)} (main threads alone: ${mainUsA.toFixed(0)}, ${mainUsB.toFixed(0)}; ${(mainUsA / mainUsB).toFixed(3)}; kernel: ${sysUsA.toFixed(0)}, ${sysUsB.toFixed(0)}; minor page faults per unit: ${faultsA.toFixed(2)}, ${faultsB.toFixed(2)})\n`);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    }
  } finally {
    await echo.stop();
  }
  process.stdout.write(`median ratio ${A} ÷ ${B}: ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}; below 1 means ${A} uses less CPU)\n`);
  process.stdout.write(`median ratio of the main threads alone (JavaScript; V8's compiler and GC helper threads left out): ${median(mainRatios).toFixed(3)} (range ${Math.min(...mainRatios).toFixed(3)}–${Math.max(...mainRatios).toFixed(3)})\n`);
  if (PERF) printSplit(split, unit);
}

/** --perf: the median over rounds of each category's µs per unit, side by side. */
function printSplit(split: readonly { a: Map<PerfCategory, number>; b: Map<PerfCategory, number> }[], unit: string): void {
  process.stdout.write(`where the CPU goes (${unit}, perf samples × the measured CPU, median of ${split.length} rounds):\n`);
  process.stdout.write(`  ${'kind of code'.padEnd(32)} ${A.slice(0, 14).padStart(14)} ${B.slice(0, 14).padStart(14)} ${'difference'.padStart(11)}\n`);
  for (const c of PERF_CATEGORIES) {
    const a = median(split.map((r) => r.a.get(c) ?? 0));
    const b = median(split.map((r) => r.b.get(c) ?? 0));
    process.stdout.write(`  ${c.padEnd(32)} ${a.toFixed(1).padStart(14)} ${b.toFixed(1).padStart(14)} ${(a - b >= 0 ? '+' : '') + (a - b).toFixed(1).padStart(10)}\n`);
  }
}

/** --slices: both targets up for the whole run, each loaded alone in alternating slices. */
async function slices(pki: Awaited<ReturnType<typeof makeBenchPki>>, echoPort: number, unit: string): Promise<void> {
  process.stdout.write(`alternating: ${A} and ${B} each alone on CPU ${PROXY_CPU}, ${SLICES} slices of ${SECONDS} s (${unit})\n`);
  const a = await startNodeTarget(A, pki, echoPort, { cpu: PROXY_CPU, work });
  const b = await startNodeTarget(B, pki, echoPort, { cpu: PROXY_CPU, work });
  try {
    const r = await alternatingSlices({ port: a.port, pids: () => [a.pid] }, { port: b.port, pids: () => [b.pid] }, { keepAlive: KEEP_ALIVE, seconds: SECONDS, clientPem: pki.clientPem, loadCpu: LOAD_CPU, slices: SLICES ?? 2 });
    process.stdout.write(`median ratio ${A} ÷ ${B}: ${median(r.ratios).toFixed(3)} (range ${Math.min(...r.ratios).toFixed(3)}–${Math.max(...r.ratios).toFixed(3)}); main threads alone ${median(r.mainRatios).toFixed(3)}\n`);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`paired: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
