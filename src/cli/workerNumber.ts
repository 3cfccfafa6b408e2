// Which cluster worker this process is, without loading node:cluster: a single-process edge (the
// default) never needs the module, and loading it costs about 0.4 MB of RSS.
export const WORKER_ENV = 'MTLS_EDGE_WORKER';

/**
 * Our primary sets WORKER_ENV for each worker it forks. Node's own marker, NODE_UNIQUE_ID, is
 * deleted from a worker's environment during Node's bootstrap, so it cannot be read here.
 */
export const isClusterWorker = (): boolean => process.env[WORKER_ENV] !== undefined;

/** The 1-based worker number, or 0 in a process that is not a cluster worker. */
export function workerNumber(): number {
  return isClusterWorker() ? Number(process.env[WORKER_ENV] ?? 0) : 0;
}

/** Set by the primary for worker 1 when the primary's load made the dev PKI: worker 1 says so. */
export const PKI_GENERATED_ENV = 'MTLS_EDGE_PKI_GENERATED';

/** What a worker sends its primary once it is ready (the primary then writes the pid file). */
export const WORKER_READY = 'mtls-edge:worker-ready';

/** What the primary sends worker 1 once every worker is ready (and the pid file written): worker 1 then says the edge is ready. */
export const ALL_WORKERS_READY = 'mtls-edge:all-workers-ready';
