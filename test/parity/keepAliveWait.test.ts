// The wait for the next request on a keep-alive connection, against real HAProxy 2.6 and 3.2 (when
// found) with the same timeouts (keep_alive 3 s, request_headers 2 s, client 4 s): what the client
// sends after its first answer, what it reads and when the connection closes, on the plain and the
// mTLS listener (src/edge/nextRequestWait.ts). Measured with 2.6.12 and 3.2: nothing sent closes
// silently at `timeout http-keep-alive`; the first byte, an empty line included, starts `timeout
// http-request`, and a head not complete by then gets 408 and the close.
import { expect } from 'chai';
import net from 'node:net';
import { clientIdentity, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { startSideBySide, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';
import { tcpConnect, tlsConnect } from '../support/rawHttp.js';
import { recordingUpstream, type RecordingUpstream } from '../hostile/recordingUpstream.js';

const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
/** How long each case watches the connection after the first answer. */
const WATCH_MS = 7000;
/** The edge samples the wait every request_headers / 4 (500 ms); plus a loaded machine's slack. */
const CLOSE_SLACK_MS = 1000;

interface Case {
  readonly name: string;
  /** After the first answer: [delay ms, bytes] in turn. */
  readonly then: readonly (readonly [number, string])[];
  /** HAProxy 2.6 and 3.2 (measured): the statuses read after the first 200, and when the connection closed (ms after that 200; null: still open at WATCH_MS). */
  readonly want: { readonly statuses: readonly number[]; readonly closedAfter: number | null };
}

const drip = (n: number, everyMs: number): [number, string][] => Array.from({ length: n }, () => [everyMs, '\r\n'] as [number, string]);

const CASES: readonly Case[] = [
  { name: 'CRLF once a second', then: drip(6, 1000), want: { statuses: [408], closedAfter: 3000 } },
  { name: 'CRLF every 300 ms', then: drip(20, 300), want: { statuses: [408], closedAfter: 2300 } },
  { name: 'nothing', then: [], want: { statuses: [], closedAfter: 3000 } },
  { name: 'CRLF at 1 s and 2 s, a request at 2.5 s', then: [...drip(2, 1000), [500, GET]], want: { statuses: [200], closedAfter: 5500 } },
  { name: 'part of a request line at 2.5 s', then: [[2500, 'GET / HT']], want: { statuses: [408], closedAfter: 4500 } },
];

interface Seen {
  readonly statuses: number[];
  readonly closedAfter: number | null;
}

/** Sends the first request and the case's bytes; reads the statuses after the first 200 and when the connection closes. */
function watch(socket: net.Socket, c: Case): Promise<Seen> {
  return new Promise((resolve) => {
    let text = '';
    let answeredAt = 0;
    const statuses: number[] = [];
    const finish = (closed: boolean): void => {
      clearTimeout(limit);
      socket.destroy();
      resolve({ statuses: statuses.slice(1), closedAfter: closed && answeredAt > 0 ? Date.now() - answeredAt : null });
    };
    const limit = setTimeout(() => finish(false), WATCH_MS + 3000);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (let m = /HTTP\/1\.1 (\d{3})/.exec(text); m; m = /HTTP\/1\.1 (\d{3})/.exec(text)) {
        statuses.push(Number(m[1]));
        text = text.slice(m.index + m[0].length);
        if (statuses.length === 1) {
          answeredAt = Date.now();
          void sendRest();
        }
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    const sendRest = async (): Promise<void> => {
      for (const [delay, bytes] of c.then) {
        await new Promise((r) => setTimeout(r, delay));
        if (socket.destroyed) return;
        socket.write(bytes);
      }
    };
    socket.write(GET);
  });
}

describe('parity: the wait for the next keep-alive request (empty lines, silence, a late head)', function () {
  this.timeout(60_000);
  let run: SideBySide<RecordingUpstream, TestEdge>;
  let identity: ClientIdentity;

  before(async () => {
    const { pki } = await testPki();
    identity = await clientIdentity('valid');
    run = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'keep-alive-wait-parity-',
      timeouts: { keep_alive: 3, request_headers: 2, client: 4, request: 6 },
      startUpstream: recordingUpstream,
      startEdge: (port, timeouts) => startTestEdge({}, `${timeouts}routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => run?.stop());

  const plain = (port: number): Promise<net.Socket> => tcpConnect(port);
  const mtls = (port: number): Promise<net.Socket> => tlsConnect(port, { identity });

  for (const listener of ['plain HTTP', 'mTLS'] as const) {
    it(`${listener}: every case, every target at once`, async () => {
      const runs = run.targets.flatMap((t) => CASES.map(async (c) => {
        const socket = listener === 'mTLS' ? await mtls(t.httpsPort) : await plain(t.httpPort);
        return { target: t.name, c, seen: await watch(socket, c) };
      }));
      const failures: string[] = [];
      for (const { target, c, seen } of await Promise.all(runs)) {
        const closedOk = c.want.closedAfter === null ? seen.closedAfter === null : seen.closedAfter !== null && Math.abs(seen.closedAfter - c.want.closedAfter) <= CLOSE_SLACK_MS;
        if (JSON.stringify(seen.statuses) !== JSON.stringify(c.want.statuses) || !closedOk) {
          failures.push(`${target}, ${c.name}: read ${JSON.stringify(seen.statuses)}, closed after ${seen.closedAfter} ms; HAProxy (measured): ${JSON.stringify(c.want.statuses)}, ${c.want.closedAfter} ms`);
        }
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
