// A hostile app's response heads and bodies against real HAProxy (Debian's 2.6, the 3.2 build when
// found), each rendered from the Cloud Foundry template, and the edge, all in front of one raw app
// (test/support/upstreamResponseCases.ts): heads over the buffer (tune.bufsize less
// tune.maxrewrite, in HAProxy's HTX measure) or over tune.http.maxhdr, a transfer coding other
// than chunked and a malformed first chunk are HAProxy's 502; a 204 loses its Content-Length. The
// edge follows 3.2 where 2.6 is laxer (docs/parity.md#upstream-responses).
import { expect } from 'chai';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { header, ResponseReader, tcpConnect } from '../support/rawHttp.js';
import { startRawUpstream, type RawUpstream } from '../support/rawUpstream.js';
import { RESPONSE_ANSWERS, RESPONSE_CASES, type ResponseCase } from '../support/upstreamResponseCases.js';
import { majorMinor, startSideBySide, type ComparedTarget, type SideBySide } from './haproxy.js';
import { haproxyBinaries } from './ignoreParity.js';

/** What the client reads: the status, and for a 204/304 the Content-Length relayed. */
async function outcome(port: number, c: ResponseCase): Promise<string> {
  const socket = await tcpConnect(port);
  const reader = new ResponseReader(socket);
  socket.write(`GET ${c.path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  try {
    const r = await reader.next(5_000);
    return c.want.contentLength !== undefined ? `${r.status} content-length:${header(r, 'content-length') ?? 'none'}` : String(r.status);
  } catch (e) {
    return `no response (${(e as Error).message})`;
  } finally {
    socket.destroy();
  }
}

function wanted(c: ResponseCase, t: ComparedTarget): string {
  const status = t.version !== null && majorMinor(t.version) === '2.6' && c.h26 ? c.h26.status : c.want.status;
  return c.want.contentLength !== undefined ? `${status} content-length:${c.want.contentLength ?? 'none'}` : String(status);
}

describe('parity: response heads and bodies from a hostile app (HAProxy 2.6, 3.2 and the edge)', function () {
  this.timeout(60_000);
  let side: SideBySide<RawUpstream, TestEdge>;
  before(async () => {
    const { pki } = await testPki();
    side = await startSideBySide({
      bins: haproxyBinaries(), pki, workDirPrefix: 'upstream-response-parity-',
      startUpstream: () => startRawUpstream(RESPONSE_ANSWERS),
      startEdge: (port) => startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n`),
    });
  });
  after(() => side?.stop());

  const check = async (pick: (t: ComparedTarget) => boolean): Promise<void> => {
    const targets = side.targets.filter(pick);
    const failures: string[] = [];
    await Promise.all(targets.flatMap((t) => RESPONSE_CASES.map(async (c) => {
      const got = await outcome(t.httpPort, c);
      if (got !== wanted(c, t)) failures.push(`${t.name}, ${c.what}: ${got}, want ${wanted(c, t)}`);
    })));
    expect(failures).to.deep.equal([]);
  };

  it('the edge: the table (3.2\'s answers)', () => check((t) => t.version === null));
  for (const v of ['2.6', '3.2']) {
    it(`HAProxy ${v}: the table as measured`, async function () {
      if (!side.targets.some((t) => t.version !== null && majorMinor(t.version) === v)) {
        console.log(`    skipped: no HAProxy ${v} binary found (haproxyBinaries: Debian's haproxy, ../shared/tools/haproxy-3.2)`);
        this.skip();
      }
      await check((t) => t.version !== null && majorMinor(t.version) === v);
    });
  }
});
