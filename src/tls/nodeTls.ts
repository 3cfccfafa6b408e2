// node:tls, loaded through require. An ESM `import tls from 'node:tls'` builds Node's ESM facade of
// the builtin, which reads every export once, so the `rootCertificates` getter parses Node's ~145
// bundled root certificates into strings kept for the life of the process (about 0.2 MB of heap
// and 0.7 MB of RSS) although the edge never trusts them. Every module of the edge process takes
// tls from here; `import type` from 'node:tls' is free.
import { createRequire } from 'node:module';
import type * as NodeTls from 'node:tls';

const tls = createRequire(import.meta.url)('node:tls') as typeof NodeTls;
export default tls;
