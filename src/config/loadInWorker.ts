// Loads the configuration in a short-lived worker thread. YAML parsing, zod validation and the dev
// PKI code (with yargs, ≈8 MB of resident memory together) then live in an isolate that is gone
// once the result is back, so a long-running edge does not carry them (docs/performance.md, the
// idle-connection figure). The result crosses by structured clone: plain data, Buffers, Sets and
// X509Certificate objects all survive it.
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigProblem } from './configError.js';
import type { ConfigOverrides, LoadedConfig } from './load.js';

export interface LoadRequest {
  readonly file?: string;
  readonly overrides?: ConfigOverrides;
  readonly cwd?: string;
}

export type LoadReply = { readonly ok: true; readonly loaded: LoadedConfig } | { readonly ok: false; readonly problems?: readonly ConfigProblem[]; readonly message: string };

/** How long a load may take before the worker is stopped (the dev PKI is made in well under a second). */
const LOAD_TIMEOUT_MS = 60_000;

export function replyToResult(reply: LoadReply): LoadedConfig {
  if (reply.ok) return reply.loaded;
  if (reply.problems) throw new ConfigError([...reply.problems]);
  throw new Error(reply.message);
}

/** Same contract as loadConfig: resolves with the loaded configuration or throws ConfigError. */
export async function loadConfigInWorker(request: LoadRequest): Promise<LoadedConfig> {
  const worker = new Worker(new URL('./loadWorker.js', import.meta.url), { workerData: request, stdout: false, stderr: false });
  const reply = await new Promise<LoadReply>((resolve) => {
    let answer: LoadReply | null = null;
    const timer = setTimeout(() => void worker.terminate(), LOAD_TIMEOUT_MS);
    worker.on('message', (m: LoadReply) => (answer = m));
    worker.once('error', (e) => (answer ??= { ok: false, message: `configuration loader failed: ${e.message}` }));
    // Waiting for the exit (not only the message) is what returns the worker's memory before the
    // caller goes on.
    worker.once('exit', (code) => {
      clearTimeout(timer);
      resolve(answer ?? { ok: false, message: `configuration loader stopped (exit code ${code}) without an answer` });
    });
  });
  return replyToResult(reply);
}
