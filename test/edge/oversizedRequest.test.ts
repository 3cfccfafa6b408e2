// 414, 431 or 400 (too many lines) for an oversized request head, from what Node's clientError reports (rawPacket, bytesParsed).
import { expect } from 'chai';
import { oversizedRequestStatus } from '../../src/edge/oversizedRequest.js';

const longUri = Buffer.from(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
const longHeader = Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(17_000)}\r\n\r\n`);
const continuation = Buffer.from('a'.repeat(1000));
/** `lines` header lines of 50 bytes each, after a request line. */
const manyLines = (lines: number): Buffer => Buffer.from(`GET / HTTP/1.1\r\n${Array.from({ length: lines }, (_, i) => `X-H${String(i).padStart(3, '0')}: ${'v'.repeat(42)}\r\n`).join('')}\r\n`);
const lines101 = manyLines(101);
const lines400 = manyLines(400);

// [what, rawPacket, bytesParsed (where Node's parser stopped, as measured with Node 20), status]
const TABLE: readonly [string, unknown, unknown, 400 | 414 | 431][] = [
  ['long URI, whole head in one packet: the parser stops at the end of the URI', longUri, 20_005, 414],
  ['long URI whose line end is in the packet but after the stop point', longUri, 15_400, 414],
  ['long header, one packet: the request line ended before the stop point', longHeader, 17_029, 431],
  ['long header that overflows right after the request line', longHeader, 16, 431],
  ['POST with a long URI', Buffer.from(`POST /${'a'.repeat(20_000)} HTTP/1.1\r\n`), 20_006, 414],
  ['a packet continuing an earlier one (URI or header: cannot be told)', continuation, 1000, 431],
  ['no rawPacket', undefined, 100, 431],
  ['no bytesParsed', longUri, undefined, 431],
  ['bytesParsed beyond the packet', Buffer.from('GET /aaaa'), 1e9, 414],
  ['negative bytesParsed', longUri, -5, 431],
  ['400 header lines of 50 bytes: over tune.http.maxhdr before the buffer is full (HAProxy\'s 400)', lines400, 15_360, 400],
  ['101 header lines, all before the stop point', lines101, lines101.length - 2, 400],
  ['101 header lines, the stop point inside the last one', lines101, lines101.length - 10, 431],
  ['100 header lines, then a long one', Buffer.concat([manyLines(100).subarray(0, -2), Buffer.from(`X-Big: ${'x'.repeat(17_000)}\r\n\r\n`)]), 16_000, 431],
  ['many header lines in a packet continuing an earlier one', lines400.subarray(16), 15_360, 431],
];

describe('edge/oversizedRequest: 414 for an overlong request line, 431 for overlong headers, 400 for too many lines', () => {
  for (const [what, raw, parsed, status] of TABLE) {
    it(`${what} → ${status}`, () => {
      expect(oversizedRequestStatus(raw, parsed)).to.equal(status);
    });
  }
});
