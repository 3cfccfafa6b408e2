// HAProxy's built-in error pages, byte for byte (docs/edge-behaviour.md §7.7).
import type { ServerResponse } from 'node:http';
import type { RequestContext } from './requestContext.js';

const PAGES: Readonly<Record<number, readonly [reason: string, text: string]>> = {
  400: ['Bad request', 'Your browser sent an invalid request.'],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  414: ['URI Too Long', 'The URI provided was too long for the server to process.'],
  421: ['Misdirected Request', 'Request sent to a non-authoritative server.'],
  431: ['Request Header Fields Too Large', 'The request header fields are too large.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
};

function errorPageBody(status: number): string {
  const [reason, text] = PAGES[status] ?? ['Error', 'An error occurred.'];
  return `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
}

/** The raw HTTP/1.1 response HAProxy writes for an error, for sockets without a ServerResponse. */
export function rawErrorResponse(status: number): string {
  const body = errorPageBody(status);
  const reason = PAGES[status]?.[0] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n${body}`;
}

/** The status line with HAProxy's reason phrase ("504 Gateway Time-out"), not Node's ("Gateway Timeout"). */
function writeHeadAsHaproxy(res: ServerResponse, status: number, headers: string[]): void {
  const reason = PAGES[status]?.[0];
  if (reason === undefined) res.writeHead(status, headers);
  else res.writeHead(status, reason, headers);
}

/** The response header that says why the edge answered itself (HAProxy's page alone does not). */
const EDGE_ERROR_HEADER = 'x-mtls-edge-error';

/** Printable ASCII only: the reason may quote what the client sent (a Host, a path). */
function headerSafe(text: string): string {
  const safe = text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > 512 ? `${safe.slice(0, 509)}...` : safe;
}

/** True when the client asked for JSON and not for HTML (an API client, not a browser). */
function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/json') && !accept.includes('text/html');
}

/**
 * The edge answers a request itself. The status and, by default, the body are HAProxy's (its page,
 * byte for byte); what HAProxy does not say is why: the reason goes in the x-mtls-edge-error header,
 * and a client that asks for JSON gets `{status, title, error}` instead of the HTML page.
 */
export function answerError(req: { readonly headers: { readonly accept?: string } }, res: ServerResponse, status: number, error: string): void {
  if (!wantsJson(req.headers.accept)) {
    sendErrorPage(res, status, [EDGE_ERROR_HEADER, headerSafe(error)]);
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${JSON.stringify({ status, title: PAGES[status]?.[0] ?? 'Error', error })}\n`;
  writeHeadAsHaproxy(res, status, ['content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-cache', 'content-type', 'application/json', EDGE_ERROR_HEADER, headerSafe(error)]);
  res.end(body);
}

/** A stage answers the request itself: records why (for the event and log) and ends its journey. */
export function answered(ctx: RequestContext, status: number, error: string): false {
  ctx.answeredWith = { status, error };
  answerError(ctx.req, ctx.res, status, error);
  return false;
}

export function sendErrorPage(res: ServerResponse, status: number, extraHeaders?: readonly string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorPageBody(status);
  const headers = ['content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-cache', 'content-type', 'text/html'];
  if (extraHeaders) headers.push(...extraHeaders);
  writeHeadAsHaproxy(res, status, headers);
  res.end(body);
}
