// Runs the system `openssl` binary without a shell. Arguments never carry secrets: passwords go
// through `env:` references, so neither `ps` nor an error message can show them.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

export class OpensslError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'OpensslError';
  }
}

export interface OpensslOptions {
  input?: Buffer | string;
  /** Extra environment variables, e.g. a password read with `pass env:VAR`. */
  env?: Record<string, string>;
  cwd?: string;
  /** Resolve with the exit code instead of rejecting when openssl fails (e.g. `verify`). */
  allowFailure?: boolean;
  timeoutMs?: number;
}

const OPENSSL = process.env.MTLS_EDGE_OPENSSL ?? 'openssl';

export function openssl(args: readonly string[], opts: OpensslOptions = {}): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      OPENSSL,
      [...args],
      {
        encoding: 'buffer',
        maxBuffer: 32 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 30_000,
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
      },
      (error, stdout, stderrBuf) => {
        const stderr = stderrBuf.toString('utf8');
        if (error) {
          const code = typeof error.code === 'number' ? error.code : -1;
          if (error.code === 'ENOENT') {
            reject(new OpensslError('the openssl command was not found on PATH (set MTLS_EDGE_OPENSSL to its path)', '', -1));
            return;
          }
          if (opts.allowFailure && code >= 0) {
            resolve({ stdout, stderr, exitCode: code });
            return;
          }
          // Only the subcommand name goes into the message: later arguments can be file paths the
          // caller reports better, and none of them are secrets anyway.
          reject(new OpensslError(`openssl ${args[0] ?? ''} failed: ${firstErrorLine(stderr)}`, stderr, code));
          return;
        }
        resolve({ stdout, stderr, exitCode: 0 });
      },
    );
    // openssl may exit before reading its input (bad arguments); the exit status reports that, not EPIPE.
    child.stdin?.on('error', () => {});
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The most useful line of an openssl error dump (they start with noise like "Using configuration from"). */
function firstErrorLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const interesting = lines.find((l) => /error|unable|bad|invalid|mac verify|wrong|expecting/i.test(l) && !/^Using configuration/.test(l));
  return (interesting ?? lines[0] ?? 'no output').slice(0, 300);
}

/** Runs `fn` with a private temp directory that is always removed afterwards. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `mtls-edge-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
