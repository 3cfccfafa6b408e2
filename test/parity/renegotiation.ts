// Client-initiated TLS 1.2 renegotiation, as a client observes it: one request, then
// `socket.renegotiate()`, then a second request on the same connection. HAProxy refuses the
// renegotiation (OpenSSL's no-renegotiation option: a no_renegotiation warning alert) and the
// connection keeps the certificate of its handshake.
import type tls from 'node:tls';
import { alertOf } from './parityCases.js';
import { ResponseReader, tlsConnect, upstreamValues } from '../support/rawHttp.js';
import type { ClientIdentity } from '../support/edgeHarness.js';

export interface RenegotiationOutcome {
  /** What `renegotiate()`'s callback got: `ok`, a TLS alert name, or an error code. */
  readonly renegotiate: string;
  /** Status of the request after the renegotiation attempt, or how the connection ended instead. */
  readonly second: string;
  /** X-SSL-Client-Subject-DN the upstream received with the second request (null when none arrived). */
  readonly subjectDn: string[] | null;
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: mtls-edge-parity\r\n\r\n';

/** The alert name, or OpenSSL's reason (`...:SSL routines:ssl3_read_bytes:no renegotiation:...` → `no renegotiation`), or the code. */
function reasonOf(e: Error & { code?: string }): string {
  return alertOf(e) ?? /SSL routines:[^:]*:([^:]+):/.exec(e.message)?.[1] ?? e.code ?? e.message;
}

/**
 * Starts the renegotiation and waits for its end: the callback, or an error or close on the socket
 * (a refusal arrives as a socket error, not through the callback), at most `timeoutMs`.
 */
function renegotiate(socket: tls.TLSSocket, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (what: string): void => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      resolve(what);
    };
    const onError = (e: Error & { code?: string }): void => done(`error: ${reasonOf(e)}`);
    const onClose = (): void => done('connection closed');
    const timer = setTimeout(() => done('no answer (timed out)'), timeoutMs);
    socket.on('error', onError);
    socket.once('close', onClose);
    const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => done(err ? `error: ${reasonOf(err)}` : 'ok'));
    if (!started) done('not started');
  });
}

export async function renegotiationOutcome(port: number, identity: ClientIdentity): Promise<RenegotiationOutcome> {
  const socket = await tlsConnect(port, { identity, maxVersion: 'TLSv1.2' });
  const reader = new ResponseReader(socket);
  try {
    socket.write(REQUEST);
    const first = await reader.next(5000);
    if (first.status !== 200) return { renegotiate: 'not tried', second: `first request answered ${first.status}`, subjectDn: null };
    const renegotiated = await renegotiate(socket, 5000);
    if (socket.destroyed || !socket.writable) return { renegotiate: renegotiated, second: 'none (connection closed)', subjectDn: null };
    socket.write(REQUEST);
    try {
      const second = await reader.next(5000);
      return { renegotiate: renegotiated, second: `HTTP ${second.status}`, subjectDn: second.echo ? upstreamValues(second, 'X-SSL-Client-Subject-DN') : null };
    } catch (e) {
      const err = e as Error & { code?: string };
      // Closed before or after the write: the same outcome for the client (which of the two depends on timing).
      return { renegotiate: renegotiated, second: err.code === 'CLOSED' ? 'none (connection closed)' : `no response (${err.code ?? err.message})`, subjectDn: null };
    }
  } finally {
    socket.destroy();
  }
}
