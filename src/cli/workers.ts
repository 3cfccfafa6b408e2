// `--workers N`: node:cluster runs N copies of the edge sharing the listening ports, one per core.
// The primary only supervises: it forwards SIGHUP (reload) and SIGTERM/SIGINT (drain), and exits
// with 0 once every worker drained. The admin listener runs in worker 1 only (one flow page).
// The pid file (the primary's PID) is written once every worker said it is ready.
import cluster from 'node:cluster';

import type { ProcessSettings } from '../config/startFlags.js';
import { watchParent } from './parentWatch.js';
import { writePidFile } from './pidFile.js';
import { PKI_GENERATED_ENV, WORKER_ENV, WORKER_READY } from './workerNumber.js';

export function runPrimary(workers: number, pkiGenerated: boolean, settings: ProcessSettings, parentPid: number): void {
  const alive = new Set<number>();
  const ready = new Set<number>();
  let stopping = false;
  let announcedPki = false;
  const fork = (n: number): void => {
    // Only the first fork of worker 1 reports the PKI its primary made; a restarted one does not.
    const generated = pkiGenerated && n === 1 && !announcedPki;
    if (generated) announcedPki = true;
    const w = cluster.fork({ [WORKER_ENV]: String(n), ...(generated ? { [PKI_GENERATED_ENV]: '1' } : {}) });
    alive.add(w.id);
    w.on('message', (message: unknown) => {
      if (message !== WORKER_READY || ready.has(n)) return;
      ready.add(n);
      if (ready.size === workers && settings.pidFile) writePidFile(settings.pidFile);
    });
    w.on('exit', (code, signal) => {
      alive.delete(w.id);
      if (!stopping) {
        process.stderr.write(`mtls-edge: worker ${n} exited (${signal ?? code}); starting it again\n`);
        setTimeout(() => fork(n), 500).unref();
      } else if (alive.size === 0) process.exit(0);
    });
  };
  for (let n = 1; n <= workers; n++) fork(n);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
  if (settings.exitWithParent) watchParent(parentPid, () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
