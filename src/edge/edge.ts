// Assembles the running edge: the HTTPS front (SNI → TLS configuration → verify outcome), the HTTP
// handling behind it, the plain-HTTP listener, the built-in echo upstream and the upstream pools.
// Configuration lives in one `EdgeRuntime` snapshot that reload() swaps atomically.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/schema.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ConfigError } from '../config/configError.js';
import { flagAndSetting } from '../config/startFlags.js';
import type { EdgeEvent, EventSink, HandshakeRejectedEvent } from '../observe/events.js';
import { NO_CERTIFICATE } from '../pki/verifyCodes.js';
import { startEchoServer, type EchoServer } from '../echo/echoServer.js';
import { buildTlsProfileSet, type TlsProfileSet } from '../tls/tlsProfiles.js';
import { cancelUpstream } from './proxy.js';
import { createTlsFront, type AcceptedTls, type TlsRejection } from '../tls/tlsFront.js';
import { answerAfterClientFin } from '../tls/nodeTlsInternals.js';
import { attachState, newConnectionState, stateOf } from './connectionState.js';
import { CertInfo, CertInfoCache, presentedSummary, type UserMappingLookup } from './certInfoCache.js';
import { firstCommonName, nodeDnAttributes } from '../headers/commonName.js';
import type { TlsProfile } from '../tls/tlsProfiles.js';
import type { PeerCertificate } from '../tls/peerCertificate.js';
import { createRequestHandler, type PipelineDeps, type PipelineSettings } from './pipeline.js';
import { MAX_REWRITE } from './stages/rewriteBudget.js';
import { createUpgradeHandler } from './websocket.js';
import { createConnectHandler } from './connectMethod.js';
import { builtInEchoRoute, RouteTable, usesBuiltInEcho } from './routeTable.js';
import { Upstreams } from './upstreams.js';
import { rawErrorResponse, sendErrorPage } from './errorPages.js';
import { endConnectionAfterFault, guarded } from './faultBoundary.js';
import { oversizedRequestStatus } from './oversizedRequest.js';
import { MAX_HEADER_LINES } from './stages/headerCount.js';
import { ConnectionLimits, connectionCaps } from './connectionLimits.js';
import { answerRequestTimeout, awaitTurn, inTurnNow, nodeDeadlineSkipped, requestDeadlines, takeTurn, upgradeArrived, waitsForTurn } from './requestTimeout.js';
import { forgetResponse, recordResponse, responseInProgress } from './responseInProgress.js';
import { endAfterOwedAnswers, endingDecided, endsAtTurn } from './connectionEnding.js';
import { answeredBeforeBody, answeredBodyArriving, awaitFirstRequest, awaitNextRequest, firstHeadTimedByEdge, stopAwaitingRequests, type NextRequestTimeouts } from './nextRequestWait.js';
import { overPipelinedBudget, PIPELINED_BUDGET, queuePipelined, upgradeTakesReading } from './pipelinedResponses.js';
import { listenForLesson, type LessonListener } from './lessonListener.js';
import { hstsValue } from './hsts.js';
import { descriptorsPerConnection, openFilesLimit } from './descriptorLimit.js';
import { listenerErrorReporter } from './listenerErrors.js';
import type { ForwardedClientCertMode } from '../headers/modeTable.js';
import { dialectWriter, type DialectWriter } from '../headers/dialects/dialects.js';
import { ENVOY_DETAILS } from '../headers/dialects/envoy.js';

interface EdgeRuntime {
  readonly config: Config;
  readonly resolved: ResolvedConfig;
  readonly tls: TlsProfileSet;
  readonly routes: RouteTable;
  readonly settings: PipelineSettings;
  /** Derived data of a client certificate under a TLS configuration, cached per certificate. */
  readonly certInfo: (profile: TlsProfile, peer: PeerCertificate) => CertInfo;
  /** The header dialect of a TLS configuration; null for cf (the ten headers). */
  readonly dialect: (profile: TlsProfile) => DialectWriter | null;
}

