// After the configuration is loaded: supervise workers (`--workers N`) or run the edge here.
// node:cluster is loaded only for `--workers N` (see workerNumber.ts).
import { checkPidFile } from './pidFile.js';
import { runEdgeProcess } from './runEdge.js';
import { isClusterWorker } from './workerNumber.js';
import type { StartRequest } from './start.js';

export async function runStart(request: StartRequest): Promise<void> {
  // The process settings belong to the process that was started: a worker's parent is the primary
  // (node:cluster ends the workers with it), and the primary writes the one pid file.
  const settings = isClusterWorker() ? { exitWithParent: false } : request.process;
  if (settings.pidFile) checkPidFile(settings.pidFile);
  // The primary loads the configuration first, so the dev PKI is made once, before any worker;
  // each worker runs `start` with the same arguments and loads it again.
  if (request.loaded.config.workers > 1 && !isClusterWorker()) {
    const { runPrimary } = await import('./workers.js');
    runPrimary(request.loaded.config.workers, request.loaded.resolved.devPkiGenerated, settings, request.parentPid);
    return;
  }
  await runEdgeProcess(request.loaded, { configFile: request.configFile, overrides: request.overrides, process: settings, parentPid: request.parentPid });
}
