// A request's journey through the edge, top to bottom. Each stage is one concern (see stages/);
// this file only decides their order and hands the survivors to the upstream hop.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventSink, RequestEvent } from '../observe/events.js';
import type { ForwardedClientCertMode } from '../headers/modeTable.js';
import { settleConnectionCert, stateOf } from './connectionState.js';
import { hostOnly, routeHost } from '../tls/hostPattern.js';
import type { ListenerKind, RequestContext, Stage } from './requestContext.js';
import type { RouteTable } from './routeTable.js';
import type { Upstreams } from './upstreams.js';
import { proxyRequest } from './proxy.js';
import { responseHeadLimit } from './responseHead.js';
import { setResponseHeaders } from './setResponseHeaders.js';
import { endConnectionAfterFault } from './faultBoundary.js';
import { explainRejection } from './stages/explainRejection.js';
import { domainFronting, type DomainFrontingSetting } from './stages/domainFronting.js';
import { clientCertHeaders } from './stages/clientCertHeaders.js';
import { gorouterHeaders } from './stages/gorouterHeaders.js';
import { forwardedHeaders } from './stages/forwardedHeaders.js';
import { hopByHopHeaders } from './stages/hopByHopHeaders.js';
import { route } from './stages/route.js';
import { duplicateHost } from './stages/duplicateHost.js';
import { headerCount } from './stages/headerCount.js';
import { expectation } from './stages/expectation.js';
import { absoluteForm } from './stages/absoluteForm.js';
import { connectTarget } from './stages/connectTarget.js';
import { clientAuthFronting } from './stages/clientAuthFronting.js';
import { dialectFronting } from './stages/dialectFronting.js';
import { underscoreHeaders, type UnderscoreHeaderAction } from './stages/underscoreHeaders.js';
import { MAX_REWRITE, rewriteBudget } from './stages/rewriteBudget.js';
import type { TlsProfileSet } from '../tls/tlsProfiles.js';
import type { DialectName } from '../headers/dialects/dialects.js';

export interface PipelineSettings {
  readonly forwardedClientCert: ForwardedClientCertMode;
  readonly legacyXfccHeaderMapping: boolean;
  readonly domainFronting: DomainFrontingSetting;
  /** 421 when the Host belongs to a TLS configuration that checks clients more strictly than the SNI's. */
  readonly clientAuthFronting: boolean;
  /** The top-level dialect: a TLS configuration without its own speaks it. */
  readonly dialect: DialectName;
  readonly headersWithUnderscores: UnderscoreHeaderAction;
  /** max_header_size: the request head HAProxy reads (bufsize - maxrewrite); rules may grow it by MAX_REWRITE. The response head's limit follows from it. */
  readonly maxHeaderSize: number;
  readonly gorouter: boolean;
  /** Strict-Transport-Security value for TLS responses, or null. */
  readonly hsts: string | null;
}

export interface PipelineDeps {
  readonly settings: () => PipelineSettings;
  readonly routes: () => RouteTable;
  /** The TLS configurations in force (for the cross-configuration Host check). */
  readonly tls?: () => TlsProfileSet;
  readonly upstreams: Upstreams;
  readonly events: EventSink;
}

/**
 * The stages in order, for one listener. The plain-HTTP listener has no client-certificate rules.
 * `upgrade`: the Upgrade and Connection headers go to the app (an Upgrade request, a CONNECT that asks for one).
 * `connect`: a CONNECT request, whose target is `host:port` instead of a path or an absolute URL.
 */
export function stagesFor(listener: ListenerKind, s: PipelineSettings, routes: () => RouteTable, opts: { upgrade: boolean; connect?: boolean; tls?: () => TlsProfileSet }): Stage[] {
  return [
    // HAProxy's parser refuses too many header lines before anything else looks at the request.
    headerCount(),
    ...(listener === 'https' ? [explainRejection()] : []),
    duplicateHost(),
    opts.connect ? connectTarget() : absoluteForm(),
    domainFronting(s.domainFronting),
    ...(listener === 'https' && opts.tls ? [clientAuthFronting(s.clientAuthFronting, opts.tls), dialectFronting(opts.tls, s.dialect)] : []),
    // Before the client-certificate rules: a Connection token must not remove what they set.
    hopByHopHeaders({ keepUpgrade: opts.upgrade }),
    underscoreHeaders(s.headersWithUnderscores),
    ...(listener === 'https' ? [clientCertHeaders({ mode: s.forwardedClientCert, legacyXfccHeaderMapping: s.legacyXfccHeaderMapping })] : []),
    // After HAProxy's http-request rules (the set-header lines): a head they grew past the buffer is a 500.
    ...(listener === 'https' ? [rewriteBudget(s.maxHeaderSize + MAX_REWRITE)] : []),
    gorouterHeaders(s.gorouter),
    forwardedHeaders(),
    route(routes),
    // Gorouter's, behind HAProxy: after everything HAProxy answers itself.
    expectation(setResponseHeaders(listener, s.hsts)),
  ];
}

