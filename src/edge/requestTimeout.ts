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

/** Node requires an integer of at least headersTimeout. */
export function wholeRequestTimeoutMs(t: Config['timeouts']): number {
  return Math.round(Math.max(t.request ?? t.client, t.request_headers) * 1000);
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
export function answerRequestTimeout(socket: Socket): boolean {
  const response = responseInProgress(socket);
  if (!socket.writable) return false;
  if (response !== null && response.req.complete) {
    // The edge stopped reading this connection (a long pipelined queue): the rest of that head may be
    // waiting in the kernel. It is read once the queue is short (pipelinedResponses.ts).
    if (readingHeld(socket)) return true;
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

export function awaitTurn(res: ServerResponse): void {
  waitingForTurn.set(res, false);
}

/**
 * The request's turn has come. If its deadline passed while it waited, a new one runs from now: a
 * request still incomplete then is answered as any expired request.
 */
export function takeTurn(res: ServerResponse, requestTimeoutMs: number): void {
  const expiredWhileWaiting = waitingForTurn.get(res) === true;
  waitingForTurn.delete(res);
  if (!expiredWhileWaiting) return;
  const socket = res.req.socket as Socket;
  const timer = setTimeout(() => {
    if (res.req.complete || socket.destroyed || socket.writableEnded) return;
    if (!answerRequestTimeout(socket)) socket.destroy();
  }, requestTimeoutMs);
  res.once('close', () => clearTimeout(timer));
}
