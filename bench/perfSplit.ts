// Where two Node proxies' CPU goes, by kind of code, per unit of work: `perf record` samples both
// processes (every thread) during a paired round, and each one's samples are split into a few
// categories (malloc, V8's builtins, JIT-compiled JavaScript, OpenSSL, the kernel, ...). V8's own
// profiler cannot show this split: it files malloc, OpenSSL and the interpreter's builtins under the
// JavaScript function that called them. Linux only; needs `perf` (Debian linux-perf) and the right to
// sample the targets (root, or kernel.perf_event_paranoid ≤ 1). Symbols of JIT-compiled code are not
// needed (its samples are counted by where they fall), so the targets run without --perf-basic-prof.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

export const HAVE_PERF = spawnSync('perf', ['--version']).status === 0;

/** The categories, in the order they are printed. */
export const PERF_CATEGORIES = [
  'malloc/free (glibc)',
  'V8 builtins (interpreter, ICs)',
  'JIT-compiled JavaScript',
  'V8 runtime, GC, compiler',
  'OpenSSL',
  'Node C++ and libuv',
  'other libc',
  'kernel',
  'other',
] as const;
export type PerfCategory = (typeof PERF_CATEGORIES)[number];

const MALLOC = /^(malloc|free|cfree|calloc|realloc|_int_|unlink_chunk|malloc_consolidate|tcache|__libc_(malloc|free|calloc|realloc)|memalign|posix_memalign|aligned_alloc)/;
const NODE_C = /node::|^uv_|^uv__|llhttp|nghttp|^ada::|simdutf|^ares_|^cares/;

/**
 * The category of one sample, from its shared object and symbol as `perf report` names them. Node
 * links OpenSSL into its binary: there, what is neither V8 nor Node's own code (nor a PLT stub) is
 * counted as OpenSSL (Node's other bundled C libraries, zlib and brotli, do not run on this path).
 */
function perfCategory(dso: string, symbol: string): PerfCategory {
  if (symbol.startsWith('[k]')) return 'kernel';
  const name = symbol.replace(/^\[[.kgu]\]\s*/, '');
  if (/^\[JIT\]|^perf-\d+\.map$|^\[unknown\]$/.test(dso) || name.startsWith('JS:') || name.startsWith('LazyCompile:')) return 'JIT-compiled JavaScript';
  if (/^libc\.so/.test(dso)) return MALLOC.test(name) ? 'malloc/free (glibc)' : 'other libc';
  if (/^libstdc\+\+/.test(dso)) return /^operator (new|delete)/.test(name) ? 'malloc/free (glibc)' : 'other';
  if (/^libcrypto|^libssl/.test(dso)) return 'OpenSSL';
  if (dso === 'node' || dso.endsWith('/node')) {
    if (name.startsWith('Builtins_')) return 'V8 builtins (interpreter, ICs)';
    if (/@plt$/.test(name)) return MALLOC.test(name) ? 'malloc/free (glibc)' : 'other libc';
    if (/v8::|cppgc::|heap::base|icu_\d+|^Heap_/.test(name)) return 'V8 runtime, GC, compiler';
    if (NODE_C.test(name)) return 'Node C++ and libuv';
    return 'OpenSSL';
  }
  return 'other';
}

/** Samples every thread of `pids` for `seconds` into `file` (cpu-clock at 999 Hz). */
export function recordPerf(pids: readonly number[], seconds: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('perf', ['record', '-q', '-F', '999', '-p', pids.join(','), '-o', file, '--', 'sleep', String(seconds)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`perf record exited with ${code}: ${err.trim().split('\n').slice(-2).join(' ')}`));
    });
  });
}

/** Thread id → process id for every thread the processes have now (perf reports threads by their own id). */
export function threadsOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(Number(tid), pid);
    } catch {
      out.set(pid, pid); // gone already: its main thread at least
    }
  }
  return out;
}

/** Per process (of `threads`), the number of samples in each category. */
export function perfSamplesByCategory(file: string, threads: ReadonlyMap<number, number>): Map<number, Map<PerfCategory, number>> {
  const SEP = '\x1f';
  const r = spawnSync('perf', ['report', '-i', file, '--sort', 'pid,dso,sym', '--stdio', '--no-children', '-q', '-n', '-t', SEP], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`perf report exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  const out = new Map<number, Map<PerfCategory, number>>();
  for (const line of r.stdout.split('\n')) {
    const [, samples, pidComm, dso, symbol] = line.split(SEP).map((f) => f.trim());
    const pid = threads.get(Number.parseInt(pidComm ?? '', 10));
    const n = Number.parseInt(samples ?? '', 10);
    if (pid === undefined || !Number.isFinite(n) || dso === undefined || symbol === undefined) continue;
    const byCategory = out.get(pid) ?? new Map<PerfCategory, number>();
    const c = perfCategory(dso, symbol);
    byCategory.set(c, (byCategory.get(c) ?? 0) + n);
    out.set(pid, byCategory);
  }
  return out;
}

/** One target's CPU µs per unit split by category: its samples' shares times its measured µs per unit. */
export function usPerUnitByCategory(samples: Map<PerfCategory, number> | undefined, usPerUnit: number): Map<PerfCategory, number> {
  const total = [...(samples?.values() ?? [])].reduce((a, b) => a + b, 0);
  const out = new Map<PerfCategory, number>();
  for (const c of PERF_CATEGORIES) out.set(c, total === 0 ? 0 : ((samples?.get(c) ?? 0) / total) * usPerUnit);
  return out;
}
