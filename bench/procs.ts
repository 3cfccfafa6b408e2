// Child processes of the benchmark: optionally pinned to a CPU with taskset, all tracked so that a
// normal end, an exception or Ctrl-C stops every one of them (by pid, never by name).
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { canConnect, freePort } from '../test/parity/haproxy.js';
import { benchScript } from './paths.js';

const live = new Set<ChildProcess>();
let hooked = false;

export const HAVE_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping ${live.size} child process(es)\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** SIGKILL every child still running (synchronous: safe in an exit handler). */
export function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code; SIGTERM first, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  exited(): Promise<number | null>;
}

export function start(cmd: string, args: readonly string[], opts: { cpu?: number; stdio?: StdioOptions; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  hook();
  const pinned = opts.cpu !== undefined && HAVE_TASKSET;
  const child = pinned ? spawn('taskset', ['-c', String(opts.cpu), cmd, ...args], { stdio: opts.stdio ?? 'pipe', env: opts.env, cwd: opts.cwd }) : spawn(cmd, args, { stdio: opts.stdio ?? 'pipe', env: opts.env, cwd: opts.cwd });
  live.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  let code: number | null | undefined;
  const exitP = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      live.delete(child);
      resolve(c);
    }),
  );
  child.once('error', () => {
    live.delete(child);
  });
  return {
    child,
    // taskset execs the program, so the pid is the program's.
    pid: child.pid ?? -1,
    output: () => out,
    exited: () => exitP,
    async stop(graceMs = 5000) {
      if (code !== undefined) return code;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const c = await exitP;
      clearTimeout(t);
      return c;
    },
  };
}

/** Runs a command to completion (bounded by timeoutMs), returning its output. */
export function run(cmd: string, args: readonly string[], opts: { cpu?: number; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(cmd, args, { cpu: opts.cpu, env: opts.env });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs);
  // 'close', not 'exit': a child's last output can still be in its pipes when 'exit' fires (ab's
  // report went missing that way: "ab failed (exit 0)").
  const closed = new Promise<void>((resolve) => p.child.once('close', () => resolve()));
  return Promise.all([p.exited(), closed]).then(([code]) => {
    clearTimeout(timer);
    return { code, stdout, stderr };
  });
}

/** Waits until the process prints a line matching `re` (or fails after timeoutMs). */
export function waitForOutput(p: Proc, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => finish(new Error(`no output matching ${re} within ${timeoutMs} ms:\n${p.output()}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) finish(null, m);
    };
    const onExit = (c: number | null): void => finish(new Error(`process exited (${c}) before printing ${re}:\n${p.output()}`));
    function finish(err: Error | null, m?: RegExpExecArray): void {
      clearTimeout(timer);
      p.child.stdout?.off('data', onData);
      p.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    p.child.stdout?.on('data', onData);
    p.child.once('exit', onExit);
  });
}


export async function waitForPort(port: number, p: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void p.exited().then(() => (exited = true));
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (exited) throw new Error(`process exited before listening on ${port}:\n${p.output()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms:\n${p.output()}`);
}

/** VmRSS in MiB of the given pids, summed (nginx: master + worker). */
export function rssMiB(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

/**
 * How long after the last idle connection is up the "settled" RSS is read. V8 collects the garbage
 * of the connection burst when its memory reducer runs, about ten seconds after allocation stops (a
 * Node process drops ≈10 MiB there, with 1,000 connections); HAProxy and nginx do not move.
 */
export const IDLE_SETTLE_MS = 16_000;

/** RSS one second after the idle connections are up, and once settled (IDLE_SETTLE_MS). */
export async function idleRssReadings(pids: () => readonly number[]): Promise<{ at1s: number; settled: number }> {
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  await pause(1000);
  const at1s = rssMiB(pids());
  await pause(IDLE_SETTLE_MS - 1000);
  return { at1s, settled: rssMiB(pids()) };
}

/** Direct children of a pid (from /proc), e.g. nginx workers. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** utime and stime of the given processes, in clock ticks (/proc/PID/stat fields 14 and 15). */
export function processTicksSplit(pids: readonly number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(fields[11]);
      system += Number(fields[12]);
    } catch {
      // A process that exited contributes nothing more.
    }
  }
  return { user, system };
}

/** utime + stime of the given processes, in clock ticks. */
export function processTicks(pids: readonly number[]): number {
  const t = processTicksSplit(pids);
  return t.user + t.system;
}
/**
 * CPU ticks (user + system) of the process's main thread alone: the JavaScript thread, without
 * V8's compiler and GC helper threads, which /proc/PID/stat adds in. 0 once the process exited.
 */
export function mainThreadTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
/** Minor page faults of the given processes (/proc/PID/stat field 10): memory the kernel had to map. */
export function minorFaults(pids: readonly number[]): number {
  let faults = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      faults += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
    } catch {
      // A process that exited contributes nothing more.
    }
  }
  return faults;
}
export const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux

/** The bench's echo upstream (bench/echoProcess.ts) on a free port, pinned to `cpu`, once it listens. */
export async function startEchoUpstream(cpu: number): Promise<{ port: number; proc: Proc }> {
  const port = await freePort();
  const proc = start(process.execPath, [benchScript('echoProcess.js'), String(port)], { cpu });
  await waitForOutput(proc, /ready \d+/, 15_000);
  return { port, proc };
}
