// The start shared by the requests whose connection Node's HTTP server hands over, an Upgrade
// (websocket.ts) and a CONNECT (connectMethod.ts): a response bound to the socket for the edge's own
// answers, after which the connection carries no further request; the request's context and its one
// request event; HAProxy's parser check of a WebSocket handshake, which runs on any method; and,
// past the stages, the request that asks the app to switch, with its failures answered.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FaultStage } from '../observe/events.js';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerKind, RequestContext } from './requestContext.js';
import { newContext, requestEvent, type PipelineDeps, type PipelineSettings } from './pipeline.js';
import { rawErrorResponse } from './errorPages.js';
import { isWebSocketHandshake, webSocketKeyRefusal } from './websocketHandshake.js';
import { CLIENT_CLOSED_ERROR, CLIENT_CLOSED_STATUS, upstreamErrorStatus } from './proxy.js';
import { endConnectionAfterFault } from './faultBoundary.js';
import { endAfterAnswer, switchRequest, type TunnelTimeouts } from './tunnel.js';

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

/** The request that asks the app to switch (tunnel.ts switchRequest), for a handed-over request past its stages. */
export interface AppSwitch {
  readonly request: http.ClientRequest;
  /** The app's answer head arrived: its timer stops. */
  answered(): void;
  /** The answer took the connection over: the client's close no longer cancels the request. */
  stopWatchingClient(): void;
  /** A callback that runs after the handler returned, in a fault boundary that ends both sides. */
  contained<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

/**
 * Sends the request up (its route from the stages). Until the app answers, nothing the client sends
 * moves, and a client that closes cancels the request (499). A failure before the edge answered is
 * answered with HAProxy's status for it; after, the connection ends.
 */
export function askApp(started: HandedOver, stage: Extract<FaultStage, 'upgrade' | 'connect'>, method: string, path: string, deps: PipelineDeps, timeouts: TunnelTimeouts): AppSwitch {
  const { socket, res, ctx, finish, finished } = started;
  socket.pause();
  const target = ctx.route!;
  const { request, answered } = switchRequest(target, method, path, ctx.headers, timeouts);
  /** The client closed before the app's answer: the request's error is the edge's, not the app's. */
  let clientLeft = false;
  const closeUpstream = (): void => {
    clientLeft = true;
    request.destroy();
  };
  socket.once('close', closeUpstream);
  const contained = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      endConnectionAfterFault(deps.events, { listener: ctx.listener, stage, clientAddress: ctx.clientAddress }, err, request, socket);
    }
  };
  request.on('error', contained((e: Error & { code?: string }) => {
    answered();
    if (clientLeft) {
      finish(CLIENT_CLOSED_STATUS, CLIENT_CLOSED_ERROR);
      return;
    }
    if (res.headersSent || finished()) {
      socket.destroy();
      return;
    }
    const status = upstreamErrorStatus(e);
    endAfterAnswer(socket, timeouts.clientMs, rawErrorResponse(status));
    finish(status, `upstream ${target.label}: ${e.code ?? e.message}`);
  }));
  return { request, answered, stopWatchingClient: () => socket.removeListener('close', closeUpstream), contained };
}
