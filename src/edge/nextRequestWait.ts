// The wait for the next request on a keep-alive connection, as HAProxy 2.6 and 3.2 time it
// (measured): with nothing received, `timeout http-keep-alive` from the end of the previous answer
// closes the connection silently (checked every checkMs, so up to one interval late); the first byte received, an empty line (CRLF) included, starts
// that request's `timeout http-request`, and a head not complete by then gets the 408 page.
// Node times neither on its own: its keepAliveTimeout is the socket's idle timer, which every byte
// restarts, and its headersTimeout starts only at a message's first byte other than CRLF (llhttp
// skips empty lines before a request). A client sending "\r\n" once a second kept a connection,
// and its place under the connection caps, for good.
//
// Before a connection's first request HAProxy times the same way, but a silent client gets the 408
// at `timeout http-request` from the accept (the TLS handshake's end). Node's headersTimeout counts
// from the connection's start and restarts at a message's first byte other than CRLF, so a client
// sending "\r\n" at 1 s and its request at 2.5 s got a 408 HAProxy does not send.
//
// The edge samples socket.bytesRead (its only public trace of bytes the parser consumed) on one
// timer per connection, armed when the connection starts and re-armed with refresh() at the end of
// each answer: a client that sends its request within one check interval costs that and nothing else.
import type { Socket } from 'node:net';
import type { RequestDeadlines } from './requestTimeout.js';
import { answerRequestTimeout } from './requestTimeout.js';
import { responseInProgress } from './responseInProgress.js';

/** What the wait needs of the edge's timeouts. */
export interface NextRequestTimeouts {
  readonly keepAliveMs: number;
  /** timeouts.client: the idle timer while the client sends its request. */
  readonly clientMs: number;
  /** How often bytesRead is sampled: as often as Node checks headersTimeout (connectionsCheckingInterval). */
  readonly checkMs: number;
  readonly deadlines: RequestDeadlines;
}

interface Wait {
  /** Re-armed at each answer's end; fires every checkMs while the connection waits. */
  readonly check: NodeJS.Timeout;
  /** Checks since the current wait began (the end of the last answer): checks × checkMs is its age, without a clock read per answer. */
  checks: number;
  /** socket.bytesRead then. */
  bytesAtStart: number;
  /** The head's deadline, from the first byte seen (rare: only when no request follows it within checkMs). */
  headDeadline: NodeJS.Timeout | null;
  /** Before the first request: silence is Node's to answer (its headersTimeout, a 408), not a keep-alive close. */
  first: boolean;
  /** An answer went out before its request's body was in: the bytes still arriving are that body's, no wait runs. */
  bodyOwed: boolean;
}

const WAIT = Symbol('mtls-edge.next-request-wait');
/** null: the socket left HTTP (an Upgrade, a CONNECT), no request is awaited on it again. */
type WithWait = Socket & { [WAIT]?: Wait | null };

/** True while the connection has nothing to answer and may still be read. */
function idleAndOpen(socket: Socket): boolean {
  return !socket.destroyed && !socket.writableEnded && responseInProgress(socket) === null;
}

/**
 * The answer on `socket` is done and the connection stays open: its wait for the next request
 * starts now. Call when a response closes; nothing happens unless the connection is idle.
 */
export function awaitNextRequest(socket: Socket, timeouts: NextRequestTimeouts): void {
  const s = socket as WithWait;
  const wait = s[WAIT];
  // Also when a request pipelined behind the body is in progress already: the body is in.
  if (wait) wait.bodyOwed = false;
  if (!idleAndOpen(socket) || wait === null) return;
  if (wait !== undefined) {
    wait.first = false;
    wait.checks = 0;
    wait.bytesAtStart = socket.bytesRead;
    if (wait.headDeadline !== null) {
      clearTimeout(wait.headDeadline);
      wait.headDeadline = null;
    }
    wait.check.refresh();
    return;
  }
  startWait(socket, timeouts, false);
}

/** A connection starts (after its TLS handshake): the wait for its first request. */
export function awaitFirstRequest(socket: Socket, timeouts: NextRequestTimeouts): void {
  startWait(socket, timeouts, true);
}

