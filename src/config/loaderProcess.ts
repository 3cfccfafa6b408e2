// Loading the configuration in a short-lived child process. YAML parsing, zod validation, yargs and
// the dev-PKI code would otherwise stay resident in the edge for its whole life (≈12 MB with 1,000
// idle connections, `npm run bench:idle-rss`); a worker thread does not help as much, because the
// memory a finished thread used mostly stays with the process. The child inherits stdout/stderr,
// so its messages (help, configuration errors) are printed as they are; the result comes back as
// one JSON text on a pipe (fd 3). Not an IPC channel: `fork` loads node:v8 and the IPC serialiser
// into the edge for good, about 220 KB of its resident memory for one message.
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigProblem } from './configError.js';
import type { ConfigOverrides, LoadedConfig } from './load.js';
import { fromWire, type LoadedConfigWire } from './loadedWire.js';

/** Set in the loader's environment; the entry points check it to answer on REPLY_FD instead of running. */
export const LOADER_ENV = 'MTLS_EDGE_CONFIG_LOADER';
const REPLY_FD = 3;

/** The environment variable alone is not enough: exported by hand, it must not turn `start` into a loader. */
export const isLoaderProcess = (): boolean => {
  if (process.env[LOADER_ENV] !== '1') return false;
  try {
    const st = fstatSync(REPLY_FD);
    return st.isSocket() || st.isFIFO();
  } catch {
    return false;
  }
};

// The reply holds Buffers (PEM and DER bytes), Sets (ignored verify codes) and keys whose value is
// undefined (an optional setting left out), which JSON alone would flatten or drop; a spread such as
// `{ ...defaults, ...route }` treats a missing key and an undefined one differently. They travel
// tagged; the tags contain a NUL, which no configuration key does.
const BUFFER_TAG = '\u0000buffer';
const SET_TAG = '\u0000set';
const UNDEFINED_TAG = '\u0000undefined';

export function encodeReply(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    if (original === undefined && !Array.isArray(this)) return { [UNDEFINED_TAG]: 1 };
    if (Buffer.isBuffer(original)) return { [BUFFER_TAG]: original.toString('base64') };
    if (original instanceof Set) return { [SET_TAG]: [...(original as Set<unknown>)] };
    return v;
  });
}

/** The tagged value a parsed JSON value stands for (a walk, not a reviver: a reviver cannot leave a key undefined). */
function untag(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = untag(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if (keys[0] === UNDEFINED_TAG) return undefined;
    if (keys[0] === BUFFER_TAG && typeof o[BUFFER_TAG] === 'string') return Buffer.from(o[BUFFER_TAG], 'base64');
    if (keys[0] === SET_TAG && Array.isArray(o[SET_TAG])) return new Set((o[SET_TAG] as unknown[]).map(untag));
  }
  for (const k of keys) o[k] = untag(o[k]);
  return o;
}

export function decodeReply(text: string): unknown {
  return untag(JSON.parse(text));
}

export interface LoadRequest {
  readonly file?: string;
  readonly overrides?: ConfigOverrides;
}

export type LoadReply = { readonly ok: true; readonly loaded: LoadedConfigWire } | { readonly ok: false; readonly problems?: readonly ConfigProblem[]; readonly message: string };

/** Writes the reply; the loader ends once it is written (the socket keeps the event loop alive until then). */
export function replyToParent(reply: unknown): void {
  new Socket({ fd: REPLY_FD, readable: false, writable: true }).end(encodeReply(reply));
}

/**
 * Runs `entry` with `args` as a loader child; resolves with its exit code and its reply (null when
 * it wrote none, e.g. after printing help or an error).
 */
export function runLoader<T>(entry: URL, args: readonly string[]): Promise<{ code: number; reply: T | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [LOADER_ENV]: '1' };
  // Inherited, this would make the loader a cluster worker of a `--workers` edge.
  delete env.NODE_UNIQUE_ID;
  // Not the parent's Node flags (an --inspect port would clash), as fork's `execArgv: []`.
  const child = spawn(process.execPath, [fileURLToPath(entry), ...args], { env, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let failure: Error | null = null;
    (child.stdio[REPLY_FD] as Readable).on('data', (c: Buffer) => chunks.push(c));
    child.once('error', (e) => (failure = e));
    child.once('close', (code, signal) => {
      let reply: T | null = null;
      if (chunks.length > 0) {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          reply = decodeReply(text) as T;
        } catch {
          // Not the parser's message: V8 quotes the text around the error, and the reply holds keys.
          failure = new Error(`its reply (${text.length} characters) was cut short or garbled`);
        }
      }
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
