// `mtls-edge start` in two steps: a worker thread parses the flags and loads the configuration
// (main.ts → cli.ts → start.ts, with yargs, YAML, zod and the PKI code), hands back the result and
// ends; then this thread runs the edge with none of those modules loaded (≈8 MB less resident,
// measured with `npm run bench:idle-rss`). Help, version and configuration errors come back as
// text and an exit code, printed here.
import { Worker } from 'node:worker_threads';
import type { CliExit } from './cli.js';
import type { StartRequest } from './start.js';

export interface CliWorkerData {
  readonly cli: true;
  readonly argv: readonly string[];
}

type CliWorkerReply = CliExit | { readonly kind: 'start'; readonly request: StartRequest };

function runCliWorker(argv: readonly string[]): Promise<CliWorkerReply> {
  const worker = new Worker(new URL('./main.js', import.meta.url), { workerData: { cli: true, argv } satisfies CliWorkerData });
  return new Promise((resolve) => {
    let reply: CliWorkerReply | null = null;
    worker.on('message', (m: CliWorkerReply) => (reply = m));
    worker.once('error', (e) => (reply ??= { kind: 'exit', code: 1, text: `mtls-edge: ${e.message}\n` }));
    // The exit, not the message, is awaited: the worker's memory is returned before the edge starts.
    worker.once('exit', (code) => resolve(reply ?? { kind: 'exit', code, text: '' }));
  });
}

export async function startViaCliWorker(argv: readonly string[]): Promise<void> {
  const reply = await runCliWorker(argv);
  if (reply.kind === 'exit') {
    if (reply.text) process.stderr.write(reply.text);
    process.exitCode = reply.code;
    return;
  }
  const { runStart } = await import('./runStart.js');
  await runStart(reply.request);
}
