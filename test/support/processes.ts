// Processes a test starts through scripts and launchers, which it cannot stop through a child
// handle: free ports to hand them, their PIDs checked, every process still mentioning a test's
// folder found (and killed in cleanup).
import { execFileSync, spawn } from 'node:child_process';
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

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls every 50 ms until the process is gone; false if it still runs after `ms`. */
export async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isRunning(pid);
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

/** SIGKILL for each PID still running (cleanup after a failed test). */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
}

export interface ScriptRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a command in its own process group, stdout and stderr collected together; after `timeoutMs`
 * the whole group is killed and the run ends with code null.
 */
export function runInGroup(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
