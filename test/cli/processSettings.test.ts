// --pid-file and --exit-with-parent (issue 21 item 1): a script can stop the edge without a signal
// having to travel through npm. The edge runs as the real CLI in a child process (or under a
// launcher: a node parent, or npm itself), always on free ports. Every process a test starts carries
// its mark; cleanup signals only marked processes, never a PID read earlier (it may be reused).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
