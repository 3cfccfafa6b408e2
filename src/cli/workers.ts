// `--workers N`: node:cluster runs N copies of the edge sharing the listening ports, one per core.
// The primary only supervises: it forwards SIGHUP (reload) and SIGTERM/SIGINT (drain), and exits
// with 0 once every worker drained (1 after a pid file it could not write). The admin listener runs in worker 1 only (one flow page).
// A worker that ends after it was ready is started again. One that ends before it was ever ready
// would end the same way again: exit 2 (its configuration error) stops the edge with 2, and
// MAX_FAILED_STARTS such ends in a row (a port in use, say) stop it with 1, rather than a restart
// every half second for ever.
// The pid file (the primary's PID) is written once every worker said it is ready; only then does
// worker 1 print the ready banner, so a script that waits for either sees the whole edge ready.
import cluster, { type Worker } from 'node:cluster';

import type { ProcessSettings } from '../config/startFlags.js';
import { watchParent } from './parentWatch.js';
import { writePidFile } from './pidFile.js';
import { ALL_WORKERS_READY, PKI_GENERATED_ENV, WORKER_ENV, WORKER_READY } from './workerNumber.js';

/** Starts in a row that end before the worker is ready, after which the primary gives up. */
const MAX_FAILED_STARTS = 5;
/** What a worker's exit(2) means: a configuration error (src/cli/start.ts), which a restart cannot mend. */
const CONFIG_ERROR_EXIT = 2;

export function runPrimary(workers: number, pkiGenerated: boolean, settings: ProcessSettings, parentPid: number): void {
  const alive = new Set<number>();
  const ready = new Set<number>();
  const current = new Map<number, Worker>();
  let stopping = false;
  let announcedPki = false;
  let allReady = false;
  let exitCode = 0;
  /** Per worker number: its starts in a row that ended before it was ready. */
  const failedStarts = new Map<number, number>();
  const fork = (n: number): void => {
    // Only the first fork of worker 1 reports the PKI its primary made; a restarted one does not.
    const generated = pkiGenerated && n === 1 && !announcedPki;
    if (generated) announcedPki = true;
    const w = cluster.fork({ [WORKER_ENV]: String(n), ...(generated ? { [PKI_GENERATED_ENV]: '1' } : {}) });
    alive.add(w.id);
    current.set(n, w);
    let wasReady = false;
    w.on('message', (message: unknown) => {
      if (message !== WORKER_READY) return;
      wasReady = true;
      failedStarts.delete(n);
      if (stopping) return;
      ready.add(n);
      if (ready.size < workers) return;
      const first = !allReady;
      allReady = true;
      if (first && settings.pidFile && !wrotePidFile(settings.pidFile)) return;
      // Worker 1 speaks for all: once every worker is ready, and again after a restart of its own.
      if (first || n === 1) current.get(1)?.send(ALL_WORKERS_READY);
    });
    w.on('exit', (code, signal) => {
      alive.delete(w.id);
      ready.delete(n);
      if (!stopping) {
        const failed = wasReady ? 0 : (failedStarts.get(n) ?? 0) + 1;
        if (!wasReady) failedStarts.set(n, failed);
        if (!wasReady && code === CONFIG_ERROR_EXIT) {
          // The worker wrote the configuration error itself; the primary only says what it does next.
          process.stderr.write(`mtls-edge: worker ${n} stopped at start with a configuration error (exit ${code}); stopping the edge\n`);
          exitCode = CONFIG_ERROR_EXIT;
          stop('SIGTERM');
        } else if (failed >= MAX_FAILED_STARTS) {
          process.stderr.write(`mtls-edge: worker ${n} exited ${failed} times in a row before it was ready (last: ${signal ?? code}); stopping the edge: its messages above say why\n`);
          exitCode = 1;
          stop('SIGTERM');
        } else {
          process.stderr.write(`mtls-edge: worker ${n} exited (${signal ?? code})${wasReady ? '' : ' before it was ready'}; starting it again\n`);
          // Not unref()'d: should every worker be down at once, this timer is what keeps the primary.
          setTimeout(() => {
            if (!stopping) fork(n);
          }, 500);
        }
      }
      if (stopping && alive.size === 0) process.exit(exitCode);
    });
  };
  for (let n = 1; n <= workers; n++) fork(n);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // Between a worker's end and its restart no worker may be left to report its exit.
    if (alive.size === 0) process.exit(exitCode);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  // A script waits for the pid file: without it the edge would run on unseen, so it stops.
  const wrotePidFile = (path: string): boolean => {
    try {
      writePidFile(path);
      return true;
    } catch (e) {
      process.stderr.write(`mtls-edge: --pid-file ${path}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another path\n`);
      exitCode = 1;
      stop('SIGTERM');
      return false;
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
  if (settings.exitWithParent) watchParent(parentPid, () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
