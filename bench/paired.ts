// Paired comparison of two Node proxies: both run on the same core at the same time, each loaded by
// its own ab, and each one's CPU time per handshake (or per keep-alive request) is read from
// /proc/PID/stat. Both see the same machine in the same seconds, so the ratio repeats to a few
// percent where sequential runs on a shared VM scatter by tens of percent. Meant for two builds of
// the edge, or the edge and the Node floor; not for HAProxy (sharing a core hurts the larger
// process more, so that ratio would be biased).
//
//   node dist/bench/paired.js [--a edge] [--b node-floor] [--rounds 4] [--connections 2000] [--keep-alive]
//
// Targets: `edge` (this checkout, with the flags of `npm start`), `edge-default-flags` (Node's
// defaults), `node-floor`, or `edge@DIR` (the built checkout in DIR, e.g. a `git worktree` of an
// older commit after `npm ci` there). Only 127.0.0.1 is used; every process is stopped at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { EDGE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { freePort } from '../test/parity/haproxy.js';
import { HAVE_AB } from './ab.js';
import { makeBenchPki, type BenchPki } from './benchPki.js';
import { median, pairedRound } from './pairing.js';
import { start, waitForOutput, waitForPort, type Proc } from './procs.js';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const repo = process.cwd();

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const bounded = (v: string | undefined, dflt: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.trunc(Number(v ?? dflt)) || dflt));

const A = flag('a') ?? 'edge';
const B = flag('b') ?? 'node-floor';
const ROUNDS = bounded(flag('rounds'), 4, 1, 20);
const KEEP_ALIVE = process.argv.includes('--keep-alive');
const COUNT = bounded(flag('connections'), KEEP_ALIVE ? 30_000 : 2_000, 100, 1_000_000);

const work = mkdtempSync(join(tmpdir(), 'mtls-edge-paired-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

async function startTarget(name: string, pki: BenchPki, echoPort: number): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  let args: string[];
  if (name === 'node-floor') {
    args = [...EDGE_NODE_FLAGS, join(repo, 'dist/bench/nodeFloor.js'), String(port), pki.serverChain, pki.serverKey, pki.rootCert, String(echoPort), pki.clientChain];
  } else if (name === 'edge' || name === 'edge-default-flags' || name.startsWith('edge@')) {
    const checkout = name.startsWith('edge@') ? name.slice(5) : repo;
    const cfg = join(work, `${name.replace(/[^a-z0-9]/gi, '_')}-${port}.yaml`);
    writeFileSync(
      cfg,
      [
        'bind: 127.0.0.1',
        `https_port: ${port}`,
        'http_port: false',
        'forwarded_client_cert: sanitize_set',
        'tls:',
        `  - cert: ${pki.serverChain}`,
        `    key: ${pki.serverKey}`,
        `    trust: [${pki.rootCert}]`,
        'routes:',
        `  - upstream: http://127.0.0.1:${echoPort}`,
        'log: { format: json, level: error, access: off }',
        'admin: false',
        '',
      ].join('\n'),
    );
    args = [...(name === 'edge-default-flags' ? [] : EDGE_NODE_FLAGS), join(checkout, 'bin/mtls-edge.js'), 'start', '--config', cfg];
  } else {
    throw new Error(`unknown target "${name}": use edge, edge-default-flags, node-floor or edge@DIR`);
  }
  const proc = start(process.execPath, args, { cpu: PROXY_CPU, stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForPort(port, proc);
  return { proc, port };
}

async function main(): Promise<void> {
  if (!HAVE_AB) throw new Error('ab (Debian apache2-utils) is needed');
  const pki = await makeBenchPki(join(work, 'pki'), 'ec-p256');
  const echoPort = await freePort();
  const echo = start(process.execPath, [join(repo, 'dist/bench/echoProcess.js'), String(echoPort)], { cpu: LOAD_CPU });
  await waitForOutput(echo, /ready \d+/, 15_000);
  const unit = KEEP_ALIVE ? 'µs CPU per keep-alive request' : 'µs CPU per new mTLS handshake (P-256)';
  process.stdout.write(`paired: ${A} vs ${B}, ${ROUNDS} rounds of ${COUNT} ${KEEP_ALIVE ? 'keep-alive requests' : 'new connections'} each, both on CPU ${PROXY_CPU} at the same time\n`);
  const ratios: number[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await startTarget(A, pki, echoPort);
      const b = await startTarget(B, pki, echoPort);
      try {
        const { usA, usB } = await pairedRound(
          { port: a.port, pids: () => [a.proc.pid] },
          { port: b.port, pids: () => [b.proc.pid] },
          { keepAlive: KEEP_ALIVE, count: COUNT, clientPem: pki.clientPem, loadCpu: LOAD_CPU },
        );
        ratios.push(usA / usB);
        process.stdout.write(`round ${round}: ${A} ${usA.toFixed(0)}, ${B} ${usB.toFixed(0)} ${unit}; ratio ${(usA / usB).toFixed(3)}\n`);
      } finally {
        await Promise.all([a.proc.stop(), b.proc.stop()]);
      }
    }
  } finally {
    await echo.stop();
  }
  process.stdout.write(`median ratio ${A} ÷ ${B}: ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}; below 1 means ${A} uses less CPU)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`paired: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
