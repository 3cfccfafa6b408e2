// The upstream hop: streams the request body up and the response down without buffering, through
// undici's Pool.stream (the fast path measured against node:http request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestContext } from './requestContext.js';
import type { Pool } from 'undici';
import { answerError } from './errorPages.js';
import { HOP_BY_HOP_HEADERS } from './hopByHop.js';
import { REQUEST_EXPIRED_ERROR, requestExpired } from './requestTimeout.js';
import { requestServername } from './upstreams.js';
import { headSentForResponse } from './upstreamHead.js';

export interface ProxyResult {
  readonly status: number;
  readonly error: string | null;
}

function responseHeaders(raw: readonly Buffer[] | readonly string[], extra: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    if (HOP_BY_HOP_HEADERS.has(name.toLowerCase())) continue;
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

export function proxyRequest(ctx: RequestContext, pool: Pick<Pool, 'stream'>, extraResponseHeaders: readonly string[]): Promise<ProxyResult> {
  const { req, res } = ctx;
  let status = 0;
  return new Promise<ProxyResult>((resolve) => {
    const failed = (err: Error & { code?: string }): void => {
      if (requestExpired(res)) {
        res.destroy();
        resolve({ status: 408, error: REQUEST_EXPIRED_ERROR });
        return;
      }
      if (res.headersSent || res.destroyed) {
        // Mid-response failure: the client must see a broken response, not a truncated success.
        res.destroy();
        resolve({ status: status || 502, error: `upstream failed mid-response: ${err.code ?? err.message}` });
        return;
      }
      const code = upstreamErrorStatus(err);
      const error = `upstream ${ctx.route?.label ?? ''}: ${upstreamFailure(err)}`;
      answerError(req, res as ServerResponse, code, error);
      resolve({ status: code, error });
    };
    // undici reports failures through the callback; a throw here would be a defect, and the
    // request that was already accepted still gets its error page instead of hanging.
    try {
      pool.stream(
        {
          path: req.url ?? '/',
          method: req.method as Dispatcher.HttpMethod,
          headers: ctx.headers,
          body: requestHasBody(req) ? req : null,
          responseHeaders: 'raw',
          // Never the client's Host: see requestServername.
          ...(ctx.route ? { servername: requestServername(ctx.route) } : {}),
        },
        ({ statusCode, headers }): Writable => {
          // First: the head recorded for this response's request is only valid right now.
          ctx.sentHeaders = headSentForResponse();
          status = statusCode;
          res.writeHead(statusCode, responseHeaders(headers as unknown as Buffer[], extraResponseHeaders));
          return res as unknown as Writable;
        },
        (err) => (err ? failed(err) : resolve({ status, error: null })),
      );
    } catch (e) {
      failed(e as Error);
    }
  });
}
