// After the configuration is loaded: supervise workers (`--workers N`) or run the edge here.
import cluster from 'node:cluster';
import { runEdgeProcess } from './runEdge.js';
import { runPrimary } from './workers.js';
import type { StartRequest } from './start.js';

export async function runStart(request: StartRequest): Promise<void> {
  // The primary loads the configuration first, so the dev PKI is made once, before any worker.
  if (request.loaded.config.workers > 1 && cluster.isPrimary) {
    runPrimary(request.loaded.config.workers);
    return;
  }
  await runEdgeProcess(request.loaded, { configFile: request.configFile, overrides: request.overrides });
}
