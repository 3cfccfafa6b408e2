// Cost of observing one request: emits RequestEvents through the full observe assembly (log sink,
// cpi access log to /dev/null, metrics, expiry tracking, ring buffer) with and without a flow page
// connected, and prints microseconds per event. Run: npm run bench:build && node dist-bench/bench/observe.bench.js
// The edge's budget is 10% of its request cost; at ~100 µs per proxied request that is ~10 µs.
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { createObservability } from '../src/observe/index.js';
import { emptyStatus } from '../src/observe/status.js';
import type { RequestEvent } from '../src/observe/events.js';
import { requestEvent, SPOOFED, SET_FOR_DEV_CLIENT } from '../test/observe/fixtures.js';

const N = Number(process.env['N'] ?? 100_000);
const devnull = createWriteStream('/dev/null');

async function run(label: string, pageOpen: boolean): Promise<void> {
  const obs = await createObservability({ stdout: devnull, logFormat: 'json', accessLogFormat: 'cpi', admin: { host: '127.0.0.1', port: 0 }, status: () => emptyStatus(), defaultMetrics: false });
  let req: http.ClientRequest | null = null;
  let received = 0;
  if (pageOpen) {
    await new Promise<void>((resolve) => {
      req = http.get({ host: '127.0.0.1', port: obs.adminPort!, path: '/events' }, (res) => {
        res.on('data', (c: Buffer) => (received += c.length));
        resolve();
      });
    });
  }
  const events: RequestEvent[] = [];
  for (let i = 0; i < 1000; i++) events.push(requestEvent({ id: `b${i}`, h10: { sent: SPOOFED, removed: SPOOFED, set: SET_FOR_DEV_CLIENT } }));
  // Emit in slices of 1000 per event-loop turn, the way requests arrive.
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < N; done += 1000) {
    for (const e of events) obs.bus.emit(e);
    await new Promise((r) => setImmediate(r));
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  console.log(`${label.padEnd(28)} ${us.toFixed(2)} µs/event${pageOpen ? `  (${(received / 1e6).toFixed(1)} MB streamed)` : ''}`);
  (req as http.ClientRequest | null)?.destroy();
  await obs.close();
}

await run('log + access log + metrics', false);
await run('… and a flow page open', true);
devnull.end();
