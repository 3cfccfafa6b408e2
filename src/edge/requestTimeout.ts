// The whole-request deadline: headers and body must arrive within timeouts.request (default: the
// client timeout), as HAProxy's `timeout http-request` does with `option http-buffer-request`. The
// client timeout alone is an idle timeout, so a body dripped one byte a second would never end.
// Node's http server enforces the deadline (`requestTimeout`) and reports it as a client error.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { rawErrorResponse } from './errorPages.js';
import { responseInProgress } from './responseInProgress.js';
import { readingHeld } from './pipelinedResponses.js';

/** Node's two deadlines of a request, which the edge also runs again itself (takeTurn, a held-back head). */
export interface RequestDeadlines {
  /** The head: timeouts.request_headers (Node's headersTimeout). */
  readonly headersMs: number;
  /** The whole request (Node's requestTimeout, which must be an integer of at least headersTimeout). */
  readonly requestMs: number;
}

export function requestDeadlines(t: Config['timeouts']): RequestDeadlines {
  return { headersMs: t.request_headers * 1000, requestMs: Math.round(Math.max(t.request ?? t.client, t.request_headers) * 1000) };
}

// Responses whose request expired: the proxy then reports 408 (what the client got), not the
// upstream failure that closing the connection causes.
const expired = new WeakSet<ServerResponse>();

export function requestExpired(res: ServerResponse): boolean {
  return expired.has(res);
}

export const REQUEST_EXPIRED_ERROR = 'request not complete within timeouts.request';

/**
 * Answers an expired request (headers or body) with HAProxy's 408 page and closes the connection
 * once the page is flushed: a client still dripping bytes must not keep it open. False when the
 * expired request's own response has already started (the caller then only closes the connection).
 */
export function answerRequestTimeout(socket: Socket, deadlines: RequestDeadlines): boolean {
  const response = responseInProgress(socket);
  if (!socket.writable) return false;
  if (response !== null && response.req.complete) {
    // The edge stopped reading this connection (a long pipelined queue): the rest of that head may be
    // waiting in the kernel. It is read once the queue is short (pipelinedResponses.ts); the
    // request's deadline runs again from its turn, as Node checks it only once.
    if (readingHeld(socket)) {
      expireAgainAtTurn(socket, response, deadlines);
      return true;
    }
    // The request that expired is the next one, pipelined behind an answer still owed (a complete
    // request cannot expire): HAProxy sends that answer, then the 408. Reading stops meanwhile.
    socket.pause();
    response.once('finish', () => {
      if (socket.writable) socket.end(rawErrorResponse(408), () => socket.destroy());
    });
    return true;
  }
  if (response !== null && waitingForTurn.has(response)) {
    // The request that expired waits for its turn behind an answer still owed: the edge, not the
    // client, holds its body back. HAProxy starts a request's `timeout http-request` when it takes
    // the request, so its deadline runs again from its turn (takeTurn).
    waitingForTurn.set(response, true);
    return true;
  }
  if (response?.headersSent) return false;
  if (response) expired.add(response);
  socket.end(rawErrorResponse(408), () => socket.destroy());
  return true;
}

// Pipelined requests not yet handed to the app (an answer before them is in progress), each with
// whether its deadline passed meanwhile.
const waitingForTurn = new WeakMap<ServerResponse, boolean>();

/** True while `res`'s request waits for the answer before it: the app, not the client, is due. */
export function waitsForTurn(res: ServerResponse): boolean {
  return waitingForTurn.has(res);
}

/**
 * A connection whose next request head passed its deadline while the edge was not reading it: the
 * timer of that deadline run again, until the request arrives (its head complete).
 */
interface HeldHead {
  timer: NodeJS.Timeout | null;
}
const HELD_HEAD = Symbol('mtls-edge.held-head');
type WithHeldHead = Socket & { [HELD_HEAD]?: HeldHead };

/**
 * The head's deadline (timeouts.request_headers) runs again from its turn, once `before` (the answer
 * ahead of it) is done, as HAProxy starts `timeout http-request` when it comes to the request; the
 * edge reads the connection again before that. Without it nothing timed that request again: a client
 * dripping a header line, then body bytes, within every timeouts.client kept it open for good.
 */
function expireAgainAtTurn(socket: Socket, before: ServerResponse, deadlines: RequestDeadlines): void {
  const s = socket as WithHeldHead;
  const held: HeldHead = { timer: null };
  s[HELD_HEAD] = held;
  before.once('close', () => {
    if (s[HELD_HEAD] !== held || socket.destroyed) return;
    held.timer = setTimeout(() => {
      if (s[HELD_HEAD] !== held) return;
      s[HELD_HEAD] = undefined;
      if (socket.destroyed || socket.writableEnded) return;
      if (!answerRequestTimeout(socket, deadlines)) socket.destroy();
    }, deadlines.headersMs);
    socket.once('close', () => clearTimeout(held.timer ?? undefined));
  });
}

/**
 * The edge skipped Node's head deadline (firstHeadTimedByEdge): Node does not time that message
 * again, so its whole-request deadline runs again from the request's arrival (inTurnNow).
 */
export function nodeDeadlineSkipped(socket: Socket): void {
  (socket as WithHeldHead)[HELD_HEAD] ??= { timer: null };
}

/** True (once) when the request arriving on `socket` is one whose head's deadline passed while held back. */
function tookHeldHead(socket: Socket): boolean {
  const s = socket as WithHeldHead;
  const held = s[HELD_HEAD];
  if (held === undefined) return false;
  s[HELD_HEAD] = undefined;
  clearTimeout(held.timer ?? undefined);
  return true;
}

/** A pipelined request waits for its turn; its deadline may already have passed while its head was held back. */
export function awaitTurn(res: ServerResponse): void {
  waitingForTurn.set(res, tookHeldHead(res.req.socket as Socket));
}

/** A request that goes to the app at once: if its head's deadline passed while held back, it runs again from now. */
export function inTurnNow(res: ServerResponse, deadlines: RequestDeadlines): void {
  if (tookHeldHead(res.req.socket as Socket)) expireAgain(res, deadlines);
}

/** An Upgrade arrived: a head held back was its own, and the Upgrade has timeouts of its own. */
export function upgradeArrived(socket: Socket): void {
  tookHeldHead(socket);
}

/**
 * The request's turn has come. If its deadline passed while it waited, a new one runs from now: a
 * request still incomplete then is answered as any expired request.
 */
export function takeTurn(res: ServerResponse, deadlines: RequestDeadlines): void {
  const expiredWhileWaiting = waitingForTurn.get(res) === true;
  waitingForTurn.delete(res);
  if (expiredWhileWaiting) expireAgain(res, deadlines);
}

/**
 * The whole-request deadline of `res`, run again from now. It outlives an answer that the app sent
 * before reading the whole body: Node reads and drops the rest, and a client dripping it would
 * otherwise keep the connection under no deadline.
 */
function expireAgain(res: ServerResponse, deadlines: RequestDeadlines): void {
  const socket = res.req.socket as Socket;
  const timer = setTimeout(() => {
    if (res.req.complete || socket.destroyed || socket.writableEnded) return;
    if (!answerRequestTimeout(socket, deadlines)) socket.destroy();
  }, deadlines.requestMs);
  res.once('close', () => {
    if (res.req.complete || socket.destroyed) clearTimeout(timer);
  });
}