const NO_H10 = { sent: [], removed: [], set: [] } as const;
let requestCounter = 0;

export function newContext(req: IncomingMessage, res: ServerResponse, listener: ListenerKind): RequestContext {
  const socket = req.socket;
  const host = req.headers.host;
  const only = host ? hostOnly(host) : '';
  const conn = listener === 'https' ? (stateOf(socket) ?? null) : null;
  if (conn) settleConnectionCert(conn);
  return {
    req,
    res,
    listener,
    conn,
    startedAt: Date.now(),
    clientAddress: conn ? conn.clientAddress : (socket.remoteAddress ?? ''),
    clientPort: conn ? conn.clientPort : socket.remotePort,
    host: routeHost(only),
    hostOnly: only,
    headers: req.rawHeaders,
    h10: NO_H10,
    route: null,
    answeredWith: null,
  };
}

/** Request IDs: this process's PID, then a counter (both base 36). */
const REQUEST_ID_PREFIX = `${process.pid.toString(36)}-`;

export function requestEvent(ctx: RequestContext, status: number, error: string | null, websocket: boolean, mode: ForwardedClientCertMode): RequestEvent {
  const { req, conn } = ctx;
  // What the upstream got: as it received them when recorded, else the list handed to the HTTP client.
  const forwarded = ctx.answeredWith !== null || ctx.route === null ? null : (ctx.sentHeaders ?? ctx.headers);
  // Written out rather than spread in: an object spread costs a slow copy per request.
  const event: RequestEvent = {
    kind: 'request',
    id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
    time: ctx.startedAt,
    listener: ctx.listener,
    clientAddress: ctx.clientAddress,
    clientPort: ctx.clientPort,
    sni: conn?.sni ?? null,
    tlsConfig: conn?.tlsConfig ?? null,
    host: ctx.host,
    method: req.method ?? '',
    path: req.url ?? '',
    httpVersion: req.httpVersion,
    cert: conn?.certUsed ? conn.cert : null,
    verify: conn?.certUsed || conn?.rejected ? conn.verify : null,
    mappedUser: conn?.mappedUser ?? null,
    // The plain-HTTP listener forwards everything, as HAProxy's documented always_forward_only on http.
    // A connection under another header dialect names it and its mode instead (e.g. "envoy sanitize_set").
    forwardedClientCert: ctx.listener === 'https' ? (conn?.dialect?.label ?? mode) : 'always_forward_only',
    h10: ctx.h10,
    route: ctx.route?.name ?? null,
    upstream: ctx.route?.label ?? null,
    status,
    durationMs: Date.now() - ctx.startedAt,
    websocket,
    error,
    underscoreHeaders: ctx.underscoreHeaders,
    forwarded,
  };
  if (forwarded !== null && ctx.sentHeaders) (event as { forwardedAsSent?: boolean }).forwardedAsSent = true;
  return event;
}

/** Runs the stages; true when the request should go on to the upstream. */
export function runStages(stages: readonly Stage[], ctx: RequestContext): boolean {
  for (let i = 0; i < stages.length; i++) if (!stages[i]!(ctx)) return false;
  return true;
}

export function createRequestHandler(listener: ListenerKind, deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  // Stages are rebuilt only when the settings object changes (reload), not per request.
  let builtFor: PipelineSettings | null = null;
  let stages: Stage[] = [];
  let extraResponseHeaders: readonly string[] = [];
  let headLimit = 0;
  return (req, res) => {
    const settings = deps.settings();
    if (settings !== builtFor) {
      builtFor = settings;
      stages = stagesFor(listener, settings, deps.routes, { upgrade: false, tls: deps.tls });
      extraResponseHeaders = setResponseHeaders(listener, settings.hsts);
      headLimit = responseHeadLimit(settings.maxHeaderSize);
    }
    const ctx = newContext(req, res, listener);
    const finish = (status: number, error: string | null): void => {
      // Also runs from undici's callbacks at the response's end, outside the request handler's boundary.
      try {
        deps.events.emit(requestEvent(ctx, status, error, false, settings.forwardedClientCert));
      } catch (err) {
        endConnectionAfterFault(deps.events, { listener, stage: 'response', clientAddress: ctx.clientAddress }, err, req.socket);
      }
    };
    if (!runStages(stages, ctx)) {
      finish(ctx.answeredWith?.status ?? res.statusCode, ctx.answeredWith?.error ?? null);
      return;
    }
    const target = ctx.route!;
    const pool = deps.upstreams.poolFor(target);
    proxyRequest(ctx, pool, extraResponseHeaders, headLimit, (r) => finish(r.status, r.error));
  };
}
