// The response heads HAProxy's parser refuses with its 502 page before the client gets a byte
// (measured with HAProxy 2.6 and 3.2 behind a raw upstream, test/parity/upstreamResponse.test.ts):
//  - more than tune.http.maxhdr (101) lines, the status line included: 100 header lines pass;
//  - a head that does not fit in the buffer less tune.maxrewrite. HAProxy stores it as HTX: per
//    header its name, value and an 8-byte block, the start line as version, status and reason plus
//    a 20-byte struct and a block, a 9-byte end-of-headers block, in a buffer that also holds a
//    48-byte HTX header. With tune.bufsize 16384 a head of two headers passes up to 15,273 bytes on
//    the wire, every further header costs 4 bytes more than its wire size, the reason phrase costs
//    what it weighs; with bufsize 32768 the same head passes up to 31,657 bytes;
//  - a Transfer-Encoding other than one `chunked` (gzip, identity, `gzip, chunked`, chunked twice,
//    a parameter, an empty value), whatever the status or method.
// HAProxy drops a Connection header that only says keep-alive or close before it stores the head:
// such a header costs neither a line nor bytes. (A Connection header that names more is counted
// whole here; HAProxy stores it without those tokens, a few bytes less.)
import { MAX_HEADER_LINES } from './stages/headerCount.js';
import { HTX_BLOCK } from './stages/rewriteBudget.js';

/** HAProxy's HTX header (48), the start line's struct (20) and block, the end-of-headers block (1 byte of data). */
const HTX_HEAD_OVERHEAD = 48 + 20 + HTX_BLOCK + HTX_BLOCK + 1;
/** The start line's fixed strings: `HTTP/1.1` and the three-digit status. */
const START_LINE_FIXED = 8 + 3;

/**
 * The largest response head HAProxy stores, in its HTX size, for the edge's max_header_size (the
 * request head HAProxy reads: tune.bufsize less tune.maxrewrite, the same buffer for a response).
 */
export function responseHeadLimit(maxHeaderSize: number): number {
  return maxHeaderSize - HTX_HEAD_OVERHEAD;
}

type Bytes = Buffer | string;

function byteAt(b: Bytes, i: number): number {
  return typeof b === 'string' ? b.charCodeAt(i) : b[i]!;
}

/** `b` is `lower` (lower-case ASCII) in any case. */
function isName(b: Bytes, lower: string): boolean {
  if (b.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((byteAt(b, i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const isOws = (c: number): boolean => c === 0x20 || c === 0x09;

/** The value between `start` and `end`, without surrounding whitespace, is `lower` in any case. */
function tokenIs(b: Bytes, start: number, end: number, lower: string): boolean {
  while (start < end && isOws(byteAt(b, start))) start++;
  while (end > start && isOws(byteAt(b, end - 1))) end--;
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((byteAt(b, start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** A Connection value of keep-alive and close tokens only (HAProxy removes them and then the empty header). */
function onlyPersistenceTokens(value: Bytes): boolean {
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && byteAt(value, i) !== 0x2c) continue;
    if (!tokenIs(value, start, i, 'keep-alive') && !tokenIs(value, start, i, 'close')) return false;
    start = i + 1;
  }
  return true;
}

/**
 * Why HAProxy would refuse this response head (its 502), or null. `raw` is the head's
 * [name, value, …] list as received; `limit` comes from responseHeadLimit. No allocation unless refused.
 */
export function refusedResponseHead(raw: readonly Bytes[], reasonLength: number, limit: number): string | null {
  let size = START_LINE_FIXED + reasonLength;
  let lines = 0;
  let chunked = 0;
  let otherCoding = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.length === 10 && isName(name, 'connection') && onlyPersistenceTokens(value)) continue;
    lines++;
    size += name.length + value.length + HTX_BLOCK;
    if (name.length === 17 && isName(name, 'transfer-encoding')) {
      if (tokenIs(value, 0, value.length, 'chunked')) chunked++;
      else otherCoding = true;
    }
  }
  if (lines > MAX_HEADER_LINES) return `the response head has ${lines} header lines, more than HAProxy's ${MAX_HEADER_LINES} (tune.http.maxhdr ${MAX_HEADER_LINES + 1} counts the status line)`;
  if (size > limit) return `the response head takes ${size} bytes in HAProxy's buffer, more than the ${limit} it holds (tune.bufsize less tune.maxrewrite)`;
  if (otherCoding || chunked > 1) return 'the response Transfer-Encoding is not a single "chunked" (HAProxy refuses any other transfer coding from a server)';
  return null;
}
