// The upstream hop: streams the request body up and the response down without buffering, through
// undici's Pool.dispatch with a handler of its own (UpstreamExchange). Pool.stream did the same
// with more per request (an AsyncResource, a finished() watch of the response with its listeners)
// and offered no way to cancel a request but an abort signal, whose listener cost about 5 % CPU per
// keep-alive request; the handler gets undici's controller and cancels with it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestContext } from './requestContext.js';
import { errors, type Pool } from 'undici';
import { answerError } from './errorPages.js';
import { HOP_BY_HOP_HEADERS } from './hopByHop.js';
import { replacedBySet } from './setResponseHeaders.js';
import { REQUEST_EXPIRED_ERROR, requestExpired } from './requestTimeout.js';
import { requestServername } from './upstreams.js';
import { headSentForResponse } from './upstreamHead.js';
import { refusedResponseHead } from './responseHead.js';
import { UploadBody } from './uploadBody.js';

export interface ProxyResult {
  readonly status: number;
  readonly error: string | null;
}

/**
 * The app's response headers for the client: hop-by-hop ones dropped, the set ones
 * (setResponseHeaders.ts) replaced. `noContent`: a 204's Content-Length is dropped too, as HAProxy
 * drops it (whatever its value).
 */
export function responseHeaders(raw: readonly Buffer[] | readonly string[], extra: readonly string[], noContent = false): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(lower) || (extra.length > 0 && replacedBySet(extra, lower)) || (noContent && lower === 'content-length')) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  for (const h of extra) out.push(h);
  return out;
}

function requestHasBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** What went wrong with the upstream, in words, with Node's code for searching. */
function upstreamFailure(err: Error & { code?: string }): string {
  const what = UPSTREAM_FAILURES[err.code ?? ''];
  return what ? `${what} (${err.code})` : (err.code ?? err.message);
}

const UPSTREAM_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: is the app running and listening on that port?',
  ENOTFOUND: 'host name not found',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'the app closed the connection',
  UND_ERR_CONNECT_TIMEOUT: 'no connection within timeouts.connect',
  UND_ERR_HEADERS_TIMEOUT: 'no response within timeouts.server',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled longer than timeouts.server',
  UND_ERR_SOCKET: 'the app closed the connection',
  EMFILE: 'the edge is out of file descriptors: raise the open-files limit before starting (ulimit -n)',
  ENFILE: 'the system is out of file descriptors',
};

/** Maps an upstream failure to the status HAProxy would answer with. */
export function upstreamErrorStatus(err: Error & { code?: string }): number {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'UND_ERR_CONNECT_TIMEOUT':
    // No socket for the upstream connection: a connection failure, 503 as in HAProxy.
    case 'EMFILE':
    case 'ENFILE':
      return 503;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 504;
    default:
      return 502;
  }
}

/** The client left before its response began: 499, as nginx logs it (HAProxy logs -1 with CH/CQ). */
export const CLIENT_CLOSED_STATUS = 499;
export const CLIENT_CLOSED_ERROR = 'the client connection closed before the response was complete (the upstream request was cancelled)';
/** The reason undici is given when the edge cancels a request; one object, compared by identity. */
const CLIENT_GONE: Error = Object.freeze(new Error(CLIENT_CLOSED_ERROR)) as Error;
/** close() ended the connection after its grace: the client did not leave, so no 499. */
const EDGE_STOPPED_STATUS = 503;
const EDGE_STOPPED_ERROR = 'the edge stopped before the response was complete (the upstream request was cancelled)';

/** Why a response closed unfinished. */
type CancelReason = 'client-left' | 'edge-stopped';

const RAW_HEADERS_MISSING: Error = Object.freeze(new Error('undici gave no raw response header list (controller.rawHeaders): is the undici version supported?')) as Error;

const EXCHANGE = Symbol('mtls-edge.upstream-exchange');
type WithExchange = ServerResponse & { [EXCHANGE]?: UpstreamExchange };

/**
 * Ends the upstream request of a response whose client has gone (its connection closed before the
 * response was complete), as Gorouter cancels a request whose client left: the upstream connection
 * closes at once instead of being held until the app answers or timeouts.server passes. Without it a
 * client could pile up upstream connections past every connection cap by sending requests to a slow
 * path and leaving. Called when a response closes; a finished one has nothing to cancel.
 */
export function cancelUpstream(res: ServerResponse, why: CancelReason): void {
  if (!res.writableFinished) (res as WithExchange)[EXCHANGE]?.cancel(why);
}

/** An HTTP parser error in what the app sent (undici 7 leaves its code undefined: the class tells). */
const isParserError = (err: Error): boolean => err instanceof errors.HTTPParserError;

