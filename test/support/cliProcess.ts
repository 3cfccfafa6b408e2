// The real CLI as a child process for tests: started, its output lines collected, stopped with
// SIGTERM (SIGKILL after 5 s) also when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface EdgeProcess {
  child: ChildProcess;
  lines: string[];
  httpsPort: number;
}

/** `openFiles`: the open-files limit (soft and hard) the edge runs under, set by bash's ulimit; `env`: its environment (default: this process's). */
export function startCli(args: string[], cwd: string, nodeArgs: string[] = [], opts: { openFiles?: number; env?: NodeJS.ProcessEnv } = {}): Promise<EdgeProcess> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, ...nodeArgs, join(process.cwd(), 'bin/mtls-edge.js'), 'start', ...args];
    // `exec` keeps the PID, so the SIGTERM of stopCli reaches node itself.
    const child =
      opts.openFiles === undefined
        ? spawn(command[0]!, command.slice(1), { cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('bash', ['-c', `ulimit -n ${opts.openFiles} && exec "$@"`, 'bash', ...command], { cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const timer = setTimeout(() => reject(new Error(`edge did not get ready: ${lines.join('\n')}`)), 15_000);
    const onLine = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        const m = /"https":"https:\/\/localhost:(\d+)"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ child, lines, httpsPort: Number(m[1]) });
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`edge exited with ${code}: ${lines.join('\n')}`));
    });
  });
}

export async function waitForLine(p: EdgeProcess, re: RegExp, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = p.lines.find((l) => re.test(l));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${ms} ms:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}


/** Sends SIGTERM, waits up to 5 s for the exit, then SIGKILL. Resolves with the exit code. */
export async function stopCli(p: EdgeProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
  p.child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
  if (p.child.exitCode === null) p.child.kill('SIGKILL');
  return code;
}
