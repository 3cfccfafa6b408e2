// `npm start` to ready, with the dev PKI already present (issue target: under 1 s).
// Runs the real CLI N times on free ports and prints median and max milliseconds to the ready line.
import { spawn } from 'node:child_process';
import { EDGE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.env.STARTUP_RUNS ?? 7);
const bin = join(process.cwd(), 'bin/mtls-edge.js');
const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-startup-'));

function once(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [...EDGE_NODE_FLAGS, bin, 'start', '--https-port', '0', '--http-port', '0', '--admin-port', '0', '--log-format', 'json'], { cwd: dir });
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
  for (let i = 0; i < runs; i++) times.push(await once());
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`startup: first run (generates the dev PKI) ${first.toFixed(0)} ms`);
  console.log(`startup: ready with existing PKI: median ${median.toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms over ${runs} runs (target < 1000 ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
