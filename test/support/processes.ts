// Processes a test starts through scripts and launchers, which it cannot stop through a child
// handle: free ports to hand them, a mark that tells them apart from everyone else's processes,
// every process still mentioning a test's folder found.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picked it; the test hands it to a script). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PIDs (other than this process) whose command line contains `text` (ps; Linux and macOS). */
export function processesMentioning(text: string): { pid: number; args: string }[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.includes(text))
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }))
    .filter((p) => p.pid !== process.pid && !p.args.startsWith('ps '));
}

const MARK_VARIABLE = 'TEST_PROCESS_OWNER';

/** The process group of `pid` (/proc/<pid>/stat: the fields after the command name are state, ppid, pgrp). */
function groupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}
const hasProc = existsSync('/proc/self/environ');

/**
 * A mark for the processes one test starts: an environment variable with a random value, which
 * every descendant inherits (node, bash, npm and its `sh -c` pass the environment on). A PID
 * printed or seen earlier may belong to someone else by now (PIDs are reused); a process whose
 * /proc/<pid>/environ holds the mark is provably the test's. Without /proc (macOS) nothing is
 * provably the test's: nothing is signalled, and "still running" falls back to the PID alone.
 */
export class ProcessMark {
  private readonly entry = `${MARK_VARIABLE}=${randomUUID()}`;

  /** `env` plus the mark: pass it to every process the test starts. */
  env(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const [name, value] = this.entry.split('=') as [string, string];
    return { ...env, [name]: value };
  }

  /** True when `pid` runs and carries the mark (read now; a zombie has no environment left). */
  owns(pid: number): boolean {
    if (!hasProc || pid <= 0) return false;
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(this.entry);
    } catch {
      return false; // gone, or another user's process
    }
  }

  /** For assertions: the process started as `pid` still runs (with /proc: the PID still carries the mark). */
  stillRunning(pid: number): boolean {
    return hasProc ? this.owns(pid) : isRunning(pid);
  }

  /** Every running process that carries the mark. */
  processes(): number[] {
    if (!hasProc) return [];
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => pid !== process.pid && this.owns(pid));
  }

  /**
   * True when process group `pgid` has a member that carries the mark: then the group is the one
   * the test made (its number is not reused while it has members). Without /proc: the group exists.
   */
  ownsGroup(pgid: number): boolean {
    if (!hasProc) return isRunning(-pgid);
    return this.processes().some((pid) => groupOf(pid) === pgid);
  }

  /** SIGKILL to every process that carries the mark, each checked right before its signal. */
  killAll(): void {
    for (const pid of this.processes()) {
      try {
        if (this.owns(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }

  /** Polls every 50 ms until the process started as `pid` is gone; false if it still runs after `ms`. */
  async waitUntilGone(pid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!this.stillRunning(pid)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !this.stillRunning(pid);
  }
}

export interface ScriptRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a command in its own process group, marked with `mark`, stdout and stderr collected
 * together; after `timeoutMs` the run ends with code null and every process of it is killed: the
 * whole group while its leader is still the child (its PID cannot have been reused), every
 * marked process in any case.
 */
export function runInGroup(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; mark: ProcessMark; timeoutMs: number }): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.mark.env(opts.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // The group is already gone.
        }
      }
      opts.mark.killAll();
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
