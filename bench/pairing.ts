// One paired round: two proxies on the same core, loaded at the same time by their own ab, each
// one's CPU time per request (or new connection) read from /proc/PID/stat. Both see the same
// machine in the same seconds, so their ratio repeats to a few percent on a VM whose speed drifts
// by tens of percent between minutes. For two Node processes of the same kind (two builds, the
// edge with and without observability); not against HAProxy, which suffers less from sharing.
import { ab } from './ab.js';
import { processTicks, TICK_US } from './procs.js';

export interface PairedTarget {
  readonly port: number;
  pids(): number[];
}

export interface PairedOptions {
  readonly keepAlive: boolean;
  /** Requests (keep-alive) or new connections per target. */
  readonly count: number;
  readonly clientPem: string;
  /** CPU for the two load generators. */
  readonly loadCpu: number;
}

/**
 * CPU µs per request of a and b, measured together after a warm-up of each: for new connections a
 * few thousand, because a fresh Node process compiles its connection path during the first
 * thousands (bench/run.ts, HANDSHAKE_WARMUP_S) and two builds may warm up at different speeds.
 */
export async function pairedRound(a: PairedTarget, b: PairedTarget, o: PairedOptions): Promise<{ usA: number; usB: number }> {
  const url = (t: PairedTarget): string => `https://127.0.0.1:${t.port}/`;
  const warm = { concurrency: 10, requests: o.keepAlive ? 300 : 3_000, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu };
  await ab({ ...warm, url: url(a) });
  await ab({ ...warm, url: url(b) });
  const ta = processTicks(a.pids());
  const tb = processTicks(b.pids());
  const loadOpts = { concurrency: 20, requests: o.count, keepAlive: o.keepAlive, clientPem: o.clientPem, cpu: o.loadCpu };
  await Promise.all([ab({ ...loadOpts, url: url(a) }), ab({ ...loadOpts, url: url(b) })]);
  return { usA: ((processTicks(a.pids()) - ta) * TICK_US) / o.count, usB: ((processTicks(b.pids()) - tb) * TICK_US) / o.count };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
