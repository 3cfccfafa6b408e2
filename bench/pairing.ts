// One paired round: two proxies on the same core, loaded at the same time by their own ab, each
// one's CPU time per request (or new connection) read from /proc/PID/stat. Both see the same
// machine in the same seconds, so their ratio repeats to a few percent on a VM whose speed drifts
// by tens of percent between minutes. For two Node processes of the same kind (two builds, the
// edge with and without observability); not against HAProxy, which suffers less from sharing.
import { ab } from './ab.js';
import { mainThreadTicks, minorFaults, processTicksSplit, TICK_US } from './procs.js';

export interface PairedTarget {
  readonly port: number;
  pids(): number[];
}

export interface PairedOptions {
  readonly keepAlive: boolean;
  /** Length of the measured load; both load generators run for this long at the same time. */
  readonly seconds: number;
  readonly clientPem: string;
  /** CPU for the two load generators. */
  readonly loadCpu: number;
  /** Runs alongside the measured load (paired.ts --perf samples both targets meanwhile). */
  readonly duringLoad?: () => Promise<void>;
}

/**
 * CPU µs per request (or new connection) of a and b, measured together after a warm-up of both,
 * also together: for new connections a few thousand, because a fresh Node process compiles its
 * connection path during the first thousands (bench/run.ts, HANDSHAKE_WARMUP_S).
 *
 * Both phases are symmetric on purpose. Warming a and then b left a idle for the length of b's
 * warm-up, long enough for V8's memory reducer to shrink a's heap, and a fixed count let whichever
 * finished last run alone on the core at the end: an A/A run (the same build as a and b) read
 * 1.13–1.21 per handshake that way. Now both warm up at once, and the measured load is
 * time-bounded: both load generators start and stop together, and each proxy's CPU time is
 * divided by the requests its own load generator completed.
 */
export interface PairedResult {
  /** CPU µs per unit, whole process (every thread). */
  readonly usA: number;
  readonly usB: number;
  /** The same for the main thread alone (the first pid's): JavaScript, without V8's helper threads. */
  readonly mainUsA: number;
  readonly mainUsB: number;
  /** The system (kernel) part of usA and usB. */
  readonly sysUsA: number;
  readonly sysUsB: number;
  /** Minor page faults per unit, whole process. */
  readonly faultsA: number;
  readonly faultsB: number;
}

export async function pairedRound(a: PairedTarget, b: PairedTarget, o: PairedOptions): Promise<PairedResult> {
  const url = (t: PairedTarget): string => `https://127.0.0.1:${t.port}/`;
  const warm = { concurrency: 10, requests: o.keepAlive ? 300 : 3_000, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu };
  await Promise.all([ab({ ...warm, url: url(a) }), ab({ ...warm, url: url(b) })]);
  const ta = processTicksSplit(a.pids());
  const tb = processTicksSplit(b.pids());
  const fa = minorFaults(a.pids());
  const fb = minorFaults(b.pids());
  const mainA = a.pids()[0] ?? 0;
  const mainB = b.pids()[0] ?? 0;
  const ma = mainThreadTicks(mainA);
  const mb = mainThreadTicks(mainB);
  const loadOpts = { concurrency: 20, seconds: o.seconds, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu };
  const [ra, rb] = await Promise.all([ab({ ...loadOpts, url: url(a) }), ab({ ...loadOpts, url: url(b) }), o.duringLoad?.()]);
  const ea = processTicksSplit(a.pids());
  const eb = processTicksSplit(b.pids());
  const usA = ((ea.user + ea.system - ta.user - ta.system) * TICK_US) / ra.complete;
  const usB = ((eb.user + eb.system - tb.user - tb.system) * TICK_US) / rb.complete;
  const sysUsA = ((ea.system - ta.system) * TICK_US) / ra.complete;
  const sysUsB = ((eb.system - tb.system) * TICK_US) / rb.complete;
  const faultsA = (minorFaults(a.pids()) - fa) / ra.complete;
  const faultsB = (minorFaults(b.pids()) - fb) / rb.complete;
  const mainUsA = ((mainThreadTicks(mainA) - ma) * TICK_US) / ra.complete;
  const mainUsB = ((mainThreadTicks(mainB) - mb) * TICK_US) / rb.complete;
  return { usA, usB, mainUsA, mainUsB, sysUsA, sysUsB, faultsA, faultsB };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The other way to compare: each target alone on the core in turn, in short alternating slices
 * (A B, then B A, …), both processes started once. Nothing shares the core while it is measured,
 * so a build that suffers more from sharing is not penalised; the VM's drift between slices makes
 * each ratio noisier than a paired round, so it takes many slices. Ratios are a ÷ b per slice pair.
 */
export async function alternatingSlices(a: PairedTarget, b: PairedTarget, o: PairedOptions & { readonly slices: number }): Promise<{ ratios: number[]; mainRatios: number[] }> {
  const url = (t: PairedTarget): string => `https://127.0.0.1:${t.port}/`;
  const warm = { concurrency: 10, requests: o.keepAlive ? 300 : 3_000, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu };
  await ab({ ...warm, url: url(a) });
  await ab({ ...warm, url: url(b) });
  const alone = async (t: PairedTarget): Promise<{ us: number; mainUs: number }> => {
    const pid = t.pids()[0] ?? 0;
    const t0 = processTicksSplit(t.pids());
    const m0 = mainThreadTicks(pid);
    const r = await ab({ concurrency: 20, seconds: o.seconds, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu, url: url(t) });
    const t1 = processTicksSplit(t.pids());
    return { us: ((t1.user + t1.system - t0.user - t0.system) * TICK_US) / r.complete, mainUs: ((mainThreadTicks(pid) - m0) * TICK_US) / r.complete };
  };
  const ratios: number[] = [];
  const mainRatios: number[] = [];
  for (let i = 0; i < o.slices; i++) {
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    const r1 = await alone(first);
    const r2 = await alone(second);
    const [ra, rb] = i % 2 === 0 ? [r1, r2] : [r2, r1];
    ratios.push(ra.us / rb.us);
    mainRatios.push(ra.mainUs / rb.mainUs);
  }
  return { ratios, mainRatios };
}