/** One proxied request: undici's handler, writing the upstream's response to the client's. */
class UpstreamExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private settled = false;
  private cancelled: CancelReason | null = null;
  // The head waits for the first body byte or the end: Node sends it no sooner anyway, and until
  // then a body HAProxy refuses (a malformed chunk right after the head) can still get its 502 page.
  private pendingHeaders: string[] | null = null;
  private pendingReason: string | undefined = undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly extraResponseHeaders: readonly string[],
    private readonly headLimit: number,
    private readonly settle: (r: ProxyResult) => void,
  ) {}

  private writePendingHead(): void {
    const headers = this.pendingHeaders;
    if (headers === null) return;
    this.pendingHeaders = null;
    // The app's own reason phrase, as HAProxy passes it on ("200 Custom", "599 Whatever").
    if (typeof this.pendingReason === 'string') this.ctx.res.writeHead(this.status, this.pendingReason, headers);
    else this.ctx.res.writeHead(this.status, headers);
  }

  private done(r: ProxyResult): void {
    if (this.settled) return;
    this.settled = true;
    (this.ctx.res as WithExchange)[EXCHANGE] = undefined;
    this.settle(r);
  }

  /** The response closed unfinished: the upstream request ends now, or as soon as undici starts it. */
  cancel(why: CancelReason): void {
    if (this.settled || this.cancelled !== null) return;
    this.cancelled = why;
    if (this.controller) this.controller.abort(CLIENT_GONE);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled !== null) controller.abort(CLIENT_GONE);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    // 1xx (100 Continue, 103 Early Hints) are not forwarded; the final response follows.
    if (statusCode < 200) return;
    // First: the head recorded for this response's request is only valid right now.
    this.ctx.sentHeaders = headSentForResponse();
    const raw = controller.rawHeaders;
    // undici (client-h1) hands the head's lines as received; anything else would lose the app's
    // headers silently, so the request fails loudly instead (502 naming this).
    if (!Array.isArray(raw)) {
      controller.abort(RAW_HEADERS_MISSING);
      return;
    }
    // A head HAProxy's parser refuses gets its 502 page (responseHead.ts); undici closes that connection.
    const refused = refusedResponseHead(raw, statusMessage?.length ?? 0, this.headLimit);
    if (refused !== null) {
      controller.abort(new Error(refused));
      return;
    }
    this.status = statusCode;
    this.pendingHeaders = responseHeaders(raw, this.extraResponseHeaders, statusCode === 204);
    this.pendingReason = statusMessage;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.ctx.res;
    if (res.destroyed) return;
    this.writePendingHead();
    // The client reads slower than the upstream sends: undici stops reading until the response drains.
    if (!res.write(chunk) && !controller.paused) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.writePendingHead();
    this.ctx.res.end();
    this.done({ status: this.status, error: null });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error & { code?: string }): void {
    if (this.settled) return;
    const { req, res } = this.ctx;
    if (requestExpired(res)) {
      res.destroy();
      this.done({ status: 408, error: REQUEST_EXPIRED_ERROR });
      return;
    }
    if (this.cancelled === 'edge-stopped') {
      res.destroy();
      this.done({ status: this.status || EDGE_STOPPED_STATUS, error: EDGE_STOPPED_ERROR });
      return;
    }
    if (this.cancelled !== null) {
      res.destroy();
      this.done({ status: this.status || CLIENT_CLOSED_STATUS, error: CLIENT_CLOSED_ERROR });
      return;
    }
    if ((this.status === 304 || this.status === 204) && err.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && !res.destroyed) {
      // undici counts the Content-Length of a 304 (the size of the representation, which RFC 9110
      // §8.6 lets the app send) or of a 204 as body bytes owed; neither has a body, so the answer is
      // complete, and HAProxy relays it so (the 204 without its Content-Length, whatever bytes
      // followed). undici has closed that upstream connection.
      this.writePendingHead();
      res.end();
      this.done({ status: this.status, error: null });
      return;
    }
    // Only a body HAProxy's parser refuses turns a head not yet sent into the 502 page (HAProxy
    // answers so when the bad bytes come with the head); any other failure after the head breaks the
    // response, as HAProxy breaks one whose head it has forwarded.
    const headOnly = this.pendingHeaders !== null && isParserError(err);
    this.pendingHeaders = null;
    if (!headOnly && (this.status !== 0 || res.headersSent || res.destroyed)) {
      // Mid-response failure: the client must see a broken response, not a truncated success.
      res.destroy();
      this.done({ status: this.status || 502, error: `upstream failed mid-response: ${err.code ?? err.message}` });
      return;
    }
    const code = upstreamErrorStatus(err);
    const error = `upstream ${this.ctx.route?.label ?? ''}: ${upstreamFailure(err)}`;
    answerError(req, res, code, error);
    this.done({ status: code, error });
  }
}

/**
 * `headLimit`: the largest response head, in HAProxy's measure (responseHead.ts responseHeadLimit).
 * `settle` is called once, when the exchange is over: a callback rather than a promise, which cost
 * a promise, its reactions and a microtask per proxied request.
 */
export function proxyRequest(ctx: RequestContext, pool: Pick<Pool, 'dispatch'>, extraResponseHeaders: readonly string[], headLimit: number, settle: (r: ProxyResult) => void): void {
  const { req, res } = ctx;
  const exchange = new UpstreamExchange(ctx, extraResponseHeaders, headLimit, settle);
  (res as WithExchange)[EXCHANGE] = exchange;
  // undici reports failures to the handler; a throw here would be a defect, and the request that
  // was already accepted still gets its error page instead of hanging.
  try {
    const options: Dispatcher.DispatchOptions & { servername?: string } = {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: ctx.headers,
      // A body already in cannot be left on the wire: undici takes it as it is (and its length).
      body: requestHasBody(req) ? (req.complete ? req : new UploadBody(req)) : null,
      // Never the client's Host: see requestServername. undici reads this request option (absent
      // from its DispatchOptions type) as `servername || <from Host>`: undefined is none.
      servername: ctx.route ? requestServername(ctx.route) : undefined,
    };
    pool.dispatch(options, exchange);
  } catch (e) {
    exchange.onResponseError(undefined, e as Error);
  }
}