function startWait(socket: Socket, timeouts: NextRequestTimeouts, first: boolean): void {
  const created: Wait = { check: setTimeout(() => checkWait(socket, created, timeouts), timeouts.checkMs).unref(), checks: 0, bytesAtStart: socket.bytesRead, headDeadline: null, first, bodyOwed: false };
  (socket as WithWait)[WAIT] = created;
  // Once per connection, not per request: a closed connection's timers must not keep it in memory.
  // ('close' comes once: on() spares once()'s wrapper.)
  socket.on('close', () => {
    clearTimeout(created.check);
    clearTimeout(created.headDeadline ?? undefined);
  });
}

/**
 * The socket left HTTP (an Upgrade, a CONNECT): its bytes are a tunnel's, no request is awaited, not
 * even once an answer pipelined before the Upgrade is done.
 */
export function stopAwaitingRequests(socket: Socket): void {
  const wait = (socket as WithWait)[WAIT];
  (socket as WithWait)[WAIT] = null;
  if (!wait) return;
  clearTimeout(wait.check);
  clearTimeout(wait.headDeadline ?? undefined);
}

/**
 * The answer went out before its request's body was in (an early 401 or 413): until that body ends
 * (awaitNextRequest then) its bytes are not a next request's, and no wait runs. The rest is read and
 * dropped under timeouts.client, as HAProxy 3.2 drains it under `timeout client`, not under the
 * keep-alive idle timer Node set at the answer's end (keep_alive + 1 s).
 */
export function answeredBeforeBody(socket: Socket, timeouts: NextRequestTimeouts): void {
  socket.setTimeout(timeouts.clientMs);
  const wait = (socket as WithWait)[WAIT];
  if (!wait) return;
  wait.bodyOwed = true;
  if (wait.headDeadline !== null) {
    clearTimeout(wait.headDeadline);
    wait.headDeadline = null;
  }
}

/** True while the rest of an answered request's body arrives (answeredBeforeBody). */
export function answeredBodyArriving(socket: Socket): boolean {
  return (socket as WithWait)[WAIT]?.bodyOwed === true;
}

function checkWait(socket: Socket, wait: Wait, timeouts: NextRequestTimeouts): void {
  if ((socket as WithWait)[WAIT] !== wait || wait.bodyOwed || !idleAndOpen(socket)) return;
  if (socket.bytesRead !== wait.bytesAtStart) {
    headStarted(socket, wait, timeouts);
    return;
  }
  // A silent first wait: Node's headersTimeout, counted from the connection's start, sends the 408.
  if (wait.first) {
    wait.check.refresh();
    return;
  }
  // Nothing received within keep_alive: the connection closes silently, as HAProxy's does. Node's
  // keep-alive idle timer would, but only 1 s later (Node 20.20 adds HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER).
  if (++wait.checks * timeouts.checkMs >= timeouts.keepAliveMs) socket.destroy();
  else wait.check.refresh();
}

/**
 * Bytes arrived since the answer: the next request has begun (for HAProxy even if they are only
 * empty lines), so its head must be complete within timeouts.request_headers from the first of them
 * (seen up to checkMs late, as Node sees its own headersTimeout). From here the client timeout, not
 * keep_alive, is the idle timer, as for a connection's first request.
 */
function headStarted(socket: Socket, wait: Wait, timeouts: NextRequestTimeouts): void {
  socket.setTimeout(timeouts.clientMs);
  wait.headDeadline = setTimeout(() => {
    wait.headDeadline = null;
    // A request since (answered or in progress: its answer's end cleared this deadline), or an Upgrade.
    if ((socket as WithWait)[WAIT] !== wait || !idleAndOpen(socket)) return;
    // No request came of those bytes (only empty lines, or a head still incomplete, which Node's
    // headersTimeout answers the same way about now): HAProxy's 408, then the connection closes.
    if (!answerRequestTimeout(socket, timeouts.deadlines)) socket.destroy();
  }, timeouts.deadlines.headersMs).unref();
}

/**
 * Node's headersTimeout fired while the connection waits for its first request. True when bytes came
 * (empty lines, or a head Node timed from its own start): their first starts HAProxy's deadline, which
 * the edge's timer answers (headStarted), so Node's is skipped. False: nothing came, Node's 408 stands.
 */
export function firstHeadTimedByEdge(socket: Socket, timeouts: NextRequestTimeouts): boolean {
  const wait = (socket as WithWait)[WAIT];
  if (!wait?.first || wait.bodyOwed || responseInProgress(socket) !== null) return false;
  if (wait.headDeadline === null) {
    if (socket.bytesRead === wait.bytesAtStart) return false;
    // The bytes came within the last check interval: seen now, as the check would see them.
    headStarted(socket, wait, timeouts);
  }
  return true;
}
