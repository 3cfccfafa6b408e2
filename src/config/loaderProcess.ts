// Loading the configuration in a short-lived child process. YAML parsing, zod validation, yargs and
// the dev-PKI code would otherwise stay resident in the edge for its whole life (≈12 MB with 1,000
// idle connections, `npm run bench:idle-rss`); a worker thread does not help as much, because the
// memory a finished thread used mostly stays with the process. The child inherits stdout/stderr,
// so its messages (help, configuration errors) are printed as they are; the result comes back over
// the IPC channel.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigProblem } from './configError.js';
import type { ConfigOverrides, LoadedConfig } from './load.js';
import { fromWire, type LoadedConfigWire } from './loadedWire.js';

/** Set in the loader's environment; the entry points check it to answer over IPC instead of running. */
export const LOADER_ENV = 'MTLS_EDGE_CONFIG_LOADER';

export const isLoaderProcess = (): boolean => process.env[LOADER_ENV] === '1' && typeof process.send === 'function';

export interface LoadRequest {
  readonly file?: string;
  readonly overrides?: ConfigOverrides;
}

export type LoadReply = { readonly ok: true; readonly loaded: LoadedConfigWire } | { readonly ok: false; readonly problems?: readonly ConfigProblem[]; readonly message: string };

/** Sends the reply and lets the loader end once it is written. */
export function replyToParent(reply: unknown): void {
  process.send!(reply, () => process.disconnect());
}

/**
 * Runs `entry` with `args` as a loader child; resolves with its exit code and the last message it
 * sent (null when it sent none, e.g. after printing help or an error).
 */
export function runLoader<T>(entry: URL, args: readonly string[]): Promise<{ code: number; reply: T | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [LOADER_ENV]: '1' };
  // Inherited, this would make the loader a cluster worker of a `--workers` edge.
  delete env.NODE_UNIQUE_ID;
  const child = fork(fileURLToPath(entry), [...args], {
    env,
    execArgv: [], // not the parent's (an --inspect port would clash)
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let reply: T | null = null;
    let failure: Error | null = null;
    child.on('message', (m) => (reply = m as T));
    child.once('error', (e) => (failure = e));
    child.once('close', (code, signal) => {
      if (failure && reply === null) process.stderr.write(`mtls-edge: the configuration loader could not run: ${failure.message}\n`);
      resolve({ code: code ?? (signal ? 1 : 0), reply });
    });
  });
}

/** Same contract as loadConfig (throws ConfigError listing the problems), run in a loader child. */
export async function loadConfigInChild(request: LoadRequest): Promise<LoadedConfig> {
  const { code, reply } = await runLoader<LoadReply>(new URL('./loaderMain.js', import.meta.url), [JSON.stringify(request)]);
  if (!reply) throw new Error(`the configuration loader stopped (exit code ${code}) without an answer`);
  if (reply.ok) return fromWire(reply.loaded);
  if (reply.problems) throw new ConfigError([...reply.problems]);
  throw new Error(reply.message);
}
