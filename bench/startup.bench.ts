// `npm start` to ready, with the dev PKI already present (issue target: under 1 s).
// Runs the real CLI N times on free ports and prints median and max milliseconds to the ready line.
// `--compare DIR` also runs DIR's built checkout (e.g. a `git worktree` of an older commit with
// node_modules and `npx tsc -p .`), interleaved run by run, so both see the same machine.
//   npm run bench:build && node dist-bench/bench/startup.bench.js [--compare DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './pairing.js';
import { REPO } from './paths.js';

const runs = Number(process.env.STARTUP_RUNS ?? 7);
const bin = join(REPO, 'bin/mtls-edge.js');
const compareAt = process.argv.indexOf('--compare');
const compareBin = compareAt > 0 && process.argv[compareAt + 1] ? join(resolve(process.argv[compareAt + 1]!), 'bin/mtls-edge.js') : null;
const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-startup-'));

function once(binPath = bin): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [binPath, 'start', '--https-port', '0', '--http-port', '0', '--admin-port', '0', '--log-format', 'json'], { cwd: dir });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('not ready within 20 s'));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('"mtls-edge ready"')) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        clearTimeout(timer);
        child.once('exit', () => resolve(ms));
        child.kill('SIGTERM');
      }
    });
  });
}

try {
  const first = await once(); // generates the PKI
  const times: number[] = [];
  const compared: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternating which one goes first spreads any drift of the machine over both.
    if (compareBin && i % 2 === 0) compared.push(await once(compareBin));
    times.push(await once());
    if (compareBin && i % 2 === 1) compared.push(await once(compareBin));
  }
  const max = (xs: readonly number[]): number => Math.max(...xs);
  console.log(`startup: first run (generates the dev PKI) ${first.toFixed(0)} ms`);
  console.log(`startup: ready with existing PKI: median ${median(times).toFixed(0)} ms, max ${max(times).toFixed(0)} ms over ${runs} runs (target < 1000 ms)`);
  if (compareBin) console.log(`startup: ${compareBin}, interleaved: median ${median(compared).toFixed(0)} ms, max ${max(compared).toFixed(0)} ms over ${runs} runs`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
