// Response heads and bodies from a hostile app that HAProxy 2.6 and 3.2 refuse (502) or relay in
// their own way, as measured behind a raw upstream with the Cloud Foundry template (tune.bufsize
// 16384, max_header_size 15360): used by test/edge/upstreamResponse.test.ts and the parity file.
import { MAX_HEADER_LINES } from '../../src/edge/stages/headerCount.js';

/** A 200 whose head (status line to the blank line) is exactly `bytes` long: Content-Length, `small` short headers, one padded X-Big. */
function sizedHead(bytes: number, small = 0): string {
  let head = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n';
  for (let i = 0; i < small; i++) head += `X-S${String(i).padStart(2, '0')}: v\r\n`;
  const fixed = head.length + 'X-Big: \r\n\r\n'.length;
  return `${head}X-Big: ${'a'.repeat(bytes - fixed)}\r\n\r\nok`;
}

/** A 200 with `lines` header lines, the first `first`. */
function withLines(lines: number, first = 'Content-Length: 2'): string {
  const head = [first];
  if (first !== 'Content-Length: 2') head.push('Content-Length: 2');
  while (head.length < lines) head.push(`X-H${head.length}: v`);
  return `HTTP/1.1 200 OK\r\n${head.join('\r\n')}\r\n\r\nok`;
}

const te = (value: string, body = '5\r\nhello\r\n0\r\n\r\n'): string => `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${value}\r\n\r\n${body}`;

export interface ResponseCase {
  readonly path: string;
  readonly what: string;
  readonly answer: string;
  /** What the client reads: the status, and for 204/304 the Content-Length relayed (null: none). */
  readonly want: { readonly status: number; readonly contentLength?: string | null };
  /** HAProxy 2.6 differs (the edge follows 3.2), and why. */
  readonly h26?: { readonly status: number; readonly why: string };
}

export const RESPONSE_CASES: readonly ResponseCase[] = [
  { path: '/head-15273', what: 'a 15,273-byte head (two headers)', answer: sizedHead(15_273), want: { status: 200 } },
  { path: '/head-15274', what: 'a 15,274-byte head', answer: sizedHead(15_274), want: { status: 502 } },
  { path: '/head-16300', what: 'a 16.3 KB head (under undici\'s 16 KiB of names and values)', answer: sizedHead(16_300), want: { status: 502 } },
  // Each header costs HAProxy 4 bytes more than on the wire (an 8-byte block instead of ": " and CRLF).
  { path: '/head-20-15193', what: 'a 15,193-byte head with 20 more headers', answer: sizedHead(15_193, 20), want: { status: 200 } },
  { path: '/head-20-15194', what: 'a 15,194-byte head with 20 more headers', answer: sizedHead(15_194, 20), want: { status: 502 } },
  { path: '/lines-100', what: `${MAX_HEADER_LINES} header lines`, answer: withLines(MAX_HEADER_LINES), want: { status: 200 } },
  { path: '/lines-101', what: `${MAX_HEADER_LINES + 1} header lines`, answer: withLines(MAX_HEADER_LINES + 1), want: { status: 502 } },
  { path: '/lines-101-keepalive', what: `${MAX_HEADER_LINES + 1} header lines, one "Connection: keep-alive" (HAProxy drops it)`, answer: withLines(MAX_HEADER_LINES + 1, 'Connection: keep-alive'), want: { status: 200 } },
  { path: '/te-chunked', what: 'Transfer-Encoding: chunked', answer: te('chunked'), want: { status: 200 } },
  { path: '/te-gzip', what: 'Transfer-Encoding: gzip, body until close', answer: te('gzip', 'hello'), want: { status: 502 } },
  { path: '/te-gzip-chunked', what: 'Transfer-Encoding: gzip, chunked', answer: te('gzip, chunked'), want: { status: 502 } },
  { path: '/te-identity', what: 'Transfer-Encoding: identity', answer: te('identity', 'hello'), want: { status: 502 } },
  { path: '/te-twice', what: 'two Transfer-Encoding: chunked headers', answer: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, want: { status: 502 } },
  { path: '/te-empty', what: 'an empty Transfer-Encoding', answer: te('', 'hello'), want: { status: 502 }, h26: { status: 200, why: '2.6 ignores an empty Transfer-Encoding and relays the body until close' } },
  { path: '/te-chunked-comma', what: 'Transfer-Encoding: "chunked,"', answer: te('chunked,'), want: { status: 502 }, h26: { status: 200, why: '2.6 ignores the empty element' } },
  { path: '/badchunk', what: 'a malformed chunk size right after the head', answer: te('chunked', 'zz\r\nhello\r\n0\r\n\r\n'), want: { status: 502 } },
  { path: '/204-cl5', what: 'a 204 with Content-Length: 5 and no body', answer: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', want: { status: 204, contentLength: null } },
  { path: '/204-cl0', what: 'a 204 with Content-Length: 0', answer: 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', want: { status: 204, contentLength: null } },
  { path: '/304-cl5', what: 'a 304 with Content-Length: 5 (kept)', answer: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', want: { status: 304, contentLength: '5' } },
];

export const RESPONSE_ANSWERS: Readonly<Record<string, string>> = Object.fromEntries(RESPONSE_CASES.map((c) => [c.path, c.answer]));
