// A RequestContext for table-driven stage tests: only what the stages read is real (headers, host,
// listener, client address, the request line); the response records what a stage answered.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionState } from '../../../src/edge/connectionState.js';
import type { RequestContext } from '../../../src/edge/requestContext.js';
import { hostOnly, routeHost } from '../../../src/tls/hostPattern.js';

export interface Answer {
  status: number | null;
  body: string;
}

export interface StageInput {
  readonly headers: readonly string[];
  readonly listener?: 'https' | 'http';
  readonly url?: string;
  readonly httpVersion?: string;
  readonly conn?: Partial<ConnectionState> | null;
}

export function stageContext(input: StageInput): { ctx: RequestContext; answer: Answer } {
  const answer: Answer = { status: null, body: '' };
  const rawHeaders = [...input.headers];
  const hostIndex = rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === 'host');
  const only = hostIndex >= 0 ? hostOnly(rawHeaders[hostIndex + 1]!) : '';
  const req = {
    rawHeaders,
    url: input.url ?? '/',
    method: 'GET',
    httpVersion: input.httpVersion ?? '1.1',
    headers: Object.fromEntries(rawHeaders.flatMap((n, i) => (i % 2 === 0 ? [[n.toLowerCase(), rawHeaders[i + 1]]] : []))),
  } as unknown as IncomingMessage;
  const res = {
    writeHead(status: number) {
      answer.status = status;
      return res;
    },
    setHeader() {
      return res;
    },
    end(body?: string) {
      answer.body = body ?? '';
      return res;
    },
  } as unknown as ServerResponse;
  const ctx: RequestContext = {
    req,
    res,
    listener: input.listener ?? 'https',
    conn: (input.conn ?? null) as ConnectionState | null,
    startedAt: 0,
    clientAddress: '192.0.2.7',
    clientPort: 50000,
    host: routeHost(only),
    hostOnly: only,
    headers: rawHeaders,
    h10: { sent: [], removed: [], set: [] },
    route: null,
    answeredWith: null,
  };
  return { ctx, answer };
}

/** [name, value] pairs from a flat list, for readable expectations. */
export function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
