// HAProxy's built-in error pages, byte for byte (spec §4).
import type { ServerResponse } from 'node:http';

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

export function errorPageBody(status: number): string {
  const [reason, text] = PAGES[status] ?? ['Error', 'An error occurred.'];
  return `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
}

/** The raw HTTP/1.1 response HAProxy writes for an error, for sockets without a ServerResponse. */
export function rawErrorResponse(status: number): string {
  const body = errorPageBody(status);
  const reason = PAGES[status]?.[0] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n${body}`;
}

export function sendErrorPage(res: ServerResponse, status: number, extraHeaders?: readonly string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorPageBody(status);
  const headers = ['content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-cache', 'content-type', 'text/html'];
  if (extraHeaders) headers.push(...extraHeaders);
  res.writeHead(status, headers);
  res.end(body);
}
