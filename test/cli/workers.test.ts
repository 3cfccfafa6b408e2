// The `--workers` primary as a supervisor, with stand-in workers whose start is scripted: a worker
// that ends after it was ready is started again; one that ends at start with a configuration error
// (exit 2) stops the edge with 2; one that keeps ending before it is ready stops it with 1. The
// primary is the real runPrimary in a child process; every process is stopped, also on failure.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../support/waits.js';

const dist = (file: string): string => pathToFileURL(resolve('dist/src/cli', file)).href;

/** A worker per FAKE_PLAN: `config-error` / `never-ready` / `dies-after-ready` apply to worker 1; the others get ready and stay. */
const FAKE_WORKER = `
import { WORKER_ENV, WORKER_READY } from ${JSON.stringify(dist('workerNumber.js'))};
const n = Number(process.env[WORKER_ENV]);
const plan = n === 1 ? process.env.FAKE_PLAN : 'ready';
console.log('fake worker ' + n + ' up');
if (plan === 'config-error') process.exit(2);
if (plan === 'never-ready') process.exit(1);
process.send(WORKER_READY);
if (plan === 'dies-after-ready') setTimeout(() => process.exit(1), 100);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`;

const PRIMARY = `
import cluster from 'node:cluster';
import { runPrimary } from ${JSON.stringify(dist('workers.js'))};
cluster.setupPrimary({ exec: process.argv[2] });
runPrimary(2, false, { exitWithParent: true }, process.ppid);
`;

interface Primary {
  child: ChildProcess;
  output: string[];
  exit: Promise<number | null>;
}

describe('CLI: the --workers primary supervises its workers', function () {
  this.timeout(30_000);
  let dir = '';
  let primary: Primary | null = null;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-supervise-'));
    writeFileSync(join(dir, 'worker.mjs'), FAKE_WORKER);
    writeFileSync(join(dir, 'primary.mjs'), PRIMARY);
  });

  afterEach(async () => {
    // Also when a test failed: SIGTERM (the primary stops its workers), SIGKILL after 5 s.
    const p = primary;
    primary = null;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    await Promise.race([p.exit, new Promise((r) => setTimeout(r, 5000))]);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (plan: string): Primary => {
    const child = spawn(process.execPath, [join(dir, 'primary.mjs'), join(dir, 'worker.mjs')], { env: { ...process.env, FAKE_PLAN: plan }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const collect = (chunk: Buffer): void => void output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, output, exit };
  };

  /** The primary's exit code, or 'running' when it has not exited within `ms`. */
  const exitWithin = (p: Primary, ms: number): Promise<number | null | 'running'> => Promise.race([p.exit, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);

  it('a worker that exits 2 before it was ever ready: the edge stops with exit 2, without starting it again', async () => {
    primary = start('config-error');
    expect(await exitWithin(primary, 10_000), primary.output.join('\n')).to.equal(2);
    expect(primary.output.filter((l) => l === 'fake worker 1 up'), primary.output.join('\n')).to.have.length(1);
    expect(primary.output).to.include('mtls-edge: worker 1 stopped at start with a configuration error (exit 2); stopping the edge');
    expect(primary.output.join('\n')).to.not.include('starting it again');
  });

  it('a worker that keeps exiting before it is ready: five starts, then the edge stops with exit 1 and says so', async () => {
    primary = start('never-ready');
    expect(await exitWithin(primary, 15_000), primary.output.join('\n')).to.equal(1);
    expect(primary.output.filter((l) => l === 'fake worker 1 up'), primary.output.join('\n')).to.have.length(5);
    expect(primary.output).to.include('mtls-edge: worker 1 exited 5 times in a row before it was ready (last: 1); stopping the edge: its messages above say why');
  });

  it('a worker that exits after it was ready is started again, as often as it takes; SIGTERM then stops the edge with 0', async () => {
    primary = start('dies-after-ready');
    const p = primary;
    const ups = (): number => p.output.filter((l) => l === 'fake worker 1 up').length;
    expect(await waitFor(() => ups() >= 7, 15_000), p.output.join('\n')).to.equal(true);
    expect(p.child.exitCode).to.equal(null);
    expect(p.output.filter((l) => /^mtls-edge: worker 1 exited \(1\); starting it again$/.test(l)).length).to.be.at.least(6);
    p.child.kill('SIGTERM');
    expect(await exitWithin(p, 10_000)).to.equal(0);
  });
});
