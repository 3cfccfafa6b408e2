// HAProxy's two checks of a WebSocket handshake, as its HTTP/1 parser makes them (2.6 and 3.2, the
// same on loopback; test/parity/websocketHandshake.test.ts runs them side by side):
// - a request whose Connection headers carry the `upgrade` token and whose last Upgrade header
//   carries the `websocket` token needs a Sec-WebSocket-Key header of 24 characters (any one of
//   them, its value trimmed; the key itself is not decoded), else HAProxy answers 400;
// - a 101 answer with the same two tokens in its own headers needs a Sec-WebSocket-Accept header
//   (its value is not checked), else HAProxy answers 502.
// Other upgrades (h2c, a 101 without `Upgrade: websocket`) pass unchecked, as through HAProxy.

/** RFC 6455: a base64-encoded 16-byte nonce is 24 characters; HAProxy checks only the length. */
const WEBSOCKET_KEY_LENGTH = 24;

function hasToken(value: string, token: string): boolean {
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}

/** Connection's `upgrade` token in any Connection header, `websocket` in the last Upgrade header. */
export function isWebSocketHandshake(rawHeaders: readonly string[]): boolean {
  let connectionUpgrade = false;
  let upgradeWebSocket = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'connection') connectionUpgrade ||= hasToken(rawHeaders[i + 1]!, 'upgrade');
    else if (name === 'upgrade') upgradeWebSocket = hasToken(rawHeaders[i + 1]!, 'websocket');
  }
  return connectionUpgrade && upgradeWebSocket;
}

/** Why HAProxy would answer this WebSocket request with 400, or null when it passes. */
export function webSocketKeyRefusal(rawHeaders: readonly string[]): string | null {
  let seen = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'sec-websocket-key') continue;
    if (rawHeaders[i + 1]!.trim().length === WEBSOCKET_KEY_LENGTH) return null;
    seen++;
  }
  return seen === 0
    ? 'WebSocket upgrade without Sec-WebSocket-Key (HAProxy answers 400)'
    : `WebSocket upgrade whose Sec-WebSocket-Key is not ${WEBSOCKET_KEY_LENGTH} characters long (HAProxy answers 400)`;
}

/** A 101 to a WebSocket upgrade without Sec-WebSocket-Accept: HAProxy answers 502 instead. */
export function lacksWebSocketAccept(rawHeaders: readonly string[]): boolean {
  if (!isWebSocketHandshake(rawHeaders)) return false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'sec-websocket-accept') return false;
  return true;
}
