// An edge in its own process, for tests that must see a crash as a crash: an uncaught exception
// kills this process (its stack goes to stderr), not the mocha process. Started by
// startEdgeChild(); prints `READY <httpsPort>` once listening and runs until SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/startFlags.js';
import { startEdge } from '../../src/edge/edge.js';
import { EventBus } from '../../src/observe/events.js';

export interface EdgeChild {
  readonly httpsPort: number;
  /** Exit code or signal once the process has ended; null while it runs. */
  exited(): string | null;
  /** The last 32 KB the process wrote to stderr (a crash's stack). */
  stderrTail(): string;
  /** Faults the edge contained (connection-error events: a connection ended by an exception), oldest first. */
  faults(): readonly string[];
  stop(): Promise<void>;
}

const STDERR_KEEP = 32 * 1024;

/** Starts an edge child on 127.0.0.1, port 0, with the given PKI folder and overrides. */
export function startEdgeChild(pkiDir: string, overrides: ConfigOverrides, timeoutMs = 15_000): Promise<EdgeChild> {
  const script = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, [script, JSON.stringify({ pkiDir, overrides })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let exit: string | null = null;
  const faults: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
  });
  const ended = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = signal ?? `exit code ${code}`;
    resolve();
  }));
  return new Promise((resolve, reject) => {
    let out = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`edge child did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      // Every complete line after READY is a contained fault (main() below prints them).
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('FAULT ')) faults.push(line.slice(6));
      if (ready) return;
      const m = /^READY (\d+)$/m.exec(lines.join('\n'));
      if (!m) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        httpsPort: Number(m[1]),
        exited: () => exit,
        stderrTail: () => stderr,
        faults: () => faults,
        stop: async () => {
          if (exit === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await ended;
          clearTimeout(killer);
        },
      });
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`edge child exited before it was ready (${exit}):\n${stderr}`));
    });
  });
}

async function main(arg: string): Promise<void> {
  const { pkiDir, overrides } = JSON.parse(arg) as { pkiDir: string; overrides: ConfigOverrides };
  const loaded = await loadConfig({
    overrides: { httpsPort: 0, httpPort: -1, bind: '127.0.0.1', pkiDir, admin: false, logLevel: 'error', accessLog: 'off', ...overrides },
  });
  const bus = new EventBus();
  // A contained fault keeps the process alive, so it is reported here to be seen as the bug it is.
  bus.subscribe({
    emit: (e) => {
      if (e.kind === 'connection-error') process.stdout.write(`FAULT ${JSON.stringify({ stage: e.stage, message: e.message, stack: e.stack })}\n`);
    },
  });
  const edge = await startEdge(loaded.config, loaded.resolved, bus);
  process.once('SIGTERM', () => {
    void edge.close(1000).then(() => process.exit(0));
  });
  process.stdout.write(`READY ${edge.httpsPort}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv[2] ?? '{}').catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
