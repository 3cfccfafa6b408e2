// A connection Node's HTTP server hands over ('upgrade' for an Upgrade request, 'connect' for
// CONNECT): the request that asks the app to switch, and the raw tunnel once the app agrees. The
// request goes up through node:http's client, whose strict parser reads the app's answer, bounded
// in size (the head) and time (timeouts.connect, then timeouts.server). Used by websocket.ts and
// connectMethod.ts.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { RouteTarget } from './routeTable.js';
import { upstreamTlsOptions } from './upstreamTls.js';

/** The upstream's response head may not exceed this (as HAProxy's default buffer). */
const MAX_UPSTREAM_RESPONSE_HEAD = 16_384;

export interface TunnelTimeouts {
  /** An idle tunnel (timeouts.tunnel). */
  readonly tunnelMs: number;
  /** Connecting to the upstream, TLS included (timeouts.connect). */
  readonly connectMs: number;
  /** The upstream's answer head, and each silence in a relayed body (timeouts.server). */
  readonly serverMs: number;
  /** A client that keeps its side open after the edge's answer (timeouts.client). */
  readonly clientMs: number;
}

/** An error carrying the undici code the edge's status mapping knows (proxy.ts upstreamErrorStatus). */
export function timeoutError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The request to the app that asks for the switch. The timer bounds the connection
 * (timeouts.connect) and then the answer's head (timeouts.server); `answered()` stops it.
 */
export function switchRequest(target: RouteTarget, method: string, path: string, headers: readonly string[], timeouts: TunnelTimeouts): { request: http.ClientRequest; answered: () => void } {
  const url = new URL(target.origin);
  const isTls = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const options: https.RequestOptions = {
    host: hostname,
    port: Number(url.port) || (isTls ? 443 : 80),
    method,
    path,
    headers: headers as string[],
    setHost: false,
    agent: false,
    maxHeaderSize: MAX_UPSTREAM_RESPONSE_HEAD,
    insecureHTTPParser: false,
    ...(isTls ? upstreamTlsOptions(target.route.tls, hostname) : {}),
  };
  const request = (isTls ? https : http).request(options);
  let timer = setTimeout(() => request.destroy(timeoutError('connect timeout', 'UND_ERR_CONNECT_TIMEOUT')), timeouts.connectMs);
  request.once('socket', (s: net.Socket) => {
    s.once(isTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => request.destroy(timeoutError('no response head in time', 'UND_ERR_HEADERS_TIMEOUT')), timeouts.serverMs);
    });
  });
  request.once('close', () => clearTimeout(timer));
  return { request, answered: () => clearTimeout(timer) };
}

/**
 * The raw tunnel once the app agreed: what each side sent early goes first (the client's bytes after
 * its request head, the app's after its answer head), then bytes flow both ways until either side
 * closes or the tunnel is idle for `tunnelMs` (HAProxy's `timeout tunnel`).
 */
export function openTunnel(client: net.Socket, upstream: net.Socket, clientHead: Buffer, upstreamHead: Buffer, tunnelMs: number): void {
  if (upstreamHead.length) client.write(upstreamHead);
  if (clientHead.length) upstream.write(clientHead);
  upstream.on('error', () => client.destroy());
  upstream.pipe(client);
  client.pipe(upstream);
  upstream.setTimeout(tunnelMs, () => upstream.destroy());
  upstream.once('close', () => client.destroy());
  client.once('close', () => upstream.destroy());
}

/**
 * The edge's last bytes on a handed-over connection it answered itself or relayed a refusal on.
 * Unread client bytes at close would make the kernel reset the connection and could cost the client
 * the answer: what the client still sends is read and dropped until it closes its side. Node's
 * server timeout no longer watches a socket handed to 'upgrade' or 'connect', so a client that never
 * closes would hold the connection (and its max_connections slot) for good: it is cut after
 * `lingerMs`, as HAProxy closes such a connection at its `timeout client-fin` / `http-keep-alive`.
 */
export function endAfterAnswer(socket: net.Socket, lingerMs: number, last?: string): void {
  socket.resume();
  if (last === undefined) socket.end();
  else socket.end(last);
  const linger = setTimeout(() => socket.destroy(), lingerMs);
  socket.once('close', () => clearTimeout(linger));
}
