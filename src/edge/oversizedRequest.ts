// Which status an oversized request head gets. Node's parser reports HPE_HEADER_OVERFLOW whether the
// request line or the headers pushed the head past max_header_size; HAProxy answers 414 URI Too Long
// when the request line alone does not fit and 431 otherwise. The clientError's public fields tell
// the two apart: `rawPacket` is the packet being parsed and `bytesParsed` how far the parser got in it
// before giving up. No line end before that point in a packet that starts with the request line
// means the request line itself overflowed.

/** A method token and its space: the packet holds the start of the request. */
const REQUEST_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

export function oversizedRequestStatus(rawPacket: unknown, bytesParsed: unknown): 414 | 431 {
  if (!Buffer.isBuffer(rawPacket) || typeof bytesParsed !== 'number' || !Number.isInteger(bytesParsed) || bytesParsed < 0) return 431;
  // A packet that continues an earlier one (a client writing in small pieces) could be the rest of a
  // long URI or of a long header: it cannot be told, and 431 is the general answer.
  if (!REQUEST_START.test(rawPacket.subarray(0, 32).toString('latin1'))) return 431;
  const parsed = rawPacket.subarray(0, Math.min(bytesParsed, rawPacket.length));
  return parsed.includes(0x0a) ? 431 : 414;
}
