// WebSocket (and any HTTP/1.1 Upgrade): the same stages as a request, so the ten headers get the
// same treatment, then a raw tunnel. The head is written by hand rather than through http-proxy-3
// because the header list must reach the upstream in exactly our order, repeats included.
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from '../tls/nodeTls.js';
import type { Duplex } from 'node:stream';
import type { ListenerKind } from './requestContext.js';
import { newContext, requestEvent, runStages, stagesFor, type PipelineDeps } from './pipeline.js';
import { rawErrorResponse } from './errorPages.js';

function requestHead(req: IncomingMessage, headers: readonly string[]): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + '\r\n';
}

export function createUpgradeHandler(listener: ListenerKind, deps: PipelineDeps, tunnelTimeoutMs: number, connectTimeoutMs: number): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const settings = deps.settings();
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as net.Socket);
    const ctx = newContext(req, res, listener);
    const finish = (status: number, error: string | null): void => deps.events.emit(requestEvent(ctx, status, error, true, settings.forwardedClientCert));
    socket.on('error', () => socket.destroy());
    if (!runStages(stagesFor(listener, settings, deps.routes, { upgrade: true }), ctx)) {
      res.on('finish', () => socket.end());
      finish(ctx.answeredWith?.status ?? 400, ctx.answeredWith?.error ?? null);
      return;
    }
    res.detachSocket(socket as net.Socket);
    const target = ctx.route!;
    const url = new URL(target.origin);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const t = target.route.tls;
    const upstream: net.Socket =
      url.protocol === 'https:'
        ? tls.connect({ host: hostname, port, servername: t?.servername ?? (net.isIP(hostname) ? undefined : hostname), ca: t?.ca ? [...t.ca] : undefined, cert: t?.cert, key: t?.key, rejectUnauthorized: t?.rejectUnauthorized ?? true })
        : net.connect({ host: hostname, port });
    let connected = false;
    const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), connectTimeoutMs);
    upstream.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      connected = true;
      upstream.write(requestHead(req, ctx.headers));
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      upstream.setTimeout(tunnelTimeoutMs, () => upstream.destroy());
      finish(101, null);
    });
    upstream.on('error', (e: Error & { code?: string }) => {
      clearTimeout(connectTimer);
      if (!connected) {
        const status = e.code === 'ECONNREFUSED' || e.code === 'UND_ERR_CONNECT_TIMEOUT' ? 503 : 502;
        socket.end(rawErrorResponse(status));
        finish(status, `upstream ${target.label}: ${e.code ?? e.message}`);
      } else socket.destroy();
    });
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  };
}
