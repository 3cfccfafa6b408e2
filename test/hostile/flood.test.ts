// Connection floods against the edge as a separate process (`mtls-edge start`, so its memory and
// descriptors are its own) with a low cap (max_connections 500): idle TCP connects that never send
// a byte and connections that send garbage instead of TLS, up to well beyond the cap. Checked: the
// cap holds (descriptors in /proc/<pid>/fd, Linux only), an mTLS client on an established
// keep-alive connection is served throughout, a fresh client is served once the flood ends, the
// resident memory returns within 20 % of its pre-flood value within 30 s, and the log stays bounded
// (rate-limited lines). glibc's heap ([heap] in smaps) is printed beside RSS: it is where native
// buffers freed by OpenSSL stay resident (docs/robustness.md, "Floods and resource limits").
import { expect } from 'chai';
import https from 'node:https';
import net from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientIdentity, httpsRequest, testPki, type ClientIdentity } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const CAP = 500;
const IDLE_CONNECTS = 1500; // 3× the cap, held open
const GARBAGE_CONNECTS = 3000; // each writes non-TLS bytes once
const hasProc = existsSync('/proc/self/status');
/** The criterion: RSS back within 20 % of its pre-flood value at most SETTLE_MS after the flood. */
const RSS_TOLERANCE = 0.2;
const SETTLE_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const mib = (bytes: number): number => Math.round(bytes / 1048576);

/** V8's heap size (committed) from the admin listener's Prometheus metrics. */
async function heapTotal(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return Number(/^mtls_edge_nodejs_heap_size_total_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Resident size of the process's brk heap (glibc malloc's main arena), from /proc/<pid>/smaps. */
function mallocHeapKiB(pid: number): number {
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Opens `n` connections in waves; resolves with the sockets (some already closed by the edge). */
async function openIdle(port: number, n: number, sockets: net.Socket[]): Promise<void> {
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, () =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          sockets.push(s);
          s.on('error', () => undefined);
          const done = (): void => resolve();
          s.once('connect', done);
          s.once('close', done);
          setTimeout(done, 2000).unref();
        }),
      ),
    );
  }
}

async function sendGarbage(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, (_, k) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => s.write(k % 2 ? 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' : 'garbage garbage garbage\r\n'));
          s.on('error', () => undefined);
          s.once('close', () => resolve());
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 2000).unref();
        }),
      ),
    );
  }
}

