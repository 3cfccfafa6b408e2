// The start shared by the requests whose connection Node's HTTP server hands over, an Upgrade
// (websocket.ts) and a CONNECT (connectMethod.ts): a response bound to the socket for the edge's own
// answers, after which the connection carries no further request; the request's context and its one
// request event; and HAProxy's parser check of a WebSocket handshake, which runs on any method.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerKind, RequestContext } from './requestContext.js';
import { newContext, requestEvent, type PipelineDeps, type PipelineSettings } from './pipeline.js';
import { rawErrorResponse } from './errorPages.js';
import { isWebSocketHandshake, webSocketKeyRefusal } from './websocketHandshake.js';
import { endAfterAnswer } from './tunnel.js';

export interface HandedOver {
  readonly socket: net.Socket;
  readonly settings: PipelineSettings;
  readonly res: ServerResponse;
  readonly ctx: RequestContext;
  /** Emits the request's event, once. */
  finish(status: number, error: string | null): void;
  /** The request's event was emitted. */
  finished(): boolean;
}

/** Null when the request was answered already (a WebSocket handshake HAProxy's parser refuses: 400). */
export function startHandedOver(listener: ListenerKind, deps: PipelineDeps, req: IncomingMessage, clientSocket: Duplex, clientMs: number, websocket: boolean): HandedOver | null {
  const socket = clientSocket as net.Socket;
  const settings = deps.settings();
  const res = new http.ServerResponse(req);
  res.assignSocket(socket);
  // Whatever happens, this connection carries no further HTTP request.
  res.shouldKeepAlive = false;
  res.on('finish', () => endAfterAnswer(socket, clientMs));
  const ctx = newContext(req, res, listener);
  let finished = false;
  const finish = (status: number, error: string | null): void => {
    if (finished) return;
    finished = true;
    deps.events.emit(requestEvent(ctx, status, error, websocket, settings.forwardedClientCert));
  };
  socket.on('error', () => socket.destroy());
  const keyRefusal = isWebSocketHandshake(req.rawHeaders) ? webSocketKeyRefusal(req.rawHeaders) : null;
  if (keyRefusal !== null) {
    endAfterAnswer(socket, clientMs, rawErrorResponse(400));
    finish(400, keyRefusal);
    return null;
  }
  return { socket, settings, res, ctx, finish, finished: () => finished };
}
