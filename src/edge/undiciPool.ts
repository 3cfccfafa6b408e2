// undici's Pool without undici's index: the index loads fetch, WebSocket, caches, mocks and the
// rest of the package (≈8 MB more resident memory at start, measured with `npm run
// bench:idle-rss`), and the edge needs only the connection pool. The index also attaches the
// request APIs (`stream`, `request`, …) to Dispatcher.prototype; that one line is repeated here.
// undici has no `exports` map, so the files are reachable; test/edge/undiciPool.test.ts fails (in a
// process that never loads the index) if an upgrade moves them or changes that wiring.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool, Dispatcher } from 'undici';

const requireCjs = createRequire(import.meta.url);

const dispatcherClass = requireCjs('undici/lib/dispatcher/dispatcher.js') as { prototype: Dispatcher };
const requestApis = requireCjs('undici/lib/api/index.js') as Partial<Dispatcher>;
if (typeof dispatcherClass.prototype.stream !== 'function') Object.assign(dispatcherClass.prototype, requestApis);

export const Pool = requireCjs('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