describe('hostile: connection floods (edge in a child process, max_connections 500)', function () {
  this.timeout(60_000);
  let dir: string;
  let edge: EdgeProcess | null = null;
  let valid: ClientIdentity;
  let adminPort = 0;

  before(async () => {
    const { dir: pkiDir } = await testPki();
    valid = await clientIdentity('valid');
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-flood-'));
    writeFileSync(
      join(dir, 'edge.yaml'),
      [
        `pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: 0', 'bind: 127.0.0.1', 'admin: { host: 127.0.0.1, port: 0 }',
        'expiry_warning_days: 0', `max_connections: ${CAP}`, 'timeouts: { request_headers: 3, keep_alive: 10 }', 'log: { access: "off" }', '',
      ].join('\n'),
    );
    edge = await startCli(['--config', join(dir, 'edge.yaml')], dir);
    const page = JSON.parse(await waitForLine(edge, /flow page: http/)) as { msg: string };
    adminPort = Number(/:(\d+)\/$/.exec(page.msg)![1]);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the cap, serves an mTLS keep-alive client throughout, returns its memory and keeps the log bounded', async () => {
    const pid = edge!.child.pid!;
    const { pki } = await testPki();
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.rootCa.cert), cert: valid.cert, key: valid.key, servername: 'localhost' });
    const probe = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = https.get({ host: '127.0.0.1', port: edge!.httpsPort, path: '/probe', agent, headers: { host: 'localhost' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`probe answered ${res.statusCode}`))));
        });
        req.setTimeout(5000, () => req.destroy(new Error('probe timed out after 5 s')));
        req.on('error', reject);
      });

    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) await probe(); // warm up and open the keep-alive connection
      await sleep(1000);
      const rssBefore = hasProc ? rssKiB(pid) : NaN;
      const mallocBefore = hasProc ? mallocHeapKiB(pid) : NaN;
      const heapBefore = await heapTotal(adminPort);
      const fdsBefore = hasProc ? openFds(pid) : NaN;
      const linesBefore = edge!.lines.length;

      // Probes run every 100 ms for the whole flood.
      const latencies: number[] = [];
      const failures: string[] = [];
      let flooding = true;
      const prober = (async () => {
        while (flooding) {
          await probe().then((ms) => latencies.push(ms), (e: Error) => failures.push(e.message));
          await sleep(100);
        }
      })();
      let maxFds = 0;
      const sampler = setInterval(() => {
        if (hasProc) maxFds = Math.max(maxFds, openFds(pid));
      }, 50);

      const floodStarted = Date.now();
      await Promise.all([openIdle(edge!.httpsPort, IDLE_CONNECTS, sockets), sendGarbage(edge!.httpsPort, GARBAGE_CONNECTS)]);
      const rssPeak = hasProc ? rssKiB(pid) : NaN;
      const mallocPeak = hasProc ? mallocHeapKiB(pid) : NaN;
      await sleep(1000);
      flooding = false;
      await prober;
      clearInterval(sampler);
      for (const s of sockets) s.destroy();
      const floodMs = Date.now() - floodStarted;

      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      const refused = Number(/mtls_edge_connections_refused_total\{listener="https",cap="listener"\} (\d+)/.exec(metrics)?.[1] ?? 0) + Number(/mtls_edge_connections_refused_total\{listener="https",cap="total"\} (\d+)/.exec(metrics)?.[1] ?? 0);

      // Memory: poll RSS (from /proc, so the edge does no work for it) until it is within 20 % of
      // its pre-flood value, at most SETTLE_MS. V8's heap size is reported, not asserted: its memory
      // reducer shrinks the heap some 10 s after allocation stops (17–25 s here when run alone),
      // but later under the load of a full test run.
      let rssAfter = NaN;
      const t0 = Date.now();
      while (hasProc) {
        rssAfter = rssKiB(pid);
        if (rssAfter <= rssBefore * (1 + RSS_TOLERANCE) || Date.now() - t0 > SETTLE_MS) break;
        await sleep(1000);
      }
      const settledAfterMs = Date.now() - t0;
      const mallocAfter = hasProc ? mallocHeapKiB(pid) : NaN;
      const heapAfter = await heapTotal(adminPort);
      const fresh = await httpsRequest(edge!.httpsPort, { identity: valid });
      const logLines = edge!.lines.length - linesBefore;
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN;
      console.log(
        `      flood: ${IDLE_CONNECTS} idle + ${GARBAGE_CONNECTS} garbage connects in ${floodMs} ms; refused at the cap ${refused}; fds ${fdsBefore} → max ${maxFds}; ` +
          `RSS ${Math.round(rssBefore / 1024)} → ${Math.round(rssPeak / 1024)} → ${Math.round(rssAfter / 1024)} MiB (malloc heap ${Math.round(mallocBefore / 1024)} → ${Math.round(mallocPeak / 1024)} → ${Math.round(mallocAfter / 1024)} MiB), V8 heap ${mib(heapBefore)} → ${mib(heapAfter)} MiB (${settledAfterMs} ms after); ` +
          `${latencies.length} probes, p99 ${p99.toFixed(1)} ms; ${logLines} log lines`,
      );

      expect(failures, 'every probe on the keep-alive connection answered').to.deep.equal([]);
      expect(latencies.length).to.be.greaterThan(5);
      expect(p99, 'served (a generous bound, not a performance claim)').to.be.below(2000);
      expect(refused, 'connections beyond the cap were refused').to.be.greaterThan(0);
      if (hasProc) {
        // Client connections beyond the pre-flood descriptors: at most the cap (+ a margin for
        // sockets Node accepted and is closing at the moment of the sample).
        expect(maxFds - fdsBefore, 'descriptors held above the pre-flood count').to.be.at.most(CAP + 20);
        expect(rssAfter, `RSS (KiB) ${SETTLE_MS / 1000} s after the flood, within 20 % of ${rssBefore} KiB before`).to.be.at.most(rssBefore * (1 + RSS_TOLERANCE));
      }
      expect(fresh.status, 'a fresh mTLS client is served after the flood').to.equal(200);
      expect(logLines, 'log lines stay bounded (rate-limited per reason)').to.be.below(100);
    } finally {
      for (const s of sockets) s.destroy();
      agent.destroy();
    }
  });
});
