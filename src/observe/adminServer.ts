// The admin listener: the live flow page, its event stream, status, health and metrics. It binds to
// loopback by default because the page shows client certificates and headers of every request; off
// loopback it needs a token (adminAccess.ts).
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { EventBus } from './events.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { StatusDocument, StatusSnapshot } from './status.js';
import { EventStream } from './eventStream.js';
import { FLOW_PAGE_CSP, renderFlowPage } from './flowPage.js';
import { PAGE_FILES } from './pageAssets.js';
import { createAdminAccess, isLoopbackBind, samePagePostProblem } from './adminAccess.js';
import { lessonRunner } from './lessonRunner.js';
import { lessonTarget, type LessonSupport } from './lessons.js';
import { recordUpstreamHeads } from '../edge/upstreamHead.js';
import { tryItCommand } from './tryIt.js';
import { randomBytes } from 'node:crypto';
import { safeJson } from './escape.js';

export interface AdminServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9901; 0 picks a free port. */
  port?: number;
  /** Required when `host` is not loopback; when set, required on every bind. */
  token?: string;
  /** Host names besides loopback and the bound address that the listener answers to. */
  allowedHosts?: readonly string[];
  bus: EventBus;
  status: () => StatusSnapshot;
  /** Recent events kept for new pages; default 500. */
  ringSize?: number;
  logger: Logger;
  /** Serves /metrics and feeds /status counters when given. */
  metrics?: Metrics;
  /** What the lessons need from the running edge; without it the Lessons tab says they cannot run. */
  lessons?: LessonSupport;
}

const NO_LESSONS: LessonSupport = {
  pkiDir: () => null,
  openModeListener: () => Promise.reject(new Error('no edge runs the lessons here')),
};

export interface AdminServer {
  readonly port: number;
  /** True when requests need the admin token. */
  readonly tokenRequired: boolean;
  /** The event stream (ring buffer + SSE), e.g. to read recent events. */
  readonly stream: EventStream;
  close(): Promise<void>;
}

/** The request body as text, or null when it is longer than `limit` bytes or not valid JSON. */
async function readSmallBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > limit) return null;
  }
  try {
    JSON.parse(text);
    return text;
  } catch {
    return null;
  }
}

function tryItFor(snapshot: StatusSnapshot, pkiDir: string | null): string | null {
  const target = lessonTarget(snapshot, pkiDir);
  return typeof target === 'string' ? null : tryItCommand(target.pkiDir, target.port);
}

function statusDocument(snapshot: StatusSnapshot, metrics: Metrics | undefined, stream: EventStream, pkiDir: string | null): StatusDocument {
  return {
    ...snapshot,
    uptimeSeconds: Math.max(0, Math.floor((Date.now() - snapshot.startedAt) / 1000)),
    tryIt: tryItFor(snapshot, pkiDir),
    counters: { ...snapshot.counters, ...metrics?.counters(), flowPageClients: stream.clientCount },
  };
}

/** Open admin connections at most: a page uses a handful, scripts one each. */
export const ADMIN_MAX_CONNECTIONS = 64;
/** Of those, /events streams at most (each open flow page holds one). */
export const ADMIN_MAX_EVENT_STREAMS = ADMIN_MAX_CONNECTIONS / 2;
const ADMIN_DROP_LOG_INTERVAL_MS = 10_000;
/**
 * A request head within 5 s and the whole request within 10 s (checked every second), as the edge's
 * own listeners bound theirs; Node's defaults (60 s, checked every 30 s) held an idle connection
 * for about 90 s. Responses are not bounded: /events streams for as long as a page is open.
 */