export interface RunningEdge {
  readonly httpsPort: number;
  readonly httpPort: number | null;
  readonly echo: EchoServer | null;
  runtime(): EdgeRuntime;
  /** Swaps in a new configuration; live connections keep the one they started with. Throws a ConfigError, changing nothing, for one it cannot run. */
  reload(config: Config, resolved: ResolvedConfig): void;
  /** Inflight requests right now. */
  inFlight(): number;
  /**
   * A one-connection loopback HTTPS listener that is the edge in every way (TLS configurations,
   * routes, settings) but the forwarded_client_cert mode: for the lesson runner only (lessonListener.ts).
   */
  openLessonListener(mode: ForwardedClientCertMode): Promise<LessonListener>;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes everything. */
  close(graceMs?: number): Promise<void>;
}

function userMapper(resolved: ResolvedConfig): UserMappingLookup {
  const maps = resolved.userMappings;
  if (maps.length === 0) return () => null;
  return (leaf) => {
    for (const m of maps) {
      if (m.fingerprint256 && m.fingerprint256 === leaf.fingerprint256) return m.user;
    }
    const cn = firstCommonName(nodeDnAttributes(leaf.subject));
    for (const m of maps) if (m.subjectCn && m.subjectCn === cn) return m.user;
    return null;
  };
}

function certInfoLookup(config: Config, mapUser: UserMappingLookup): EdgeRuntime['certInfo'] {
  const caches = new Map<TlsProfile, CertInfoCache>();
  return (profile, peer) => {
    let cache = caches.get(profile);
    if (!cache) {
      // The base64 values have HAProxy's limit: its buffer, max_header_size + MAX_REWRITE (tune.bufsize).
      cache = new CertInfoCache(profile.resolved.trustCerts, { legacyXfccHeaderMapping: config.legacy_xfcc_header_mapping, sampleBytes: config.max_header_size + MAX_REWRITE }, mapUser);
      caches.set(profile, cache);
    }
    return cache.get(peer);
  };
}

/** One writer per TLS configuration, built at its first connection and kept until reload. */
function dialectLookup(config: Config): EdgeRuntime['dialect'] {
  const writers = new Map<TlsProfile, DialectWriter | null>();
  const settings = {
    envoy: { forwardClientCertDetails: config.envoy.forward_client_cert_details, setCurrentClientCertDetails: ENVOY_DETAILS.filter((d) => config.envoy.set_current_client_cert_details[d]) },
    rfc9440: { chain: config.rfc9440.chain },
    traefik: { forwardedHeaders: config.traefik.forwarded_headers, pem: config.traefik.pem, info: config.traefik.info },
  };
  return (profile) => {
    let w = writers.get(profile);
    if (w === undefined) {
      w = dialectWriter(profile.resolved.dialect ?? config.dialect, settings, profile.resolved.serverCert);
      writers.set(profile, w);
    }
    return w;
  };
}

function buildRuntime(config: Config, resolved: ResolvedConfig, echoOrigin: string): EdgeRuntime {
  return {
    config,
    resolved,
    tls: buildTlsProfileSet(resolved.tlsProfiles, config.strict_sni),
    routes: new RouteTable(resolved.routes, echoOrigin),
    settings: {
      forwardedClientCert: config.forwarded_client_cert,
      legacyXfccHeaderMapping: config.legacy_xfcc_header_mapping,
      domainFronting: config.disable_domain_fronting,
      clientAuthFronting: config.disable_client_auth_fronting,
      dialect: config.dialect,
      headersWithUnderscores: config.headers_with_underscores,
      maxHeaderSize: config.max_header_size,
      gorouter: config.gorouter.enabled,
      hsts: hstsValue(config.hsts),
    },
    certInfo: certInfoLookup(config, userMapper(resolved)),
    dialect: dialectLookup(config),
  };
}

function rejectionEvent(r: TlsRejection, explained: boolean): HandshakeRejectedEvent {
  const outcome = r.outcome;
  const verify = outcome?.kind === 'cert' ? { code: outcome.code, name: outcome.info.name, hint: outcome.info.hint } : null;
  const reason = r.reason ?? (outcome?.kind === 'cert' ? `${outcome.code} ${outcome.info.name} (${outcome.info.text})` : 'no client certificate sent');
  const hint = verify?.hint ?? (outcome?.kind === 'no-cert' ? NO_CERTIFICATE.hint : r.alert === 'unrecognized_name' ? 'Use a hostname that one of the TLS configurations lists, or turn strict_sni off.' : 'The client did not complete a TLS handshake: check that it speaks TLS 1.2+ to this port.');
  return {
    kind: 'handshake-rejected',
    time: Date.now(),
    listener: 'https',
    clientAddress: r.clientAddress,
    ...(r.clientPort === undefined ? {} : { clientPort: r.clientPort }),
    sni: r.sni,
    tlsConfig: r.profile?.resolved.name ?? '',
    cert: r.peer ? presentedSummary(r.peer) : null,
    verify,
    alert: r.alert,
    reason,
    hint,
    explained,
  };
}

