// WebSocket (and any HTTP/1.1 Upgrade): the same stages as a request, so the ten headers get the
// same treatment, then the request goes up through node:http's client (whose strict parser reads
// the upstream's answer, bounded in size and time). Only an upstream `101` turns the connection into
// a raw tunnel. Any other answer is relayed as a normal response and the client connection is then
// closed: the bytes the client sent after its Upgrade request are never forwarded, so a request
// pipelined behind a refused Upgrade cannot reach the upstream without passing the stages.
// (HAProxy keeps such a connection alive and parses the next request as a new one; closing is the
// simpler of the two safe choices, and clients reconnect.)
// Header names and values travel as latin1, byte for byte as received, like the plain-HTTP path.
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerKind } from './requestContext.js';
import { runStages, stagesFor, type PipelineDeps } from './pipeline.js';
import { rawErrorResponse } from './errorPages.js';
import { lacksWebSocketAccept } from './websocketHandshake.js';
import { askApp, startHandedOver } from './handedOverRequest.js';
import { replacedBySet, setResponseHeaders } from './setResponseHeaders.js';
import { responseHeaders } from './proxy.js';
import { endAfterAnswer, openTunnel, timeoutError, type TunnelTimeouts } from './tunnel.js';

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** The 101 head as the upstream sent it (latin1, header order and case kept), with the set headers `extra` (setResponseHeaders.ts). */
function switchingHead(res: IncomingMessage, extra: readonly string[]): Buffer {
  let head = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  const h = res.rawHeaders;
  for (let i = 0; i + 1 < h.length; i += 2) if (!replacedBySet(extra, h[i].toLowerCase())) head += `${h[i]}: ${h[i + 1]}\r\n`;
  for (let i = 0; i + 1 < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

export function createUpgradeHandler(listener: ListenerKind, deps: PipelineDeps, timeouts: TunnelTimeouts): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { tunnelMs: tunnelTimeoutMs, serverMs: responseTimeoutMs, clientMs } = timeouts;
  return (req, clientSocket, head) => {
    const started = startHandedOver(listener, deps, req, clientSocket, clientMs, true);
    if (started === null) return;
    const { socket, settings, res, ctx, finish } = started;
    if (!runStages(stagesFor(listener, settings, deps.routes, { upgrade: true, tls: deps.tls }), ctx)) {
      finish(ctx.answeredWith?.status ?? 400, ctx.answeredWith?.error ?? null);
      return;
    }
    if (hasBody(req)) {
      // Its body could not be told apart from the bytes meant for the tunnel.
      endAfterAnswer(socket, clientMs, rawErrorResponse(400));
      finish(400, 'Upgrade request with a body');
      return;
    }
    const target = ctx.route!;
    const { request: upstreamRequest, answered, stopWatchingClient, contained } = askApp(started, 'upgrade', req.method ?? 'GET', req.url ?? '/', deps, timeouts);

    upstreamRequest.once('upgrade', contained((upRes: IncomingMessage, upstream: net.Socket, upHead: Buffer) => {
      answered();
      stopWatchingClient();
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      if (lacksWebSocketAccept(upRes.rawHeaders)) {
        upstream.destroy();
        endAfterAnswer(socket, clientMs, rawErrorResponse(502));
        finish(502, `upstream ${target.label}: a 101 to a WebSocket upgrade without Sec-WebSocket-Accept (HAProxy answers 502)`);
        return;
      }
      res.detachSocket(socket);
      socket.write(switchingHead(upRes, setResponseHeaders(listener, settings.hsts)));
      openTunnel(socket, upstream, head, upHead, tunnelTimeoutMs);
      finish(101, null);
    }));

    upstreamRequest.once('response', contained((upRes: IncomingMessage) => {
      answered();
      const status = upRes.statusCode ?? 0;
      if (status < 200 || status > 999) {
        // An interim 1xx other than 101 is no answer to relay, and writeHead refuses a status below 100.
        upstreamRequest.destroy(Object.assign(new Error(`upstream answered the Upgrade with status ${status}`), { code: 'UND_ERR_INVALID_RESPONSE' }));
        return;
      }
      // The body must keep coming: the same bound per silence as the response head.
      upstreamRequest.setTimeout(responseTimeoutMs, () => upstreamRequest.destroy(timeoutError('response body stalled', 'UND_ERR_BODY_TIMEOUT')));
      res.writeHead(status, upRes.statusMessage, responseHeaders(upRes.rawHeaders, setResponseHeaders(listener, settings.hsts)));
      upRes.on('error', () => socket.destroy());
      upRes.on('aborted', () => socket.destroy());
      upRes.pipe(res);
      // The upstream answered (not the edge): no error. The event's status shows it was no 101.
      finish(status, null);
    }));

    upstreamRequest.end();
  };
}
