// The loader child of loadConfigInChild (loaderProcess.ts): one load, one reply, then it ends.
import { ConfigError } from './configError.js';
import { loadConfig } from './load.js';
import { replyToParent, type LoadReply, type LoadRequest } from './loaderProcess.js';
import { toWire } from './loadedWire.js';

const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;
let reply: LoadReply;
try {
  reply = { ok: true, loaded: toWire(await loadConfig(request)) };
} catch (e) {
  reply = e instanceof ConfigError ? { ok: false, problems: e.problems, message: e.message } : { ok: false, message: (e as Error).message };
}
replyToParent(reply);
