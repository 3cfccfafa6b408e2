// The worker side of loadInWorker.ts: one load, one reply, then the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './configError.js';
import { loadConfig } from './load.js';
import type { LoadReply, LoadRequest } from './loadInWorker.js';

const request = workerData as LoadRequest;
let reply: LoadReply;
try {
  reply = { ok: true, loaded: await loadConfig(request) };
} catch (e) {
  reply = e instanceof ConfigError ? { ok: false, problems: e.problems, message: e.message } : { ok: false, message: (e as Error).message };
}
parentPort?.postMessage(reply);
