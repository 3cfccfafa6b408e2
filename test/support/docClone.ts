// A throw-away copy of the working tree in which the doc walk runs the docs' commands, and the
// processes those commands start. Every command runs in its own process group, so whatever it
// leaves behind (a server started with `&`, a child npm did not pass a signal to) is found by
// process group id and stopped; a command that leaves something running fails. A group is
// signalled only while a member carries the clone's mark (test/support/processes.ts): a group
// number can be someone else's once the group has emptied.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ProcessMark } from './processes.js';

export interface Clone {
  /** The copy of the working tree: where every command runs. */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly background: Background[];
  readonly tmp: string;
  /** In the environment of every process the walk starts. */
  readonly mark: ProcessMark;
}

export interface Background {
  readonly command: string;
  readonly pgid: number;
  output(): string;
  exited(): boolean;
}

export interface Ran {
  readonly code: number | null;
  readonly output: string;
  /** Process-list lines of what the command left running in its process group (stopped since). */
  readonly leftRunning: readonly string[];
}

const OUTPUT_KEEP = 64 * 1024;

/**
 * Copies the tracked and untracked-but-not-ignored files of `root` (so uncommitted doc edits are
 * walked too) to a temp folder, links node_modules and dist/ from `root` (no npm install; dist is
 * built by `npm test` before mocha starts), and puts two shims first on PATH: `mtls-edge` (this
 * checkout's bin/mtls-edge.js, which the README says `mtls-edge` stands for) and `npm`, whose `install`/`ci` with
 * no arguments only says that the clone shares the repository's node_modules.
 */
export function makeClone(root: string): Clone {
  const tmp = mkdtempSync(join(tmpdir(), 'mtls-edge-walk-'));
  const dir = join(tmp, 'mtls-edge');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(root, f)) || f === 'node_modules') continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(join(root, 'dist'), join(dir, 'dist'));
  const shims = join(tmp, 'bin');
  mkdirSync(shims);
  const realNpm = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  writeShim(join(shims, 'mtls-edge'), `exec "${process.execPath}" "${join(dir, 'bin/mtls-edge.js')}" "$@"`);
  writeShim(join(shims, 'npm'), [
    'if { [ "$1" = install ] || [ "$1" = ci ] || [ "$1" = i ]; } && [ $# -eq 1 ]; then',
    '  echo "walk: npm $1 skipped: node_modules is linked from the repository, dist/ built by npm test"; exit 0',
    'fi',
    `exec "${realNpm}" "$@"`,
  ].join('\n'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MTLS_EDGE_') && !k.startsWith('npm_')) env[k] = v;
  }
  env.PATH = `${shims}:${process.env.PATH ?? ''}`;
  // npm's cache inside the temp folder: `npx` in a doc line links the copy into the cache, and
  // that must go with the copy; no update check against the registry.
  env.npm_config_cache = join(tmp, 'npm-cache');
  env.npm_config_update_notifier = 'false';
  const mark = new ProcessMark();
  return { dir, env: mark.env(env), background: [], tmp, mark };
}

