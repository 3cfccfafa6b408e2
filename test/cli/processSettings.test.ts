// --pid-file and --exit-with-parent (issue 21 item 1): a script can stop the edge without a signal
// having to travel through npm. The edge runs as the real CLI in a child process (or under a
// launcher: a node parent, or npm itself), always on free ports. Every process a test starts carries
// its mark; cleanup signals only marked processes, never a PID read earlier (it may be reused).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProcessMark } from '../support/processes.js';

const BIN = join(process.cwd(), 'bin/mtls-edge.js');
const QUIET_PORTS = ['--https-port', '0', '--http-port', '-1', '--admin-port', '0', '--bind', '127.0.0.1'];

/** Polls until the pid file holds a PID other than `stale` (bounded). */
async function pidFrom(file: string, stale?: number, ms = 30_000): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (/^\d+\n$/.test(text) && Number(text) !== stale) return Number(text);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no PID in ${file} after ${ms} ms`);
}

function exitOf(child: ChildProcess, ms = 30_000): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

(process.platform === 'win32' ? describe.skip : describe)('start: --pid-file and --exit-with-parent', function () {
  this.timeout(90_000);
  let dir = '';
  let pkiDir = '';
  let mark = new ProcessMark();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-pidfile-'));
    pkiDir = join(dir, 'certs');
  });
  afterEach(() => {
    mark.killAll();
    mark = new ProcessMark();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const edge = (args: string[]): ChildProcess => {
    return spawn(process.execPath, [BIN, 'start', ...QUIET_PORTS, '--pki-dir', pkiDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: mark.env() });
  };

  it('writes its PID once ready (0644) and removes the file on a clean stop', async () => {
    const pidFile = join(dir, 'clean.pid');
    const child = edge(['--pid-file', pidFile]);
    const exited = exitOf(child);
    expect(await pidFrom(pidFile)).to.equal(child.pid);
    expect(statSync(pidFile).mode & 0o777).to.equal(0o644);
    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).to.equal(0);
    expect(existsSync(pidFile), 'pid file removed').to.equal(false);
  });

  it('refuses to start while the PID in the file runs, and replaces a file whose PID is gone', async () => {
    const pidFile = join(dir, 'busy.pid');
    const first = edge(['--pid-file', pidFile]);
    const firstExit = exitOf(first);
    await pidFrom(pidFile);
    const second = await exitOf(edge(['--pid-file', pidFile]));
    expect(second.code).to.equal(1);
    expect(second.output).to.contain(`--pid-file ${pidFile}: process ${first.pid} named there is running`);
    expect(mark.stillRunning(first.pid!), 'the first edge runs on').to.equal(true);
    expect(readFileSync(pidFile, 'utf8')).to.equal(`${first.pid}\n`);
    first.kill('SIGKILL'); // as if killed hard: the file stays, naming a process that is gone
    await firstExit;
    expect(readFileSync(pidFile, 'utf8')).to.equal(`${first.pid}\n`);
    const third = edge(['--pid-file', pidFile]);
    const thirdExit = exitOf(third);
    expect(await pidFrom(pidFile, first.pid)).to.equal(third.pid);
    third.kill('SIGTERM');
    expect((await thirdExit).code).to.equal(0);
  });

  it('with --workers: the primary\'s PID, written once every worker is ready', async () => {
    const pidFile = join(dir, 'workers.pid');
    const child = edge(['--workers', '2', '--pid-file', pidFile]);
    const exited = exitOf(child);
    expect(await pidFrom(pidFile)).to.equal(child.pid);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code, result.output).to.equal(0);
    expect(existsSync(pidFile), 'pid file removed').to.equal(false);
  });

  it('with --workers: the ready line comes after every worker is ready and the pid file is written', async () => {
    const pidFile = join(dir, 'ready-order.pid');
    // Worker 2 starts late (a preload that waits, in worker 2 only): worker 1 is ready well before it.
    const slowWorker2 = join(dir, 'slow-worker-2.mjs');
    writeFileSync(slowWorker2, "if (process.env.MTLS_EDGE_WORKER === '2') await new Promise((r) => setTimeout(r, 3000));\n");
    const child = spawn(process.execPath, [BIN, 'start', ...QUIET_PORTS, '--pki-dir', pkiDir, '--workers', '2', '--pid-file', pidFile, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: mark.env({ ...process.env, NODE_OPTIONS: `--import=${pathToFileURL(slowWorker2).href}` }),
    });
    const pidFileAtReady = new Promise<boolean>((resolve) => {
      child.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('"msg":"mtls-edge ready"')) resolve(existsSync(pidFile));
      });
      child.once('exit', () => resolve(false));
    });
    const exited = exitOf(child);
    expect(await pidFileAtReady, 'the pid file exists when the ready line is printed').to.equal(true);
    expect(await pidFrom(pidFile)).to.equal(child.pid);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code, result.output).to.equal(0);
    expect(result.output.match(/"msg":"mtls-edge ready"/g), 'one ready line for the whole edge').to.have.length(1);
  });

  it('with --workers: a pid file it cannot write stops the workers and says so, naming the flag (exit 1)', async () => {
    const folder = join(dir, 'vanishing');
    mkdirSync(folder);
    const pidFile = join(folder, 'edge.pid');
    // Worker 1 cannot start while its admin port is held: the primary has checked the pid file by then.
    const held = createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const adminPort = (held.address() as { port: number }).port;
    const child = spawn(process.execPath, [BIN, 'start', '--https-port', '0', '--http-port', '-1', '--bind', '127.0.0.1', '--admin-port', String(adminPort), '--pki-dir', pkiDir, '--workers', '2', '--pid-file', pidFile], { stdio: ['ignore', 'pipe', 'pipe'], env: mark.env() });
    const restarting = new Promise<void>((resolve) => {
      child.stderr!.on('data', (b: Buffer) => b.toString().includes('worker 1 exited') && resolve());
      child.once('exit', () => resolve());
    });
    const exited = exitOf(child, 30_000);
    try {
      await restarting;
      rmSync(folder, { recursive: true });
    } finally {
      held.close();
    }
    const result = await exited;
    expect(result.code, result.output).to.equal(1);
    expect(result.output).to.contain(`mtls-edge: --pid-file ${pidFile}: cannot write it (ENOENT): choose another path`);
    expect(result.output, 'no stack trace').to.not.match(/^\s+at /m);
  });

  it('refuses a file that holds no PID, and a folder it cannot write to (exit 2, naming the flag)', async () => {
    const notAPidFile = join(dir, 'notes.txt');
    writeFileSync(notAPidFile, 'my notes\n');
    const notPid = await exitOf(edge(['--pid-file', notAPidFile]));
    expect(notPid.code).to.equal(2);
    expect(notPid.output).to.contain(`--pid-file ${notAPidFile}: the file exists and does not hold a PID`);
    expect(readFileSync(notAPidFile, 'utf8'), 'left as it was').to.equal('my notes\n');
    const noFolder = join(dir, 'missing', 'edge.pid');
    const missing = await exitOf(edge(['--pid-file', noFolder]));
    expect(missing.code).to.equal(2);
    expect(missing.output).to.contain(`--pid-file ${noFolder}: cannot write to the folder`);
  });

  it('never writes through a symlink planted at the temporary name (the victim keeps its content and 0600)', async () => {
    const pidFile = join(dir, 'planted.pid');
    const victim = join(dir, 'victim.key');
    writeFileSync(victim, 'SECRET KEY\n', { mode: 0o600 });
    chmodSync(victim, 0o600);
    const child = edge(['--pid-file', pidFile]);
    // The child has not loaded Node yet: its PID makes the temporary name a guessable one would have.
    symlinkSync(victim, `${pidFile}.${child.pid}.tmp`);
    const exited = exitOf(child);
    expect(await pidFrom(pidFile)).to.equal(child.pid);
    expect(lstatSync(pidFile).isFile(), 'the pid file is a file of its own').to.equal(true);
    expect(readFileSync(victim, 'utf8')).to.equal('SECRET KEY\n');
    expect(statSync(victim).mode & 0o777).to.equal(0o600);
    child.kill('SIGTERM');
    expect((await exited).code).to.equal(0);
    expect(readFileSync(victim, 'utf8'), 'the stop left the victim alone').to.equal('SECRET KEY\n');
  });

  it('refuses a pid file that is a symlink (exit 2, naming the flag), and leaves its target alone', async () => {
    const victim = join(dir, 'victim.pid');
    writeFileSync(victim, '999999\n', { mode: 0o600 });
    const link = join(dir, 'link.pid');
    symlinkSync(victim, link);
    const r = await exitOf(edge(['--pid-file', link]));
    expect(r.code, r.output).to.equal(2);
    expect(r.output).to.contain(`--pid-file ${link}: is a symlink`);
    expect(lstatSync(link).isSymbolicLink()).to.equal(true);
    expect(readFileSync(victim, 'utf8')).to.equal('999999\n');
  });

  it('--pid-file "" or a folder: says the flag needs a file path (exit 2)', async () => {
    const empty = await exitOf(edge(['--pid-file', '']));
    expect(empty.code, empty.output).to.equal(2);
    expect(empty.output).to.contain('--pid-file "": --pid-file needs a path');
    expect(empty.output).to.not.contain('EISDIR');
    const folder = await exitOf(edge(['--pid-file', dir]));
    expect(folder.code, folder.output).to.equal(2);
    expect(folder.output).to.contain(`--pid-file ${dir}: is a folder: --pid-file needs a file path`);
  });

  (existsSync('/proc/self/cmdline') ? it : it.skip)('replaces a file whose PID the system gave to a process that is not an edge (Linux: /proc)', async () => {
    const pidFile = join(dir, 'reused.pid');
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore', env: mark.env() });
    writeFileSync(pidFile, `${unrelated.pid}\n`);
    const child = edge(['--pid-file', pidFile]);
    const exited = exitOf(child);
    expect(await pidFrom(pidFile, unrelated.pid)).to.equal(child.pid);
    expect(mark.stillRunning(unrelated.pid!), 'the unrelated process is left alone').to.equal(true);
    child.kill('SIGTERM');
    expect((await exited).code).to.equal(0);
  });

  it('--exit-with-parent: a parent killed with SIGKILL takes the edge with it', async () => {
    const pidFile = join(dir, 'orphan.pid');
    // An npm-like parent: it starts the edge and waits; SIGKILL gives it no chance to pass anything on.
    const launcherCode = `require('node:child_process').spawn(process.execPath, ${JSON.stringify([BIN, 'start', ...QUIET_PORTS, '--pki-dir', pkiDir, '--pid-file', pidFile, '--exit-with-parent'])}, { stdio: 'ignore' }); setInterval(() => {}, 1000);`;
    const launcher = spawn(process.execPath, ['-e', launcherCode], { stdio: 'ignore', env: mark.env() });
    const edgePid = await pidFrom(pidFile);
    launcher.kill('SIGKILL');
    expect(await mark.waitUntilGone(edgePid, 30_000), 'the edge ended with its parent').to.equal(true);
    expect(existsSync(pidFile), 'a clean stop: pid file removed').to.equal(false);
  });

  it('--exit-with-parent under `npm start`: a SIGTERM to npm ends the edge', async () => {
    const pidFile = join(dir, 'npm.pid');
    const npm = spawn('npm', ['start', '--silent', '--', ...QUIET_PORTS, '--pki-dir', pkiDir, '--pid-file', pidFile, '--exit-with-parent'], {
      stdio: 'ignore',
      env: mark.env({ ...process.env, npm_config_update_notifier: 'false' }),
    });
    const edgePid = await pidFrom(pidFile);
    expect(edgePid, 'npm runs the edge in a child process').to.not.equal(npm.pid);
    npm.kill('SIGTERM');
    expect(await mark.waitUntilGone(edgePid, 30_000), 'the edge ended').to.equal(true);
  });
});