const ADMIN_SERVER_OPTIONS: http.ServerOptions = { headersTimeout: 5_000, requestTimeout: 10_000, connectionsCheckingInterval: 1_000 };

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const host = opts.host ?? '127.0.0.1';
  // Checked before anything listens: a missing or short token refuses to start.
  const access = createAdminAccess({ host, token: opts.token, allowedHosts: opts.allowedHosts });
  // The app lane's record of what the upstream received costs every proxied request (≈10 % CPU per
  // keep-alive request, bench/paired.ts): kept only while a page is open or a lesson runs.
  const stream = new EventStream({ ringSize: opts.ringSize ?? 500, whileViewed: recordUpstreamHeads });
  const unsubscribe = opts.bus.subscribe(stream);
  // Printed into the page; state-changing POSTs must send it back (adminAccess.samePagePostProblem).
  const pageToken = randomBytes(24).toString('hex');
  const page = renderFlowPage({ ringSize: stream.ringSize, lessonToken: pageToken });
  const lessons = lessonRunner(stream, opts.status, opts.lessons ?? NO_LESSONS);

  const send = (res: http.ServerResponse, status: number, type: string, body: string, extra: http.OutgoingHttpHeaders = {}): void => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
    res.end(body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const decision = access.check(req, path ?? '/');
    if (decision.kind === 'deny') {
      send(res, decision.status, 'text/plain; charset=utf-8', decision.message, decision.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="mtls-edge admin"' } : {});
      return;
    }
    if (decision.kind === 'set-cookie') {
      // The token leaves the address bar (and the browser history) at once.
      send(res, 303, 'text/plain; charset=utf-8', '', { 'Set-Cookie': decision.cookie, Location: decision.location, 'Referrer-Policy': 'no-referrer' });
      return;
    }
    if (path === '/lessons/run') {
      const problem = samePagePostProblem(req, pageToken);
      if (problem !== null) {
        send(res, 403, 'text/plain; charset=utf-8', `Refused: ${problem}.\n`);
        return;
      }
      const body = await readSmallBody(req, 1024);
      const parsed: unknown = body === null ? null : JSON.parse(body);
      const id = typeof parsed === 'object' && parsed !== null ? (parsed as { lesson?: unknown }).lesson : undefined;
      if (typeof id !== 'string') {
        send(res, 400, 'text/plain; charset=utf-8', 'Send {"lesson": "<id>"} (see GET /lessons).\n');
        return;
      }
      // The lesson's app lane shows what the upstream received, also when no page is open.
      const stopRecording = recordUpstreamHeads();
      const result = await lessons.run(id).finally(stopRecording);
      send(res, result.status, 'application/json; charset=utf-8', safeJson(result.body) + '\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', page, { 'Content-Security-Policy': FLOW_PAGE_CSP, 'Referrer-Policy': 'no-referrer' });
        return;
      case '/lessons':
        send(res, 200, 'application/json; charset=utf-8', safeJson(lessons.list()) + '\n');
        return;
      case '/events': {
        if (req.method === 'HEAD') {
          send(res, 200, 'text/event-stream; charset=utf-8', '');
          return;
        }
        // Streams last as long as a page is open: at most half the admin connections, so /healthz,
        // /metrics and /status keep room whoever holds the rest.
        if (stream.clientCount >= ADMIN_MAX_EVENT_STREAMS) {
          send(res, 503, 'text/plain; charset=utf-8', `${ADMIN_MAX_EVENT_STREAMS} event streams are open already (flow pages, /events readers): close one.\n`);
          return;
        }
        const last = req.headers['last-event-id'];
        stream.attach(res, Array.isArray(last) ? last[0] : last);
        return;
      }
      case '/status':
        send(res, 200, 'application/json; charset=utf-8', safeJson(statusDocument(opts.status(), opts.metrics, stream, (opts.lessons ?? NO_LESSONS).pkiDir()), 2) + '\n');
        return;
      case '/api/events': {
        // The ring as JSON, for scripts and tests (the page uses /events).
        const { json, omitted } = stream.recentJson();
        send(res, 200, 'application/json; charset=utf-8', json, omitted > 0 ? { 'X-Mtls-Edge-Events-Omitted': String(omitted) } : {});
        return;
      }
      case '/healthz': {
        const ready = opts.status().ready;
        send(res, ready ? 200 : 503, 'text/plain; charset=utf-8', ready ? 'ok\n' : 'starting\n');
        return;
      }
      case '/metrics':
        if (opts.metrics) {
          const m = await opts.metrics.render();
          send(res, 200, m.contentType, m.body);
          return;
        }
        break;
    }
    const file = PAGE_FILES.get(path ?? '');
    if (file) {
      send(res, 200, file.type, file.body);
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'Not found. Try /, /status, /healthz, /metrics or /events.\n');
  };

  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      // The path only: a query may carry the token.
      opts.logger.error('admin request failed', { path: (req.url ?? '/').split('?')[0], err });
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else res.destroy();
    });
  };
  // One request at a time per connection: Node calls the handler for every request pipelined in
  // one read at once, and each would build its answer (/api/events is megabytes) before the client
  // read any. A request behind an answer in progress is handled once that answer is done, and the
  // connection is not read meanwhile.
  const latestResponse = new WeakMap<Duplex, http.ServerResponse>();
  const server = http.createServer(ADMIN_SERVER_OPTIONS, (req, res) => {
    const socket = req.socket;
    const earlier = latestResponse.get(socket);
    latestResponse.set(socket, res);
    res.once('close', () => {
      if (latestResponse.get(socket) === res) latestResponse.delete(socket);
    });
    if (earlier === undefined) {
      serve(req, res);
      return;
    }
    socket.pause();
    earlier.once('close', () => {
      if (socket.destroyed) return;
      socket.resume();
      serve(req, res);
    });
  });
  // The admin page must never keep the process alive or slow shutdown down.
  server.keepAliveTimeout = 5_000;
  // Its connections share the process's descriptors with the edge's listeners and are outside
  // max_connections: bounded here, so idle or dripping clients (no token needed to connect) cannot
  // use them up. Over the cap Node closes the connection at accept; one log line per interval.
  server.maxConnections = ADMIN_MAX_CONNECTIONS;
  let lastDropLog = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - lastDropLog < ADMIN_DROP_LOG_INTERVAL_MS) return;
    lastDropLog = now;
    opts.logger.warn(`admin listener: ${ADMIN_MAX_CONNECTIONS} connections open, further ones are closed at accept (at most one such line per ${ADMIN_DROP_LOG_INTERVAL_MS / 1000} s)`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9901, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!isLoopbackBind(host)) {
    opts.logger.warn('admin listener is reachable from the network: it shows client certificates and headers (token required)', { host, port });
  }

  return {
    port,
    tokenRequired: access.tokenRequired,
    stream,
    close: async () => {
      unsubscribe();
      stream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
