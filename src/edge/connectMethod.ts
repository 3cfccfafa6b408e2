// CONNECT requests, as HAProxy in `mode http` handles them (2.6 and 3.2, measured on loopback:
// docs/parity.md#connect). HAProxy is no forward proxy: a CONNECT is one more request for the app,
// with the same rules as any other (the ten headers, X-Forwarded-*, the route by Host), so it goes
// through the same stages (a `host:port` target instead of a path: stages/connectTarget.ts) and up
// through node:http's client, as an Upgrade does (tunnel.ts). The app's 2xx turns the connection
// into a raw tunnel, as HAProxy switches to tunnel mode on it (until `timeouts.tunnel` of silence).
// Any other answer reaches the client and the connection then closes, as after a refused Upgrade
// (websocket.ts; HAProxy would read a next request from it). The client's bytes after its head wait
// for the answer: they go into the tunnel, or nowhere.
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerKind } from './requestContext.js';
import { runStages, stagesFor, type PipelineDeps } from './pipeline.js';
import { rawErrorResponse } from './errorPages.js';
import { CLIENT_CLOSED_ERROR, CLIENT_CLOSED_STATUS } from './proxy.js';
import { HOP_BY_HOP_HEADERS } from './hopByHop.js';
import { askApp, startHandedOver } from './handedOverRequest.js';
import { replacedBySet, setResponseHeaders } from './setResponseHeaders.js';
import { endAfterAnswer, openTunnel, type TunnelTimeouts } from './tunnel.js';

/** The app's head as it sent it (latin1, order and case kept), minus `drop`, with the set headers `extra` (setResponseHeaders.ts). */
function answerHead(res: IncomingMessage, drop: (lowerName: string) => boolean, extra: readonly string[]): Buffer {
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
  const h = res.rawHeaders;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const lower = h[i].toLowerCase();
    if (!drop(lower) && !replacedBySet(extra, lower)) head += `${h[i]}: ${h[i + 1]}\r\n`;
  }
  for (let i = 0; i + 1 < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** A tunnel has no body framing: HAProxy 3.2 drops both from a 2xx to CONNECT (2.6 relays them). */
const tunnelDrops = (name: string): boolean => name === 'content-length' || name === 'transfer-encoding';
/** A relayed refusal keeps its framing (the body is relayed as the app framed it); the edge closes the connection. */
const refusalDrops = (name: string): boolean => name !== 'transfer-encoding' && HOP_BY_HOP_HEADERS.has(name);

/**
 * The app's answer other than 2xx, relayed: its head, then its body as the app framed it (its
 * Content-Length, or chunked or until it closes: the edge closes the client's connection after it
 * anyway), each silence bounded by `serverMs`. A body cut short by the app ends the client's
 * connection without its last bytes, as a truncated response does on the request path.
 */
function relayRefusal(client: net.Socket, res: IncomingMessage, upstream: net.Socket, upHead: Buffer, extra: readonly string[], serverMs: number, lingerMs: number): void {
  const status = res.statusCode ?? 0;
  const framed = res.headers['transfer-encoding'] !== undefined;
  const length = Number(res.headers['content-length'] ?? Number.NaN);
  /** Body bytes still owed; null: until the app closes. */
  let owed: number | null = status === 204 || status === 304 ? 0 : framed || !Number.isSafeInteger(length) ? null : length;
  client.write(answerHead(res, (n) => refusalDrops(n) || (framed && n === 'content-length'), [...extra, 'connection', 'close']));
  const done = (): void => {
    upstream.destroy();
    endAfterAnswer(client, lingerMs);
  };
  const relay = (chunk: Buffer): void => {
    const part = owed === null ? chunk : chunk.subarray(0, owed);
    if (owed !== null) owed -= part.length;
    if (part.length && !client.write(part)) upstream.pause();
    if (owed === 0) done();
  };
  relay(upHead);
  if (owed === 0) return;
  upstream.on('data', relay);
  client.on('drain', () => upstream.resume());
  upstream.once('end', () => (owed === null ? done() : client.destroy()));
  upstream.on('error', () => client.destroy());
  upstream.setTimeout(serverMs, () => {
    upstream.destroy();
    client.destroy();
  });
  client.once('close', () => upstream.destroy());
}

export function createConnectHandler(listener: ListenerKind, deps: PipelineDeps, timeouts: TunnelTimeouts): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { clientMs } = timeouts;
  return (req, clientSocket, head) => {
    const started = startHandedOver(listener, deps, req, clientSocket, clientMs, false);
    if (started === null) return;
    const { socket, settings, res, ctx, finish } = started;
    // Connection and Upgrade reach the app only with an Upgrade asked for, as HAProxy forwards them;
    // otherwise the app is told `Connection: close`, as by HAProxy's http-server-close.
    const upgrade = req.headers.upgrade !== undefined;
    if (!runStages(stagesFor(listener, settings, deps.routes, { upgrade, connect: true, tls: deps.tls }), ctx)) {
      finish(ctx.answeredWith?.status ?? 400, ctx.answeredWith?.error ?? null);
      return;
    }
    const target = ctx.route!;
    const { request: upstreamRequest, answered, stopWatchingClient, contained } = askApp(started, 'connect', 'CONNECT', req.url ?? '', deps, timeouts);

    // node:http's client hands over the connection at the app's answer head, whatever its status.
    upstreamRequest.once('connect', contained((upRes: IncomingMessage, upstream: net.Socket, upHead: Buffer) => {
      answered();
      stopWatchingClient();
      if (socket.destroyed) {
        upstream.destroy();
        finish(CLIENT_CLOSED_STATUS, CLIENT_CLOSED_ERROR);
        return;
      }
      const status = upRes.statusCode ?? 0;
      if (status < 200) {
        // HAProxy answers an app's 101 to CONNECT with 502; an interim 100 or 103 it relays and waits
        // for the final answer, which node:http's client has not read (docs/parity.md#connect).
        upstream.destroy();
        endAfterAnswer(socket, clientMs, rawErrorResponse(502));
        finish(502, `upstream ${target.label}: answered CONNECT with the interim status ${status}`);
        return;
      }
      res.detachSocket(socket);
      const extra = setResponseHeaders(listener, settings.hsts);
      if (status < 300) {
        socket.write(answerHead(upRes, tunnelDrops, extra));
        openTunnel(socket, upstream, head, upHead, timeouts.tunnelMs);
      } else {
        relayRefusal(socket, upRes, upstream, upHead, extra, timeouts.serverMs, clientMs);
      }
      // The app answered (not the edge): no error. The status tells a tunnel from a refusal.
      finish(status, null);
    }));

    upstreamRequest.end();
  };
}
