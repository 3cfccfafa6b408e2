// An upload still arriving after the app's answer, against real HAProxy 2.6 and 3.2 (when found) with
// the same timeouts (request_headers 2 s, keep_alive 3 s, client 10 s): the app answers 401 at once
// without reading the body, the client sends 1.5 MB over ~4.8 s (past keep_alive + 1 s), then a next
// request or nothing. Measured with 5 MB over 6.5 s, 60 KB over 15 s and 3 KB with a 12 s gap, 401
// and 413, plain and TLS alike: 3.2 reads and drops the rest (its only bound: `timeout client` between
// bytes), serves the next request and closes `timeout http-keep-alive` after the body or that answer;
// 2.6 closes the connection (FIN) when the next body bytes arrive after the answer, or at `timeout
// client` when none do. The edge does as 3.2 (docs/parity.md#an-upload-after-an-early-answer).
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { majorMinor, startSideBySide, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';
import { tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

const SIZE = 1536 * 1024;
const CHUNK = 64 * 1024;
const EVERY_MS = 200;
const NEXT = 'GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n';

interface Seen {
  readonly statuses: number[];
  /** Body bytes the connection took (write callbacks without error). */
  readonly flushed: number;
  /** When the connection closed: ms after the answer to /next, or after the last body byte when nothing followed; null: open at the end. */
  readonly closedAfter: number | null;
}

/** Uploads SIZE bytes in CHUNK every EVERY_MS, then sends /next (or nothing) once all were taken. */
function upload(socket: net.Socket, thenNext: boolean): Promise<Seen> {
  return new Promise((resolve) => {
    let text = '';
    let sent = 0;
    let flushed = 0;
    let markAt = 0;
    let nextSent = false;
    const statuses = (): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    const finish = (closed: boolean): void => {
      clearInterval(drip);
      clearTimeout(limit);
      socket.destroy();
      resolve({ statuses: statuses(), flushed, closedAfter: closed && markAt > 0 ? Date.now() - markAt : null });
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (nextSent && markAt === 0 && statuses().length === 2) markAt = Date.now();
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${SIZE}\r\n\r\n`);
    const drip = setInterval(() => {
      if (socket.destroyed) return;
      if (sent < SIZE) {
        const n = Math.min(CHUNK, SIZE - sent);
        sent += n;
        socket.write(Buffer.alloc(n, 0x78), (err) => {
          if (err) return;
          flushed += n;
          if (flushed < SIZE) return;
          if (!thenNext) markAt = Date.now();
          else {
            nextSent = true;
            socket.write(NEXT);
          }
        });
      }
    }, EVERY_MS);
    const limit = setTimeout(() => finish(false), SIZE / CHUNK * EVERY_MS + 8000);
  });
}

describe('parity: an upload still arriving after an early answer (the rest of the body, the next request)', function () {
  this.timeout(90_000);
  let run: SideBySide<LoopbackServer, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    run = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'early-answer-parity-',
      timeouts: { keep_alive: 3, request_headers: 2, client: 10, request: 20 },
      // 401 at once, the body unread; any other path is answered once its body is in.
      startUpstream: () => listenOnLoopback(http.createServer((req, res) => {
        if (req.url === '/upload') res.writeHead(401, { 'content-length': '5' }).end('early');
        else req.resume().on('end', () => res.end('next'));
      })),
      startEdge: (port, timeouts) => startTestEdge({}, `${timeouts}routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => run?.stop());

  for (const listener of ['plain HTTP', 'mTLS'] as const) {
    it(`${listener}: the rest read and dropped, the next request served (3.2, the edge); closed at the next body bytes (2.6)`, async () => {
      const runs = run.targets.flatMap((t) => [true, false].map(async (thenNext) => {
        const socket = listener === 'mTLS' ? await tlsConnect(t.httpsPort, { identity }) : await tcpConnect(t.httpPort);
        return { target: t, thenNext, seen: await upload(socket, thenNext) };
      }));
      const failures: string[] = [];
      for (const { target, thenNext, seen } of await Promise.all(runs)) {
        const what = `${target.name}, ${thenNext ? 'then /next' : 'then nothing'}: read ${JSON.stringify(seen.statuses)}, ${seen.flushed} body bytes taken, closed ${seen.closedAfter} ms after the mark`;
        if (target.version !== null && majorMinor(target.version) === '2.6') {
          // Known difference: 2.6 ends the connection once body bytes come after the answer.
          if (JSON.stringify(seen.statuses) !== '[401]' || seen.flushed >= SIZE) failures.push(`${what}; 2.6 (measured): [401], closed before the body is in`);
          continue;
        }
        const closedOk = seen.closedAfter !== null && seen.closedAfter >= 3000 - 300 && seen.closedAfter <= 3000 + (target.version === null ? 1000 : 300);
        const want = thenNext ? '[401,200]' : '[401]';
        if (JSON.stringify(seen.statuses) !== want || seen.flushed !== SIZE || !closedOk) failures.push(`${what}; 3.2 (measured): ${want}, the whole body, closed 3000 ms after`);
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
