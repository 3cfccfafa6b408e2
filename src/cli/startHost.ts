// `mtls-edge start` in two steps: a loader child (main.ts → cli.ts → start.ts, with yargs, YAML,
// zod and the PKI code) parses the flags, loads the configuration and sends it back; then this
// process runs the edge without any of those modules. Help, version and configuration errors are
// printed by the child itself; its exit code becomes ours.
import { runLoader } from '../config/loaderProcess.js';
import { fromWire } from '../config/loadedWire.js';
import type { StartReply } from './start.js';

export async function startViaLoader(argv: readonly string[]): Promise<void> {
  const loading = runLoader<StartReply>(new URL('./main.js', import.meta.url), argv);
  // The edge's own modules load here while the child parses and validates (a second core, or the
  // child's waits for files) instead of after its reply (`startup.bench.js --compare`, docs/performance-notes.md).
  const runStartModule = import('./runStart.js');
  runStartModule.catch(() => undefined);
  const { code, reply } = await loading;
  if (!reply) {
    process.exitCode = code;
    return;
  }
  const { runStart } = await runStartModule;
  await runStart({ ...reply.request, loaded: fromWire(reply.request.loaded) });
}
