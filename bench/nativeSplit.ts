// Where a proxy's CPU time per new mTLS handshake goes, by kind of code, from `perf record` samples
// of the proxy's process while ab opens connections: OpenSSL, the C library (malloc, memcpy), the
// kernel (TCP, syscalls), and the proxy's own code — HAProxy's, or for Node the JavaScript runtime
// (V8: JIT code, interpreter, inline caches, compiler, GC; Node's C++; libuv). node links OpenSSL
// statically, so in the node binary every symbol that is not V8/Node/libuv C++, a V8 builtin or
// JIT code counts as OpenSSL (the other C libraries node links do not run on this path).
// Needs `perf` (Debian linux-perf) that can sample cpu-clock here; havePerf() tells.
import { spawnSync } from 'node:child_process';
import { run } from './procs.js';

export type Area = 'OpenSSL' | 'C library' | 'kernel' | 'proxy code' | 'other';
export const AREAS: readonly Area[] = ['OpenSSL', 'C library', 'kernel', 'proxy code', 'other'];

let perfWorks: boolean | null = null;
export function havePerf(): boolean {
  if (perfWorks === null) {
    const r = spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
    perfWorks = r.status === 0;
  }
  return perfWorks;
}

/** One sample line of `perf report --sort dso,sym -n` → its area. */
export function areaOf(dso: string, symbol: string): Area {
  if (dso.startsWith('[kernel')) return 'kernel';
  if (/^libc\.so|^libm\.so|^ld-linux/.test(dso)) return 'C library';
  if (/^libcrypto|^libssl/.test(dso)) return 'OpenSSL';
  if (dso === 'haproxy') return 'proxy code';
  // JIT code has no symbols without --perf-basic-prof, so perf shows it as [unknown].
  if (dso.startsWith('[JIT]') || dso.startsWith('perf-') || dso === '[unknown]' || dso.startsWith('libstdc++')) return 'proxy code';
  if (dso === 'node') return /::|^Builtins_|^Builtin:|^uv_|^uv__|^llhttp|^v8_|^node_|^napi_|^cppgc/.test(symbol) ? 'proxy code' : 'OpenSSL';
  return 'other';
}

/** Samples per area from a perf.data file. */
export function samplesByArea(perfData: string): Map<Area, number> {
  const r = spawnSync('perf', ['report', '-i', perfData, '--no-children', '--sort', 'dso,sym', '-g', 'none', '--stdio', '-n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = new Map<Area, number>(AREAS.map((a) => [a, 0]));
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\S+)\s+\[.\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const area = areaOf(m[2]!, m[3]!.trim());
    out.set(area, out.get(area)! + Number(m[1]));
  }
  return out;
}

/** Samples the process `pid` for `seconds` (cpu-clock, 999 Hz) into `file`. */
export async function perfRecord(pid: number, seconds: number, file: string): Promise<void> {
  await run('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-p', String(pid), '-o', file, '--', 'sleep', String(seconds)], { timeoutMs: (seconds + 30) * 1000 });
}

/** The areas' shares of `cpuMsPerHandshake`, in µs per handshake. */
export function splitPerHandshake(samples: Map<Area, number>, cpuMsPerHandshake: number): Map<Area, number> {
  const total = [...samples.values()].reduce((a, b) => a + b, 0) || 1;
  return new Map([...samples].map(([a, n]) => [a, (1000 * cpuMsPerHandshake * n) / total]));
}
