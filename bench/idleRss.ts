// RSS with many idle mTLS connections, for Node targets side by side in interleaved rounds: the
// process's resident size at start and with N connections that each carried one request (one
// second after they are up, and settled: see IDLE_SETTLE_MS), and the difference per connection. Used for the memory figures of docs/performance.md.
//
//   npm run bench:idle-rss -- [--targets edge,node-floor] [--connections 1000] [--rounds 3] [--pad 0]
//
// Targets: edge, node-floor, edge@DIR (see bench/nodeTargets.ts). `--pad N`
// adds an N-byte header to each connection's request. Only 127.0.0.1; every process is stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBenchPki } from './benchPki.js';
import { NODE_TARGETS_HELP, startNodeTarget } from './nodeTargets.js';
import { median } from './pairing.js';
import { idleRssReadings, IDLE_SETTLE_MS, rssMiB, start, startEchoUpstream, waitForOutput } from './procs.js';
import { bounded, flag, helpAndExit } from './args.js';
import { benchScript } from './paths.js';

helpAndExit(`npm run bench:idle-rss -- [--targets edge,node-floor] [--connections 1000] [--rounds 3] [--pad 0]\ntargets: ${NODE_TARGETS_HELP}`);

const PROXY_CPU = 0;
const LOAD_CPU = 1;

const TARGETS = (flag('targets') ?? 'edge,node-floor').split(',').filter(Boolean);
const CONNECTIONS = bounded(flag('connections'), 1000, 10, 10_000);
const ROUNDS = bounded(flag('rounds'), 3, 1, 20);
const PAD = bounded(flag('pad'), 0, 0, 16_000);

const work = mkdtempSync(join(tmpdir(), 'mtls-edge-idle-rss-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const pki = await makeBenchPki(join(work, 'pki'), 'ec-p256');
  const { port: echoPort, proc: echo } = await startEchoUpstream(LOAD_CPU);
  process.stdout.write(`idle RSS: ${TARGETS.join(', ')}; ${CONNECTIONS} connections${PAD ? ` with a ${PAD}-byte header` : ''}, ${ROUNDS} interleaved rounds\n`);
  const perConn = new Map<string, number[]>();
  const idle = new Map<string, number[]>();
  const idle1s = new Map<string, number[]>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of TARGETS) {
        const t = await startNodeTarget(name, pki, echoPort, { cpu: PROXY_CPU, work });
        try {
          await sleep(300);
          const before = rssMiB([t.pid]);
          const clients = start(process.execPath, [benchScript('idleClients.js'), String(t.port), String(CONNECTIONS), pki.clientChain, pki.clientKey, String(PAD)], { cpu: LOAD_CPU });
          try {
            const line = await waitForOutput(clients, /open (\d+) failed (\d+)/, 120_000);
            const { at1s, settled: after } = await idleRssReadings(() => [t.pid]);
            const kb = ((after - before) * 1024) / CONNECTIONS;
            (perConn.get(name) ?? perConn.set(name, []).get(name)!).push(kb);
            (idle.get(name) ?? idle.set(name, []).get(name)!).push(after);
            (idle1s.get(name) ?? idle1s.set(name, []).get(name)!).push(at1s);
            process.stdout.write(`round ${round}: ${name} ${before.toFixed(1)} → ${at1s.toFixed(1)} MiB 1 s after, ${after.toFixed(1)} MiB settled (${kb.toFixed(1)} KB per connection; ${line[0]})\n`);
          } finally {
            await clients.stop();
          }
        } finally {
          await t.stop();
        }
      }
    }
  } finally {
    await echo.stop();
  }
  for (const name of TARGETS) {
    process.stdout.write(`median ${name}: ${median(idle.get(name) ?? []).toFixed(1)} MiB with ${CONNECTIONS} idle connections settled (${IDLE_SETTLE_MS / 1000} s; ${median(idle1s.get(name) ?? []).toFixed(1)} MiB 1 s after), ${median(perConn.get(name) ?? []).toFixed(1)} KB per connection\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`idleRss: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
