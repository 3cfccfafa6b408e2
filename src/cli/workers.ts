// `--workers N`: node:cluster runs N copies of the edge sharing the listening ports, one per core.
// The primary only supervises: it forwards SIGHUP (reload) and SIGTERM/SIGINT (drain), and exits
// with 0 once every worker drained (1 after a pid file it could not write). The admin listener runs in worker 1 only (one flow page).
// The pid file (the primary's PID) is written once every worker said it is ready; only then does
// worker 1 print the ready banner, so a script that waits for either sees the whole edge ready.
import cluster, { type Worker } from 'node:cluster';

import type { ProcessSettings } from '../config/startFlags.js';
import { watchParent } from './parentWatch.js';
import { writePidFile } from './pidFile.js';
import { ALL_WORKERS_READY, PKI_GENERATED_ENV, WORKER_ENV, WORKER_READY } from './workerNumber.js';

export function runPrimary(workers: number, pkiGenerated: boolean, settings: ProcessSettings, parentPid: number): void {
  const alive = new Set<number>();
  const ready = new Set<number>();
  const current = new Map<number, Worker>();
  let stopping = false;
  let announcedPki = false;
  let allReady = false;
  let exitCode = 0;
  const fork = (n: number): void => {
    // Only the first fork of worker 1 reports the PKI its primary made; a restarted one does not.
    const generated = pkiGenerated && n === 1 && !announcedPki;
    if (generated) announcedPki = true;
    const w = cluster.fork({ [WORKER_ENV]: String(n), ...(generated ? { [PKI_GENERATED_ENV]: '1' } : {}) });
    alive.add(w.id);
    current.set(n, w);
    w.on('message', (message: unknown) => {
      if (message !== WORKER_READY || stopping) return;
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
        process.stderr.write(`mtls-edge: worker ${n} exited (${signal ?? code}); starting it again\n`);
        setTimeout(() => fork(n), 500).unref();
      } else if (alive.size === 0) process.exit(exitCode);
    });
  };
  for (let n = 1; n <= workers; n++) fork(n);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
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
