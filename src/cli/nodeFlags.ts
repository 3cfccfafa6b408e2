// The V8 flags the edge runs with (`npm start`, the `mtls-edge` bin, the Docker image, the bench).
// They can only be given on Node's command line, so they are repeated in package.json, in the bin's
// shebang and in the Dockerfile; test/packaging/nodeFlags.test.ts keeps those copies equal to this list.
//
// Why: an idle mTLS connection costs Node about 50 KB that the edge cannot shrink (OpenSSL and
// Node's TLS buffers), so the budget of 1,000 idle connections in 120 MB is won on the process's
// fixed part. V8's young generation grows to 2 × 16 MB under request traffic and stays committed;
// capped at 2 × 2 MB it saves ≈ 18 MB at ≈ 4 % more CPU per keep-alive request and no measurable
// cost per handshake (paired runs; more frequent scavenges, cheap because a request's garbage dies
// young). One V8 worker thread instead of four saves
// ≈ 4 MB of per-thread malloc arenas; a proxy process uses one core anyway (`--workers N` for more).
// Figures and the command that measures them: docs/performance.md.
export const EDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--v8-pool-size=1'];
