// A parser error on a connection that still owes answers: the client's FIN inside its next request
// (Node's parser reports the cut request at EOF), or a malformed request pipelined behind one in
// progress. HAProxy 2.6 and 3.2 answer the complete requests before it, in order, then send the 400
// page for a malformed or cut head, nothing for a body cut by the FIN, and close; after a FIN they
// do all of it only in some runs, never less than the first answer (test/parity/finAfterPipelined.test.ts).
// The edge does all of it every time: it decides the ending at the error, reads nothing more, and
// carries the ending out once the owed answers are done. Closing at once lost those answers and
// cancelled their upstream requests.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { waitsForTurn } from './requestTimeout.js';

interface Ending {
  /** The request the parser error is in (a body cut by the FIN, a malformed chunk), waiting for its turn, which ends the connection; null: the error is past the last request. */
  readonly cut: ServerResponse | null;
  /** What the client gets last: an error page, or nothing. */
  readonly page: string | null;
  /** How long the connection may stay open after the edge's FIN (timeouts.client). */
  readonly lingerMs: number;
}

const ENDING = Symbol('mtls-edge.connection-ending');
type WithEnding = Socket & { [ENDING]?: Ending };

/** True once the connection's end is decided: a later parser error on it (the same bad bytes read again) changes nothing. */
export function endingDecided(socket: Socket): boolean {
  return (socket as WithEnding)[ENDING] !== undefined;
}

/**
 * The page (if any), then the edge's FIN. Reading resumes: what the client still sends is refused by
 * the parser and ignored (endingDecided) until its own FIN completes the close, or `lingerMs`
 * (timeouts.client) ends the connection. Closing with bytes unread would reset it, and the reset can take the page
 * with it. A client that half-closed already (the usual case here) is closed at once.
 */
function endNow(socket: Socket, page: string | null, lingerMs: number): void {
  if (socket.destroyed || socket.writableEnded) return;
  if (page === null) socket.end();
  else socket.end(page);
  socket.resume();
  // A client that neither closes nor stops sending (each byte would restart an idle timer; the cut
  // request still counts as waiting for its turn) is closed at timeouts.client, as HAProxy closes.
  const linger = setTimeout(() => socket.destroy(), lingerMs).unref();
  socket.once('close', () => clearTimeout(linger));
}

/**
 * A parser error while `last`, the connection's latest response, is unfinished: the answers owed
 * before the error are sent, then `page` (null: none), then the connection closes. False when the
 * request the error cut is already in the app's hands (its body was being forwarded): the caller
 * closes the connection, as HAProxy does with a body cut while it forwards it. `onFault` reports a
 * throw in the deferred end, which runs outside the fault boundary of the error.
 */
export function endAfterOwedAnswers(socket: Socket, last: ServerResponse, page: string | null, lingerMs: number, onFault: (err: unknown) => void): boolean {
  const complete = last.req.complete;
  if (!complete && !waitsForTurn(last)) return false;
  (socket as WithEnding)[ENDING] = { cut: complete ? null : last, page, lingerMs };
  socket.pause();
  // The error is past `last`'s request: its answer is the last one owed. Node detaches a finished
  // response from the socket in its own 'finish' listener, which runs first: the page follows it whole.
  if (complete) {
    last.once('finish', () => {
      try {
        endNow(socket, page, lingerMs);
      } catch (err) {
        onFault(err);
      }
    });
  }
  return true;
}

/**
 * A pipelined request's turn: true when it is the one the parser error cut. The answers before it
 * are done; it does not go to the app, the connection ends instead (with the error page, if any).
 */
export function endsAtTurn(res: ServerResponse): boolean {
  const socket = res.req.socket as WithEnding | null;
  const ending = socket?.[ENDING];
  if (socket === null || ending === undefined || ending.cut !== res) return false;
  endNow(socket, ending.page, ending.lingerMs);
  return true;
}
