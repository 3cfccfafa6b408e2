import { expect } from 'chai';
import { createAccessLogSink, formatCpiLine, formatHaproxyLine } from '../../src/observe/accessLog.js';
import { Collect, requestEvent, spoofedNoCertRequest, T0 } from './fixtures.js';

describe('observe/accessLog', () => {
  describe('cpi format (seed 003)', () => {
    it('shows CN of subject @ CN of issuer for a certificate request', () => {
      expect(formatCpiLine(requestEvent())).to.equal(
        '192.0.2.10 - dev-client@Acme Issuing CA 1 [23/Nov/2026:15:40:12 +0000] "GET /http/Sales_Order HTTP/1.1" 200',
      );
    });
    it('shows the mapped user instead of CN@CN when a certificate-to-user mapping applied', () => {
      expect(formatCpiLine(requestEvent({ mappedUser: 'SALES_SENDER', method: 'POST' }))).to.equal(
        '192.0.2.10 - SALES_SENDER [23/Nov/2026:15:40:12 +0000] "POST /http/Sales_Order HTTP/1.1" 200',
      );
    });
    it('shows - when no certificate came', () => {
      expect(formatCpiLine(spoofedNoCertRequest({ status: 401, method: 'POST', path: '/http/Sales_Order' }))).to.equal(
        '198.51.100.7 - - [23/Nov/2026:15:40:12 +0000] "POST /http/Sales_Order HTTP/1.1" 401',
      );
    });
    it('escapes control bytes and quotes a client could smuggle into the line', () => {
      const line = formatCpiLine(requestEvent({ path: '/a"b\r\nforged 200' }));
      expect(line).to.not.match(/[\r\n]/);
      expect(line).to.contain('"GET /a#22b#0D#0Aforged 200 HTTP/1.1"');
    });
  });

  describe('haproxy format', () => {
    it('writes an httplog-style line', () => {
      expect(formatHaproxyLine(requestEvent())).to.equal(
        '192.0.2.10:51514 [23/Nov/2026:15:40:12.345] https~ api.acme.test//127.0.0.1:8081 0/0/1/2/3 200 512 - - ---- 0/0/0/0/0 0/0 "GET /http/Sales_Order HTTP/1.1"',
      );
    });
    it('marks requests the edge answered itself', () => {
      const line = formatHaproxyLine(requestEvent({ route: null, upstream: null, status: 502, error: 'upstream refused', listener: 'http', httpVersion: 'HTTP/1.0' }));
      expect(line).to.contain(' http <NOSRV>/<NOSRV> 0/0/-1/-1/3 502 512 - - SC-- ');
      expect(line).to.match(/"GET \/http\/Sales_Order HTTP\/1\.0"$/);
    });
  });

  describe('sink', () => {
    it('batches lines into one write per turn and ignores other events', async () => {
      const out = new Collect();
      const sink = createAccessLogSink({ format: 'cpi', stream: out });
      sink.emit(requestEvent());
      sink.emit({ kind: 'lifecycle', time: T0, level: 'info', message: 'hello' });
      sink.emit(spoofedNoCertRequest());
      expect(out.chunks).to.have.length(0); // nothing written synchronously on the request path
      await new Promise((r) => setImmediate(r));
      expect(out.chunks).to.have.length(1);
      expect(out.lines).to.have.length(2);
      expect(out.lines[1]).to.match(/^198\.51\.100\.7 - - \[/);
      await sink.close();
    });
    it('drops beyond its bound while the stream does not drain, and says so', async () => {
      const out = new Collect({ highWaterMark: 1 });
      // A stream that never finishes a write: nothing drains.
      out._write = () => undefined;
      const sink = createAccessLogSink({ format: 'cpi', stream: out, maxQueued: 3 });
      sink.emit(requestEvent());
      sink.flush(); // first write fills the stream
      for (let i = 0; i < 10; i++) sink.emit(requestEvent());
      expect(sink.dropped).to.equal(7);
      await sink.close();
    });
    it('drops beyond its character bound too: long request targets cannot grow the queue to the line bound', async () => {
      const out = new Collect({ highWaterMark: 1 });
      out._write = () => undefined;
      const sink = createAccessLogSink({ format: 'cpi', stream: out, maxQueuedChars: 100_000 });
      sink.emit(requestEvent());
      sink.flush();
      // 20 lines of about 15 KB (a request target at max_header_size): the bound holds the first 7.
      for (let i = 0; i < 20; i++) sink.emit(requestEvent({ path: `/${'a'.repeat(15_000)}` }));
      expect(sink.dropped).to.equal(13);
      await sink.close();
    });
  });
});