function writeShim(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

function spawnGroup(clone: Clone, command: string, withStdin: boolean): ReturnType<typeof spawn> {
  return spawn('bash', ['-o', 'pipefail', '-c', command], {
    cwd: clone.dir, env: clone.env, detached: true, stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
}

/** The clone's process group `pgid` still has a running member (zombies do not count). */
function groupRuns(clone: Clone, pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  return clone.mark.ownsGroup(pgid);
}

function groupMembers(pgid: number): string[] {
  const ps = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return ps.split('\n').map((l) => l.trim()).filter((l) => l.split(/\s+/)[1] === String(pgid));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How long the walk waits for something that must happen (a group to drain after its command
 * ended, a stopped group to go, a log line, a reply typed into stdin). A bound on waiting, not a
 * speed check: the wait ends as soon as the condition holds, and only a condition still false
 * after this long fails (CI machines with 2 busy cores drain slowly).
 */
export const WAIT_BOUND_MS = 30_000;

/** Polls `condition` every 50 ms until it holds or `ms` passed; its last value. */
export async function waitFor(condition: () => boolean, ms = WAIT_BOUND_MS): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * SIGTERM to the group, SIGKILL after 5 s, each only while the group is still the clone's; true
 * when the group was gone after SIGTERM alone.
 */
async function stopGroup(clone: Clone, pgid: number): Promise<boolean> {
  const ours = (): boolean => groupRuns(clone, pgid);
  if (!ours()) return true;
  try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone meanwhile */ }
  // 5 s of grace only decides which signal is reported; a slow drain is not a failure.
  if (await waitFor(() => !ours(), 5_000)) return true;
  if (ours()) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  await waitFor(() => !ours());
  return false;
}

export interface RunOptions {
  /**
   * Typed into the command. With `until`, stdin stays open until the output matches (or the
   * command ends, or WAIT_BOUND_MS pass): `openssl s_client` hangs up when stdin ends, before the
   * reply has arrived. Without `until`, stdin ends right after the text, as in a pipe.
   */
  readonly stdin?: string;
  readonly until?: RegExp;
  readonly timeoutMs?: number;
}

/** Runs `command` with bash in the clone; waits for it and checks its process group is empty. */
export async function runCommand(clone: Clone, command: string, opts: RunOptions = {}): Promise<Ran> {
  const child = spawnGroup(clone, command, opts.stdin !== undefined);
  const pgid = child.pid!;
  let output = '';
  const onData = (d: Buffer): void => { output = (output + d.toString()).slice(-OUTPUT_KEEP); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  if (opts.stdin !== undefined) {
    child.stdin!.on('error', () => { /* the command may exit before reading */ });
    child.stdin!.write(opts.stdin);
    void (async () => {
      const until = opts.until;
      if (until) {
        await waitFor(() => child.exitCode !== null || child.signalCode !== null || until.test(output));
        await sleep(200);
      }
      child.stdin!.end();
    })();
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs).then(() => true)]);
  if (timedOut) {
    await stopGroup(clone, pgid);
    throw new Error(`\`${command}\` did not end within ${timeoutMs / 1000} s (stopped); output:\n${output.slice(-2000)}`);
  }
  // A process told to stop as the command's last act (`kill "$(cat edge.pid)"`) may still be
  // draining: it counts as left behind only if the group is not empty after WAIT_BOUND_MS.
  const drained = await waitFor(() => !groupRuns(clone, pgid));
  const leftRunning = drained ? [] : groupMembers(pgid);
  if (leftRunning.length) await stopGroup(clone, pgid);
  // The group is gone, so its pipes are closed: the rest of the output arrives with 'close'
  // (bounded: a process that left the group with setsid could still hold them).
  await Promise.race([closed, sleep(WAIT_BOUND_MS)]);
  return { code: await exited, output, leftRunning };
}

export interface Readiness {
  readonly text?: string | RegExp;
  readonly port?: number;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Starts `command` in the background and waits (30 s at most) until it is ready. */
export async function startBackground(clone: Clone, command: string, ready: Readiness): Promise<Background> {
  const child = spawnGroup(clone, command, false);
  let output = '';
  let ended = false;
  const onData = (d: Buffer): void => { output = (output + d.toString()).slice(-OUTPUT_KEEP); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.once('exit', () => { ended = true; });
  const bg: Background = { command, pgid: child.pid!, output: () => output, exited: () => ended };
  clone.background.push(bg);
  const isReady = async (): Promise<boolean> => {
    if (ready.text !== undefined && !(typeof ready.text === 'string' ? output.includes(ready.text) : ready.text.test(output))) return false;
    return ready.port === undefined || portAccepts(ready.port);
  };
  for (let i = 0; i < 300; i++) {
    if (await isReady()) return bg;
    if (ended) throw new Error(`background \`${command}\` ended before it was ready; output:\n${output.slice(-2000)}`);
    await sleep(100);
  }
  throw new Error(`background \`${command}\` not ready within 30 s (waiting for ${ready.text ?? `port ${ready.port}`}); output:\n${output.slice(-2000)}`);
}

/**
 * Stops every background process group (SIGTERM, SIGKILL after 5 s), then checks by process
 * group id that none is left. Returns one line per process; throws when a group survived.
 */
export async function stopBackground(clone: Clone): Promise<string[]> {
  const report: string[] = [];
  const survivors: string[] = [];
  for (const bg of clone.background.splice(0)) {
    const clean = await stopGroup(clone, bg.pgid);
    report.push(`stopped \`${bg.command}\` (process group ${bg.pgid}) ${clean ? 'with SIGTERM' : 'only with SIGKILL'}`);
    if (groupRuns(clone, bg.pgid)) survivors.push(...groupMembers(bg.pgid));
  }
  if (survivors.length) throw new Error(`still running after SIGKILL:\n${survivors.join('\n')}`);
  return report;
}

/** True when nothing listens on `port` (checked by binding it on all addresses). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function removeClone(clone: Clone): void {
  rmSync(clone.tmp, { recursive: true, force: true });
}
