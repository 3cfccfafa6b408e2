// undici's Pool without undici's index: the index loads fetch, WebSocket, caches, mocks and the
// rest of the package (≈8 MB more resident memory at start, measured with `npm run
// bench:idle-rss`), and the edge needs only the connection pool and `stream`. The index attaches
// its request APIs to Dispatcher.prototype; here only `stream` is attached, the one the edge uses.
// undici has no `exports` map, so the files are reachable; test/edge/undiciPool.test.ts fails (in a
// process that never loads the index) if an upgrade moves them or changes that wiring.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool, Dispatcher, buildConnector as BuildConnector } from 'undici';

const requireCjs = createRequire(import.meta.url);

// undici's client.js requires client-h2.js at load, and client-h2.js requires node:http2 (with
// fs/promises and readline behind it: ≈0.6 MB resident) for a protocol a pool only speaks when
// created with `allowH2`, which the edge never sets. A stand-in in the module cache loads the real
// file at the first HTTP/2 connection, so nothing changes for a caller that does use it. When the
// real file is already cached (undici's index was loaded first), it is left as it is.
const clientH2Path = requireCjs.resolve('undici/lib/dispatcher/client-h2.js');
if (!requireCjs.cache[clientH2Path]) {
  type ConnectH2 = (...args: unknown[]) => unknown;
  let real: ConnectH2 | null = null;
  const connectH2Lazily: ConnectH2 = (...args) => {
    if (!real) {
      delete requireCjs.cache[clientH2Path];
      real = requireCjs(clientH2Path) as ConnectH2;
    }
    return real(...args);
  };
  const { Module } = requireCjs('node:module') as { Module: new (id: string) => NodeJS.Module };
  const standIn = new Module(clientH2Path);
  standIn.filename = clientH2Path;
  standIn.loaded = true;
  standIn.exports = connectH2Lazily;
  requireCjs.cache[clientH2Path] = standIn;
}

const dispatcherClass = requireCjs('undici/lib/dispatcher/dispatcher.js') as { prototype: Partial<Dispatcher> };
if (typeof dispatcherClass.prototype.stream !== 'function') dispatcherClass.prototype.stream = requireCjs('undici/lib/api/api-stream.js') as Dispatcher['stream'];

/** What the edge uses of a pool: `stream`, the only request API attached here, and closing. */
export type Pool = Pick<UndiciPool, 'stream' | 'close' | 'destroy'>;
export const Pool = requireCjs('undici/lib/dispatcher/pool.js') as new (url: string, options?: UndiciPool.Options) => Pool;

/** undici's connector factory (public in its index as `buildConnector`), for the upstream TLS options. */
export const buildConnector = requireCjs('undici/lib/core/connect.js') as typeof BuildConnector;
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace buildConnector {
  type connector = BuildConnector.connector;
}
