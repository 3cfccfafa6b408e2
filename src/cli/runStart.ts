// After the configuration is loaded: supervise workers (`--workers N`) or run the edge here.
// node:cluster is loaded only for `--workers N` (see workerNumber.ts).
import { runEdgeProcess } from './runEdge.js';
import { isClusterWorker } from './workerNumber.js';
import type { StartRequest } from './start.js';

export async function runStart(request: StartRequest): Promise<void> {
  // The primary loads the configuration first, so the dev PKI is made once, before any worker;
  // each worker runs `start` with the same arguments and loads it again.
  if (request.loaded.config.workers > 1 && !isClusterWorker()) {
    const { runPrimary } = await import('./workers.js');
    runPrimary(request.loaded.config.workers, request.loaded.resolved.devPkiGenerated);
    return;
  }
  await runEdgeProcess(request.loaded, { configFile: request.configFile, overrides: request.overrides });
}
