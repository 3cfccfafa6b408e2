// Which response a connection is writing. Node links a socket to its response only through a
// private field; the edge records the link itself when a request arrives, so a parser error or an
// expired request on that connection knows whether an answer has already started.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const latest = new WeakMap<Duplex, ServerResponse>();

export function recordResponse(socket: Duplex, res: ServerResponse): void {
  latest.set(socket, res);
}

/** The connection's response that has not finished yet, or null (none, or the last one is done). */
export function responseInProgress(socket: Duplex): ServerResponse | null {
  const res = latest.get(socket);
  return res !== undefined && !res.writableFinished ? res : null;
}
