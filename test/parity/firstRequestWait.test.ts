// The wait for a connection's FIRST request, against real HAProxy 2.6 and 3.2 (when found) with the
// same timeouts (request_headers 2 s, keep_alive 3 s, client 10 s), on the plain and the mTLS
// listener (from the handshake's end). Measured with 2.6.12 and 3.2.0, plain and TLS alike, within
// 25 ms: nothing sent gets the 408 and the close at `timeout http-request` (2.0 s); the first byte,
// an empty line included, starts `timeout http-request` again (CRLF every 500 ms: 2.5 s; one CRLF at
// 1 s: 3.0 s; half a request line at 0 s: 2.0 s, at 1 s: 3.0 s); a CRLF at 1 s and the request at
// 2.5 s is served, and the connection closes at `timeout http-keep-alive` after that answer.
import { expect } from 'chai';
import type net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { startSideBySide, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';
import { tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { recordingUpstream, type RecordingUpstream } from '../hostile/recordingUpstream.js';

const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
const WATCH_MS = 7000;
/** HAProxy is on time; the edge samples bytes every request_headers / 4 (500 ms), plus a loaded machine's slack. */
const EARLY_MS = 300;
const LATE_MS = 500 + 500;

interface Case {
  readonly name: string;
  /** From the connection's start: [at ms, bytes]. */
  readonly send: readonly (readonly [number, string])[];
  /** HAProxy 2.6 and 3.2 (measured): the statuses read, and when the connection closed (ms after the start). */
  readonly want: { readonly statuses: readonly number[]; readonly closedAt: number };
}

const CASES: readonly Case[] = [
  { name: 'nothing', send: [], want: { statuses: [408], closedAt: 2000 } },
  { name: 'CRLF every 500 ms', send: Array.from({ length: 12 }, (_, i) => [500 * (i + 1), '\r\n'] as const), want: { statuses: [408], closedAt: 2500 } },
  { name: 'one CRLF at 1 s', send: [[1000, '\r\n']], want: { statuses: [408], closedAt: 3000 } },
  { name: 'half a request line at once', send: [[0, 'GET / HT']], want: { statuses: [408], closedAt: 2000 } },
  { name: 'half a request line at 1 s', send: [[1000, 'GET / HT']], want: { statuses: [408], closedAt: 3000 } },
  { name: 'a CRLF at 1 s, the request at 2.5 s', send: [[1000, '\r\n'], [2500, GET]], want: { statuses: [200], closedAt: 5500 } },
];

interface Seen {
  readonly statuses: number[];
  readonly closedAt: number | null;
}

function watch(socket: net.Socket, c: Case): Promise<Seen> {
  return new Promise((resolve) => {
    const start = Date.now();
    let text = '';
    const timers = c.send.map(([at, bytes]) => setTimeout(() => {
      if (!socket.destroyed) socket.write(bytes);
    }, at));
    const finish = (closed: boolean): void => {
      for (const t of timers) clearTimeout(t);
      clearTimeout(limit);
      socket.destroy();
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), closedAt: closed ? Date.now() - start : null });
    };
    const limit = setTimeout(() => finish(false), WATCH_MS);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

describe('parity: the wait for a connection\'s first request (empty lines, silence, a late head)', function () {
  this.timeout(60_000);
  let run: SideBySide<RecordingUpstream, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    run = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'first-request-wait-parity-',
      timeouts: { keep_alive: 3, request_headers: 2, client: 10 },
      startUpstream: recordingUpstream,
      startEdge: (port, timeouts) => startTestEdge({}, `${timeouts}routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => run?.stop());

  for (const listener of ['plain HTTP', 'mTLS'] as const) {
    it(`${listener}: every case, every target at once`, async () => {
      const runs = run.targets.flatMap((t) => CASES.map(async (c) => {
        const socket = listener === 'mTLS' ? await tlsConnect(t.httpsPort, { identity }) : await tcpConnect(t.httpPort);
        return { target: t, c, seen: await watch(socket, c) };
      }));
      const failures: string[] = [];
      for (const { target, c, seen } of await Promise.all(runs)) {
        // HAProxy itself must be on time: the table above is what it was measured to do.
        const late = target.version === null ? LATE_MS : EARLY_MS;
        const closedOk = seen.closedAt !== null && seen.closedAt >= c.want.closedAt - EARLY_MS && seen.closedAt <= c.want.closedAt + late;
        if (JSON.stringify(seen.statuses) !== JSON.stringify(c.want.statuses) || !closedOk) {
          failures.push(`${target.name}, ${c.name}: read ${JSON.stringify(seen.statuses)}, closed at ${seen.closedAt} ms; HAProxy (measured): ${JSON.stringify(c.want.statuses)}, ${c.want.closedAt} ms`);
        }
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