function listen(server: net.Server, port: number, host: string, listener: 'https' | 'http'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const flag = flagAndSetting(listener === 'https' ? 'https-port' : 'http-port');
      const inUse = `the ${listener.toUpperCase()} listener cannot use port ${port} on ${host}: it is already in use (EADDRINUSE). Stop what holds it, or pick another port with ${flag}; 0 = any free port`;
      reject(Object.assign(new Error(e.code === 'EADDRINUSE' ? inUse : `the ${listener.toUpperCase()} listener cannot listen on ${host}:${port}: ${e.message}`), { code: e.code }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Takes Node's HTTP handling off a server's 'connection' event and returns it. An http.Server serves
 * a connection through its own 'connection' listener (emitting 'connection' is Node's documented
 * way to hand it a socket); on the HTTPS port that listener must see only the TLS sockets whose
 * handshake the TLS front accepted, never the raw TCP connections.
 */
function takeConnectionHandler(server: http.Server): (socket: Duplex) => void {
  const listeners = server.listeners('connection');
  const serve = listeners[0] as ((this: http.Server, socket: Duplex) => void) | undefined;
  if (listeners.length !== 1 || !serve) throw new Error(`Node's http.Server has ${listeners.length} 'connection' listeners, expected its own only: this Node version is not supported (use Node 20 or 22)`);
  server.removeListener('connection', serve);
  return (socket) => serve.call(server, socket);
}

/**
 * An Upgrade or CONNECT pipelined behind a response still being written is handled once that response is
 * done, in order, as HAProxy answers pipelined requests: Node hands the socket over at once, and a
 * second response on it would throw ERR_HTTP_SOCKET_ASSIGNED. While it waits the socket belongs to
 * no one (Node removed its own error and timeout listeners at 'upgrade' / 'connect'), so an error (a reset)
 * destroys it, and so does `timeouts.client` once the earlier answer waits for a client that reads nothing.
 */
function waitForEarlierResponse(socket: Duplex, earlier: ServerResponse, clientTimeoutMs: number, then: () => void): void {
  const net = socket as Socket;
  const drop = (): void => {
    net.destroy();
  };
  // As onClientTimeout: cutting while the earlier answer's app is due would cut that answer too.
  const idle = (): void => {
    if (!appIsDue(earlier.writableFinished ? null : earlier, net)) net.destroy();
  };
  // Node also removed its 'drain' listener, which tells the response the socket drained: without
  // it an answer that once filled the socket (the proxy waits for 'drain') would never go on.
  const drained = (): void => {
    earlier.emit('drain');
  };
  net.pause();
  net.on('error', drop);
  net.on('drain', drained);
  net.setTimeout(clientTimeoutMs, idle);
  earlier.once('close', () => {
    net.removeListener('error', drop);
    net.removeListener('drain', drained);
    net.removeListener('timeout', idle);
    net.setTimeout(0);
    if (!net.destroyed) then();
  });
}

/**
 * HAProxy answers malformed requests itself; Node's parser errors become the same pages. `onFault`
 * reports a throw in what runs later, once the answers owed before the error are done.
 */
function onClientError(timeouts: NextRequestTimeouts, err: Error & { code?: string; rawPacket?: unknown; bytesParsed?: unknown }, socket: Socket, onFault: (fault: unknown) => void): void {
  // Already answered or decided: the rest of the same bad request (its next TLS record or TCP chunk)
  // hits the parser again. Destroying now would drop the error page before it is flushed (client: EOF).
  if (socket.writableEnded || endingDecided(socket)) return;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && firstHeadTimedByEdge(socket, timeouts)) {
    nodeDeadlineSkipped(socket);
    return;
  }
  // The rest of an answered request's body not in within timeouts.request: a 408 would follow the
  // answer as a second one; the connection closes without a page.
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && answeredBodyArriving(socket)) {
    socket.destroy();
    return;
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && answerRequestTimeout(socket, timeouts.deadlines)) return;
  if (err.code === 'HPE_CLOSED_CONNECTION') {
    // Bytes after a request that closes the connection (Connection: close, HTTP/1.0), such as an
    // old client's extra CRLF or a pipelined request: llhttp refuses them, but that request's
    // answer is still owed. HAProxy sends it and ignores the rest; so does the edge, reading no
    // more. With no answer in progress there is nothing to send: the connection ends.
    if (responseInProgress(socket) !== null) socket.pause();
    else socket.end();
    return;
  }
  // Only the HTTP parser's errors get an answer; a TLS-level error (a refused renegotiation, a
  // client's fatal alert) or a reset closes the connection, as HAProxy does.
  const answerable = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_') === true;
  if (!answerable || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? oversizedRequestStatus(err.rawPacket, err.bytesParsed) : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const owed = responseInProgress(socket);
  if (owed === null) {
    socket.end(rawErrorResponse(status));
    return;
  }
  // Answers are owed (connectionEnding.ts). The FIN inside a body (Node reports the cut request at
  // EOF) gets no page: HAProxy only closes.
  const cutBody = err.code === 'HPE_INVALID_EOF_STATE' && !owed.req.complete;
  if (!endAfterOwedAnswers(socket, owed, cutBody ? null : rawErrorResponse(status), timeouts.clientMs, onFault)) socket.destroy();
}

/**
 * timeouts.client, as HAProxy's `timeout client`: armed while the client is expected to send (its
 * request) or to read (bytes wait for it), not while the app is due (its response, or the rest of
 * its body). Node's server timeout counts any idle time, so an app slower than timeouts.client lost
 * its client: no 504 by timeouts.server, and the upstream request cancelled as if the client had left.
 */
function onClientTimeout(socket: Socket): void {
  if (!appIsDue(responseInProgress(socket), socket)) socket.destroy();
}

/**
 * True while the app, not the client, is due on a connection whose client timeout fired: an answer is
 * in progress, nothing waits for the client to read, and the request is complete, or the edge holds
 * upload bytes the app has not taken (the edge stopped reading the client), or it waits for its turn
 * behind an earlier answer (a pipelined Expect: 100-continue gets its 100 only then). HAProxy arms `timeout
 * client` only while it can receive from or send to the client; timeouts.server bounds the rest.
 */
function appIsDue(res: ServerResponse | null, socket: Socket): boolean {
  return res !== null && socket.writableLength === 0 && (res.req.complete || res.req.readableLength > 0 || waitsForTurn(res));
}

/** Connection-level counters the metrics keep (requests and rejections arrive as events). */
export interface ConnectionHooks {
  connectionOpened(): void;
  connectionClosed(): void;
  handshakeAccepted(verifyCode: number | null): void;
}

const NO_HOOKS: ConnectionHooks = { connectionOpened: () => undefined, connectionClosed: () => undefined, handshakeAccepted: () => undefined };

export async function startEdge(config: Config, resolved: ResolvedConfig, events: EventSink, hooks: ConnectionHooks = NO_HOOKS): Promise<RunningEdge> {
  const usesEcho = usesBuiltInEcho(resolved.routes);
  const echo = usesEcho ? await startEchoServer() : null;
  let runtime = buildRuntime(config, resolved, echo?.origin ?? 'http://127.0.0.1:1');
  const t = config.timeouts;
  const upstreams = new Upstreams({ connectMs: t.connect * 1000, serverMs: t.server * 1000, keepAliveMs: t.keep_alive * 1000, maxHeaderSize: config.max_header_size });
  const deps = { settings: () => runtime.settings, routes: () => runtime.routes, tls: () => runtime.tls, upstreams, events };

  let inFlight = 0;
  let draining = false;
  /** Past close()'s grace: the edge ends the connections left, so their clients did not leave. */
  let stopping = false;
  /** Where a request's fault is reported: read from fields only, so it cannot throw itself. */
  const requestFault = (kind: 'https' | 'http') => (req: IncomingMessage, res: ServerResponse) => ({
    where: { listener: kind, stage: 'request' as const, clientAddress: stateOf(req.socket)?.clientAddress ?? req.socket?.remoteAddress ?? 'unknown' },
    sockets: [res, req.socket],
  });
  /** Node's deadlines of a request, also run again by the edge (a pipelined request at its turn). */
  const deadlines = requestDeadlines(t);
  // Node checks headersTimeout only every connectionsCheckingInterval (default 30 s): check often
  // enough that timeouts.request_headers holds as HAProxy's `timeout http-request` does. The wait
  // for a keep-alive connection's next request is checked as often.
  const checkMs = Math.max(50, Math.min(1000, t.request_headers * 250));
  const nextRequest: NextRequestTimeouts = { keepAliveMs: t.keep_alive * 1000, clientMs: t.client * 1000, checkMs, deadlines };
  const track = (kind: 'https' | 'http', handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const inTurn = whenEarlierDone(kind, handler);
    return guarded(events, requestFault(kind), (req: IncomingMessage, res: ServerResponse): void => {
      inFlight++;
      const socket = req.socket;
      // Pipelined behind an answer still being written: Node queues this response and, should the
      // connection die first, never closes it, so the socket's close ends it too. Only pipelined
      // requests are registered (a listener per request costs CPU).
      const earlier = responseInProgress(socket);
      const pipelined = earlier !== null;
      recordResponse(socket, res);
      let open = true;
      let unregister: (() => void) | null = null;
      const ended = (): void => {
        if (!open) return;
        open = false;
        inFlight--;
        // A response that closed unfinished: its client left (or the edge stopped), so its upstream request ends too.
        cancelUpstream(res, stopping ? 'edge-stopped' : 'client-left');
        forgetResponse(socket, res);
        unregister?.();
        // An answer sent before its request's body was in (an early 413 or 401): the rest of that
        // body is still this request's, not the start of the next one.
        if (req.complete) awaitNextRequest(socket, nextRequest);
        else {
          answeredBeforeBody(socket, nextRequest);
          req.once('end', () => awaitNextRequest(socket, nextRequest));
        }
      };
      // 'close' comes once per response; on() spares once()'s wrapper per request.
      res.on('close', ended);
      if (pipelined) {
        unregister = queuePipelined(socket, ended);
        // Closed already (over the budget, below, or by its client): the socket's close ends this response.
        if (socket.destroyed) return;
        if (overPipelinedBudget()) {
          events.emit({ kind: 'connection-refused', time: Date.now(), listener: kind, clientAddress: stateOf(socket)?.clientAddress ?? socket.remoteAddress ?? 'unknown', cap: 'pipelined', limit: PIPELINED_BUDGET });
          socket.destroy();
          return;
        }
      }
      if (draining) res.shouldKeepAlive = false;
      if (req.httpVersionMajor !== 1) {
        // Node's parser accepts an HTTP/0.9 request line ("GET /"); HAProxy refuses it with 400.
        res.shouldKeepAlive = false;
        sendErrorPage(res, 400);
        return;
      }
      if (earlier === null) {
        inTurnNow(res, deadlines);
        handler(req, res);
        return;
      }
      // A request pipelined behind an answer in progress goes to the app once that answer is done,
      // as HAProxy takes a connection's requests one at a time: otherwise one connection could put
      // any number of requests at the app at once, past every connection cap.
      awaitTurn(res);
      earlier.once('close', () => inTurn(req, res));
    });
  };
  /** The pipelined request's turn; skipped when its connection has gone meanwhile (it is ended). */
  const whenEarlierDone = (kind: 'https' | 'http', handler: (req: IncomingMessage, res: ServerResponse) => void) =>
    guarded(events, requestFault(kind), (req: IncomingMessage, res: ServerResponse): void => {
      if (!req.socket || req.socket.destroyed || res.writableEnded) return;
      // The request a parser error cut (the client's FIN inside its body): not for the app.
      if (endsAtTurn(res)) return;
      takeTurn(res, deadlines);
      handler(req, res);
    });
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: config.max_header_size,
    keepAliveTimeout: t.keep_alive * 1000,
    headersTimeout: deadlines.headersMs,
    requestTimeout: deadlines.requestMs,
    connectionsCheckingInterval: checkMs,
    noDelay: true,
    // The domain-fronting stage answers a missing Host with Gorouter's text/plain 400.
    requireHostHeader: false,
  };
  // Sockets handed over at 'upgrade' (WebSocket) or 'connect' (CONNECT) leave the HTTP servers' own
  // bookkeeping, so closeAllConnections() misses them: they are the only sockets the edge tracks
  // itself (a Set entry per connection cost measurable CPU per handshake).
  const upgradedSockets = new Set<Duplex>();
  const makeHttp = (kind: 'https' | 'http', serverDeps: PipelineDeps = deps): http.Server => {
    const onRequest = track(kind, createRequestHandler(kind, serverDeps));
    const s = http.createServer(serverOptions, onRequest);
    // Node keeps 1,000 headers by default and drops the rest silently: keep one more than HAProxy's
    // limit, so the headerCount stage sees a request over it (and no request under it loses any).
    s.maxHeadersCount = MAX_HEADER_LINES + 1;
    // Node answers an Expect other than 100-continue with its own 417 unless this is listened to: the
    // request goes through the stages instead (stages/expectation.ts answers as Gorouter, with an event).
    s.on('checkExpectation', onRequest);
    const tunnelTimeouts = { tunnelMs: t.tunnel * 1000, connectMs: t.connect * 1000, serverMs: t.server * 1000, clientMs: t.client * 1000 };
    /** A handed-over connection's handler, in its fault boundary and in order behind an answer still being written. */
    const handedOver = (stage: 'upgrade' | 'connect', handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void) => {
      const fault = (req: IncomingMessage, socket: Duplex, _head: Buffer) => ({
        where: { listener: kind, stage, clientAddress: stateOf(req.socket)?.clientAddress ?? req.socket?.remoteAddress ?? 'unknown' },
        sockets: [socket],
      });
      const onHandover = guarded(events, fault, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // From here the socket has left Node's HTTP bookkeeping: close() ends it through this set.
        if (!upgradedSockets.has(socket)) {
          upgradedSockets.add(socket);
          socket.once('close', () => upgradedSockets.delete(socket));
        }
        // A CONNECT takes the socket from Node's parser as an Upgrade does.
        upgradeTakesReading(socket);
        upgradeArrived(socket as Socket);
        stopAwaitingRequests(socket as Socket);
        const earlier = responseInProgress(socket);
        if (earlier !== null) {
          waitForEarlierResponse(socket, earlier, t.client * 1000, () => onHandover(req, socket, head));
          return;
        }
        handler(req, socket, head);
      });
      return onHandover;
    };
    s.on('upgrade', handedOver('upgrade', createUpgradeHandler(kind, serverDeps, tunnelTimeouts)));
    // Without a 'connect' listener Node resets a CONNECT's connection: no answer, nothing logged.
    s.on('connect', handedOver('connect', createConnectHandler(kind, serverDeps, tunnelTimeouts)));
    const clientErrorAt = (socket: Socket) => ({ listener: kind, stage: 'client-error' as const, clientAddress: stateOf(socket)?.clientAddress ?? socket.remoteAddress ?? 'unknown' });
    s.on('clientError', guarded(events, (_err: Error, socket: Socket) => ({ where: clientErrorAt(socket), sockets: [socket] }), (err: Error, socket: Socket) =>
      onClientError(nextRequest, err, socket, (fault) => endConnectionAfterFault(events, clientErrorAt(socket), fault, socket))));
    answerAfterClientFin(s);
    s.timeout = t.client * 1000;
    // A listener replaces Node's own destroy on timeout.
    s.on('timeout', onClientTimeout);
    return s;
  };

  // The HTTPS listener is an HTTP server, so Node runs it as any server that listens: its checks of
  // headersTimeout and requestTimeout and its closeIdleConnections() start at its real 'listening'.
  // Its TCP connections go to the TLS front first; Node's HTTP handling gets the TLS sockets.
  const httpsServer = makeHttp('https');
  // One TLS front per listener: the edge's own and the lesson runner's one-connection listeners.
  // A lesson is about a cf forwarded_client_cert mode, so its connections speak cf whatever the dialect.
  const tlsFrontFor = (server: http.Server, lesson = false): ((raw: net.Socket) => void) => {
    const serveHttp = takeConnectionHandler(server);
    return createTlsFront({
      profiles: () => runtime.tls,
      handshakeTimeoutMs: t.request_headers * 1000,
      explainRejections: () => runtime.config.explain_rejections,
      onAccepted: (a: AcceptedTls) => {
        const rejected = !a.outcome.accepted;
        const socket = a.socket;
        const certInfo = runtime.certInfo;
        attachState(socket, newConnectionState({
          profile: a.profile, dialect: lesson ? null : runtime.dialect(a.profile), sni: a.sni, clientAddress: a.clientAddress, clientPort: a.clientPort, outcome: a.outcome, peer: a.peer,
          lookup: (peer) => certInfo(a.profile, peer), rejected,
        }));
        if (hooks !== NO_HOOKS) {
          if (!rejected) hooks.handshakeAccepted(a.outcome.kind === 'cert' ? a.outcome.code : null);
          hooks.connectionOpened();
          socket.on('close', () => hooks.connectionClosed());
        }
        serveHttp(socket);
        awaitFirstRequest(socket, nextRequest);
      },
      onRejected: (r) => events.emit(rejectionEvent(r, runtime.config.explain_rejections && r.outcome !== null)),
      onFault: (stage, clientAddress, err) => endConnectionAfterFault(events, { listener: 'https', stage, clientAddress }, err),
    });
  };
  httpsServer.on('connection', tlsFrontFor(httpsServer));
  const limits = new ConnectionLimits(connectionCaps(config, openFilesLimit(), descriptorsPerConnection(usesEcho)), events, config.http_port === false ? ['https'] : ['https', 'http']);
  limits.guard(httpsServer, 'https');
  // A failed listen is the start-up error itself (listen() rejects with it); errors after are logged.
  const httpsPort = await listen(httpsServer, config.https_port, config.bind, 'https');
  httpsServer.on('error', listenerErrorReporter(events, 'HTTPS'));
  let plain: http.Server | null = null;
  let httpPort: number | null = null;
  if (config.http_port !== false) {
    plain = makeHttp('http');
    limits.guard(plain, 'http');
    plain.on('connection', (socket: Socket) => awaitFirstRequest(socket, nextRequest));
    httpPort = await listen(plain, config.http_port, config.bind, 'http');
    plain.on('error', listenerErrorReporter(events, 'HTTP'));
  }

  const emit = (e: EdgeEvent): void => events.emit(e);
  /** The echo the mode lessons send to when no route uses the built-in one (started at the first). */
  let lessonEcho: Promise<EchoServer> | null = null;
  return {
    httpsPort,
    httpPort,
    echo,
    runtime: () => runtime,
    inFlight: () => inFlight,
    async openLessonListener(mode) {
      const settings = { ...runtime.settings, forwardedClientCert: mode };
      // Whatever the configured routes, a lesson's request goes to the built-in echo: under a mode
      // weaker than the edge's own, its forged headers must never reach the real app.
      lessonEcho ??= echo ? Promise.resolve(echo) : startEchoServer();
      const echoOrigin = (await lessonEcho).origin;
      const routes = new RouteTable([{ name: 'lesson', host: '*', path: '/', upstream: 'echo' }], echoOrigin);
      // No cross-configuration checks (tls undefined): every lesson request goes to the echo, and
      // a lesson connection speaks cf whatever the configurations' dialects.
      const server = makeHttp('https', { ...deps, settings: () => settings, routes: () => routes, tls: undefined });
      return listenForLesson(server, tlsFrontFor(server, true));
    },
    reload(newConfig, newResolved) {
      // The built-in echo runs only when a route used it at start; sending a new echo route to no
      // server would answer 503 for a configuration the log called reloaded.
      const echoIndex = builtInEchoRoute(newResolved.routes);
      if (echo === null && echoIndex >= 0) {
        throw new ConfigError([{ where: `routes[${echoIndex}].upstream`, message: 'the built-in echo upstream was not started, since no route used it at start: restart the edge to add a route to it' }]);
      }
      runtime = buildRuntime(newConfig, newResolved, echo?.origin ?? 'http://127.0.0.1:1');
      // Pools keyed by upstream TLS settings the new routes no longer use close after their requests.
      upstreams.retain(runtime.routes.targets);
    },
    async close(graceMs = 10_000) {
      draining = true;
      // An http.Server's close() also closes its idle connections and stops its timeout checks.
      httpsServer.close();
      plain?.close();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        httpsServer.closeIdleConnections();
        plain?.closeIdleConnections();
      }
      if (inFlight > 0) emit({ kind: 'lifecycle', time: Date.now(), level: 'warn', message: `closing with ${inFlight} request(s) still in flight after ${graceMs} ms` });
      stopping = true;
      httpsServer.closeAllConnections();
      plain?.closeAllConnections();
      for (const s of upgradedSockets) s.destroy();
      await upstreams.close(Math.max(0, deadline - Date.now()));
      await echo?.close();
      await lessonEcho?.then((started) => (started !== echo ? started.close() : undefined), () => undefined);
    },
  };
}
