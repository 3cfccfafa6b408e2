// The edge's only access to Node internals (and to one undocumented http.Server field, at the end).
// The TLS front (tlsFront.ts) creates each server
// TLSSocket itself, after reading the ClientHello, because the client-auth mode (requestCert) is a
// property of the socket and must follow the SNI; tls.Server cannot do that. Node's public API for
// a server socket's handshake (the 'tlsClientError' event, `authorized`, `authorizationError`) is
// implemented by tls.Server around the sockets *it* creates (lib/_tls_wrap.js
// tlsConnectionListener and onServerSocketSecure), so a socket made with `new tls.TLSSocket` gets
// none of it. Each function below does what tls.Server does for its own sockets, on the same
// internals, and nothing else. test/tls/nodeTlsInternals.test.ts runs every one of them through
// real handshakes; CI runs that file on Node 20 and on Node 22 (.ci/node22-smoke.sh), so a Node
// change that removes one fails there, not in production.
import type { Server as HttpServer } from 'node:http';
import type { TLSSocket } from 'node:tls';

export type HandshakeError = Error & { code?: string };
type HandshakeErrorListener = (this: TLSSocket, err: HandshakeError) => void;

/** The native TLS handle's methods read here (Node's TLSWrap). */
interface TlsHandle {
  verifyError(): HandshakeError | null;
  getServername(): string | false;
}

/** The socket's fields and methods Node keeps private. */
interface TlsSocketInternals {
  readonly _handle: TlsHandle | null;
  _releaseControl(): boolean;
}

function internals(socket: TLSSocket): TlsSocketInternals {
  return socket as unknown as TlsSocketInternals;
}

/**
 * Listens for the errors that end a server socket's handshake (an alert from OpenSSL, a missing
 * client certificate, bytes that are not TLS, a reset). No public way: until control is released
 * (releaseHandshakeErrors) a server TLSSocket emits them only as '_tlsError'; tls.Server turns them
 * into its 'tlsClientError', which a socket created outside a tls.Server never reaches.
 */
export function onHandshakeError(socket: TLSSocket, listener: HandshakeErrorListener): void {
  socket.on('_tlsError', listener);
}

/** Removes a listener added by onHandshakeError. */
export function offHandshakeError(socket: TLSSocket, listener: HandshakeErrorListener): void {
  socket.removeListener('_tlsError', listener);
}

/**
 * After a completed handshake: later TLS errors (a bad record, an alert, a refused renegotiation)
 * become ordinary 'error' events, so the socket's owner closes the connection; without this Node
 * swallows them and the TCP connection stays open until a timeout. No public way: tls.Server does
 * exactly this call for its own sockets before emitting 'secureConnection'.
 */
export function releaseHandshakeErrors(socket: TLSSocket): void {
  internals(socket)._releaseControl();
}

/**
 * The result of verifying the client's certificate chain in the completed handshake: OpenSSL's
 * verify code (e.g. 'CERT_HAS_EXPIRED'), or null when the chain verified. No public way for a socket
 * created outside a tls.Server: Node copies this value into `authorizationError` only in
 * tls.Server's own 'secure' handler, which reads it from the handle as here.
 */
export function handshakeVerifyError(socket: TLSSocket): string | null {
  const err = internals(socket)._handle?.verifyError() ?? null;
  return err ? (err.code ?? err.message) : null;
}

/**
 * The SNI the client sent, for a handshake that failed. No public way: Node sets the public
 * `servername` only once a handshake completes (or in tls.Server's SNI callback, which the edge
 * does not use: it costs a JavaScript call per handshake). Null when there was none, the
 * ClientHello was not read yet, or the socket's handle is already gone.
 */
export function servernameOfFailedHandshake(socket: TLSSocket): string | null {
  const name = internals(socket)._handle?.getServername();
  return typeof name === 'string' && name !== '' ? name : null;
}

/**
 * A client that half-closes after a complete request (its FIN: `printf … | nc -N`, a script that
 * closes its sending side) still gets the answer, and the connection closes after it, as HAProxy
 * does. Node's http.Server instead ends such a connection at the FIN, answer lost, unless its
 * `httpAllowHalfOpen` field is true (lib/_http_server.js socketOnEnd); the field has no option and
 * no documentation. With it Node marks the response in progress (or the last pipelined one) to
 * close the connection when done, and ends an idle connection at the FIN as before.
 */
export function answerAfterClientFin(server: HttpServer): void {
  (server as HttpServer & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}
