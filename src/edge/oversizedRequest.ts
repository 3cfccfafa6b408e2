// Which status an oversized request head gets. Node's parser reports HPE_HEADER_OVERFLOW whether the
// request line or the headers pushed the head past max_header_size; HAProxy answers 414 URI Too Long
// when the request line alone does not fit and 431 otherwise. The clientError's public fields tell
// the two apart: `rawPacket` is the packet being parsed and `bytesParsed` how far the parser got in it
// before giving up. No line end before that point in a packet that starts with the request line
// means the request line itself overflowed. A head that holds more header lines than HAProxy's
// tune.http.maxhdr before that point is HAProxy's 400 instead (its parser counts the lines before the
// buffer runs out: 400 header lines of 50 bytes are 400 with 2.6 and 3.2, not 431).

import { MAX_HEADER_LINES } from './stages/headerCount.js';

/** A method token and its space: the packet holds the start of the request. */
const REQUEST_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/** Line ends in `bytes`, counting no further than `atMost`. */
function lineEnds(bytes: Buffer, atMost: number): number {
  let count = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && count < atMost; i = bytes.indexOf(0x0a, i + 1)) count++;
  return count;
}

export function oversizedRequestStatus(rawPacket: unknown, bytesParsed: unknown): 400 | 414 | 431 {
  if (!Buffer.isBuffer(rawPacket) || typeof bytesParsed !== 'number' || !Number.isInteger(bytesParsed) || bytesParsed < 0) return 431;
  // A packet that continues an earlier one (a client writing in small pieces) could be the rest of a
  // long URI or of a long header: it cannot be told, and 431 is the general answer.
  if (!REQUEST_START.test(rawPacket.subarray(0, 32).toString('latin1'))) return 431;
  const parsed = rawPacket.subarray(0, Math.min(bytesParsed, rawPacket.length));
  // The request line's end, then one header line more than the limit.
  const tooMany = MAX_HEADER_LINES + 2;
  const ends = lineEnds(parsed, tooMany);
  if (ends >= tooMany) return 400;
  return ends > 0 ? 431 : 414;
}
