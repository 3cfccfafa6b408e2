// Times `certs init` (the work `npm start` does on first run) on fresh temp folders.
// Usage: npm run bench:build && node dist-bench/bench/certsInit.bench.js [runs] [--with-failures]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../src/pki/devPki.js';

const runs = Math.max(1, Math.min(50, Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5)));
const withFailures = process.argv.includes('--with-failures');

const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = await mkdtemp(join(tmpdir(), 'mtls-edge-bench-'));
  try {
    const t0 = process.hrtime.bigint();
    await ensureDevPki(join(dir, 'certs'), { withFailures });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
times.sort((a, b) => a - b);
const median = times.length % 2 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
console.log(`certs init${withFailures ? ' --with-failures' : ''}: ${runs} runs, median ${median.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms`);
