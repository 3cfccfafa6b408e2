// The header list the upstream really received, for the flow page's app lane. undici writes the
// request head itself from the list the edge hands it: `host` first and in lower case, its own
// `connection` header, and the body framing (`content-length` or `transfer-encoding`) at the end.
// undici publishes the head it writes on the diagnostics channel `undici:client:sendHeaders` (without
// the framing, which it appends in the same call, from the same request fields read here); the
// request whose response headers arrive is published on `undici:request:headers` just before its
// handler (the proxy's onResponseStart) runs, which is how the proxy finds its own request's head.
// Recorded only while someone reads it (a flow page is open, or a lesson runs: the admin server
// starts and stops it): otherwise undici publishes nothing and the proxy pays nothing. While it
// records, it costs each proxied request about 10 % of its CPU (parsing the head), so it must not
// stay on by default.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { UploadBody } from './uploadBody.js';

/** The fields of undici's request object this module reads (undici 7). */
interface UndiciRequest {
  readonly method: string;
  readonly body: unknown;
  readonly contentLength: number | null;
}

const sentHeads = new WeakMap<object, string[]>();
let responding: object | null = null;
let readers = 0;

const PAYLOAD_METHODS = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/**
 * The framing line undici appends to the published head (client-h1 writeH1 with writeBuffer or
 * writeStream), for the bodies the proxy sends: none, the client's request stream, or its UploadBody.
 */
function bodyFraming(request: UndiciRequest): [string, string] | null {
  const body = request.body as IncomingMessage | UploadBody | null;
  const expectsPayload = PAYLOAD_METHODS.has(request.method);
  // undici takes a stream's length when it has ended (all of it buffered), else the declared one.
  const allIn = body instanceof UploadBody ? body.allIn : body?.complete === true;
  const bodyLength = body === null ? 0 : allIn ? body.readableLength : null;
  let contentLength = bodyLength ?? request.contentLength;
  if (contentLength === 0 && !expectsPayload) contentLength = null;
  if (body === null || bodyLength === 0) return contentLength === 0 ? ['content-length', '0'] : null;
  return contentLength === null ? ['transfer-encoding', 'chunked'] : ['content-length', String(contentLength)];
}

/** `name: value` lines after the request line, as a flat [name, value, …] list. */
function parseHead(head: string): string[] {
  const flat: string[] = [];
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(': ');
    if (colon > 0) flat.push(line.slice(0, colon), line.slice(colon + 2));
  }
  return flat;
}

function onSendHeaders(message: unknown): void {
  const { request, headers } = message as { request: UndiciRequest & object; headers: string };
  if (typeof headers !== 'string') return;
  const flat = parseHead(headers);
  const framing = bodyFraming(request);
  if (framing) flat.push(...framing);
  sentHeads.set(request, flat);
}

function onResponseHeaders(message: unknown): void {
  responding = (message as { request: object }).request;
}

/** Starts recording the heads undici writes; the returned function stops (for this reader). */
export function recordUpstreamHeads(): () => void {
  if (readers++ === 0) {
    diagnosticsChannel.subscribe('undici:client:sendHeaders', onSendHeaders);
    diagnosticsChannel.subscribe('undici:request:headers', onResponseHeaders);
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--readers === 0) {
      diagnosticsChannel.unsubscribe('undici:client:sendHeaders', onSendHeaders);
      diagnosticsChannel.unsubscribe('undici:request:headers', onResponseHeaders);
      responding = null;
    }
  };
}

/**
 * In the proxy's onResponseStart: the header list (flat) the upstream received for the request whose
 * response this is; null when nothing is recorded.
 */
export function headSentForResponse(): string[] | null {
  const request = responding;
  responding = null;
  return request === null ? null : (sentHeads.get(request) ?? null);
}
