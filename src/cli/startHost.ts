// `mtls-edge start` in two steps: a loader child (main.ts → cli.ts → start.ts, with yargs, YAML,
// zod and the PKI code) parses the flags, loads the configuration and sends it back; then this
// process runs the edge without any of those modules. Help, version and configuration errors are
// printed by the child itself; its exit code becomes ours.
import { runLoader } from '../config/loaderProcess.js';
import { fromWire } from '../config/loadedWire.js';
import type { StartReply } from './start.js';

export async function startViaLoader(argv: readonly string[]): Promise<void> {
  const { code, reply } = await runLoader<StartReply>(new URL('./main.js', import.meta.url), argv);
  if (!reply) {
    process.exitCode = code;
    return;
  }
  const { runStart } = await import('./runStart.js');
  await runStart({ ...reply.request, loaded: fromWire(reply.request.loaded) });
}
