// What the edge makes of an app's response head and body that HAProxy refuses or rewrites
// (src/edge/responseHead.ts, proxy.ts), on loopback behind a raw app: heads over HAProxy's buffer or
// line limit, a transfer coding other than chunked and a malformed first chunk get HAProxy's 502
// page; a 204's Content-Length is dropped and a 204 that owes body bytes is relayed complete.
import { expect } from 'chai';
import type { RequestEvent } from '../../src/observe/events.js';
import { startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { header, ResponseReader, tcpConnect } from '../support/rawHttp.js';
import { startRawUpstream, type RawUpstream } from '../support/rawUpstream.js';
import { RESPONSE_ANSWERS, RESPONSE_CASES } from '../support/upstreamResponseCases.js';

describe('edge: response heads and bodies HAProxy refuses get its 502; a 204 is relayed as HAProxy does', function () {
  this.timeout(30_000);
  let upstream: RawUpstream;
  let edge: TestEdge;
  before(async () => {
    upstream = await startRawUpstream(RESPONSE_ANSWERS);
    edge = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${upstream.port}\n`);
  });
  after(async () => {
    await edge?.close();
    await upstream?.close();
  });

  for (const c of RESPONSE_CASES) {
    it(`${c.what}: ${c.want.status}${c.want.contentLength !== undefined ? `, Content-Length ${c.want.contentLength ?? 'dropped'}` : ''}`, async () => {
      const socket = await tcpConnect(edge.httpPort);
      const reader = new ResponseReader(socket);
      socket.write(`GET ${c.path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const r = await reader.next(5_000);
      socket.destroy();
      expect(r.status).to.equal(c.want.status);
      if (c.want.contentLength !== undefined) expect(header(r, 'content-length') ?? null).to.equal(c.want.contentLength);
      if (c.want.status === 502) {
        expect(r.body.toString()).to.contain('The server returned an invalid or incomplete response.');
        expect(header(r, 'x-mtls-edge-error')).to.be.a('string');
      }
      if (c.path === '/te-chunked') expect(r.body.toString()).to.equal('hello');
    });
  }

  it('logs the refused head as the 502 the edge answered, and a 204 that owed body bytes as the app\'s 204 without an error', async () => {
    const events = edge.events.filter((e): e is RequestEvent => e.kind === 'request');
    const at = (path: string): RequestEvent | undefined => events.find((e) => e.path === path);
    expect(at('/te-gzip')).to.deep.include({ status: 502 });
    expect(at('/te-gzip')!.error).to.contain('Transfer-Encoding');
    expect(at('/lines-101')!.error).to.contain('header lines');
    expect(at('/head-15274')!.error).to.contain('15275');
    expect(at('/204-cl5')).to.deep.include({ status: 204, error: null });
  });
});
