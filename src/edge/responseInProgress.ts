// Which response a connection is writing. Node links a socket to its response only through a
// private field; the edge records the link itself when a request arrives, so a parser error or an
// expired request on that connection knows whether an answer has already started. The link is a
// symbol-keyed property of the socket (as the connection state is): a WeakMap entry per request
// costs measurably more CPU (bench/paired.ts, keep-alive). The link is cleared when the response
// closes: a socket that has lived through a scavenge sits in V8's old generation, and a young
// response it still points to (with its request, headers and buffers) would survive every
// scavenge until the next full GC, even after the connection is gone (per handshake ≈ 60 % more
// bytes promoted and ≈ 2 % more CPU, measured with --trace-gc-nvp and bench/paired.ts).
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const RESPONSE = Symbol('mtls-edge.response');
type WithResponse = Duplex & { [RESPONSE]?: ServerResponse };

export function recordResponse(socket: Duplex, res: ServerResponse): void {
  (socket as WithResponse)[RESPONSE] = res;
}

/** Called when `res` closes (finished or aborted). */
export function forgetResponse(socket: Duplex | null, res: ServerResponse): void {
  if (socket !== null && (socket as WithResponse)[RESPONSE] === res) (socket as WithResponse)[RESPONSE] = undefined;
}

/** The connection's response that has not finished yet, or null (none, or the last one is done). */
export function responseInProgress(socket: Duplex): ServerResponse | null {
  const res = (socket as WithResponse)[RESPONSE];
  return res !== undefined && !res.writableFinished ? res : null;
}
