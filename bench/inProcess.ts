// Preloaded (`node --import`) into the `edge-inprocess` target, for builds before issue 20
// (e4a0736 and older): gives the measured process what main's process holds since issue 20. Those
// builds loaded the configuration in a child process, so the loader's modules (zod, yaml, the
// schema) and their objects were never in the measured heap, and they loaded a few of undici's
// files instead of its public entry point. This runs the checkout's own configuration loader in the
// edge's process, keeps what it returned, and loads undici by its public entry; a paired run then
// compares the request and handshake code alone. A larger retained heap costs CPU per handshake
// under load (each major GC marks all of it), which is what this separates (docs/performance.md).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

interface LoaderModule {
  loadConfig(opts: { file: string }): Promise<unknown>;
}

const bin = process.argv[1];
const at = process.argv.indexOf('--config');
const file = at > 0 ? process.argv[at + 1] : undefined;
if (!bin || !file) throw new Error('bench/inProcess: expected `node --import=… <checkout>/bin/mtls-edge.js start --config FILE`');
const loaderUrl = new URL('../dist/src/config/load.js', pathToFileURL(bin)).href;
const loader = (await import(loaderUrl)) as Partial<LoaderModule>;
if (typeof loader.loadConfig !== 'function') throw new Error(`bench/inProcess: ${loaderUrl} has no loadConfig({ file }): this target is for builds whose loader has it (e4a0736 and the mains around it)`);
/** Kept for the process's life, as the edge keeps its loaded configuration and its modules. */
export const loaded: unknown = await loader.loadConfig({ file });
export const undici: unknown = createRequire(bin)('undici');
