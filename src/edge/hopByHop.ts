// The hop-by-hop header names (RFC 9110 §7.6.1, plus the pre-standard Keep-Alive and
// Proxy-Connection): they describe one connection, so the edge forwards them in neither direction.
// Each hop (the client's, the upstream's) sets its own.

/** Connection-level names in either direction, lower-case. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

/**
 * Requests also lose TE (it asks the next hop about transfer codings) and Expect (the edge answers
 * `100-continue` itself, so the upstream never sees the expectation).
 */
export const HOP_BY_HOP_REQUEST_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP_HEADERS, 'te', 'expect']);
