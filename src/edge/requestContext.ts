// One request's journey through the edge: what each stage reads and what it leaves for the next.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderPair } from '../observe/events.js';
import type { ConnectionState } from './connectionState.js';
import type { RouteTarget } from './routeTable.js';

export type ListenerKind = 'https' | 'http';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly listener: ListenerKind;
  /** Null on the plain-HTTP listener. */
  readonly conn: ConnectionState | null;
  readonly startedAt: number;
  readonly clientAddress: string;
  /** Read when the request arrives: the socket may be gone (null) by the time the request ends. */
  readonly clientPort: number | undefined;
  /** Host header without port, lower-cased ('' when absent): routeHost(hostOnly). */
  readonly host: string;
  /** The Host header's host as HAProxy's host_only gives it: lower case, port removed, a trailing dot kept. */
  readonly hostOnly: string;
  /** Flat raw header list being prepared for the upstream: [name, value, name, value, …]. */
  headers: string[];
  h10: { sent: readonly HeaderPair[]; removed: readonly HeaderPair[]; set: readonly HeaderPair[] };
  route: RouteTarget | null;
  /** Header names with underscores the client sent (set by the underscoreHeaders stage). */
  underscoreHeaders?: readonly string[];
  /** The header list as the upstream received it, when recorded (upstreamHead.ts). */
  sentHeaders?: readonly string[] | null;
  /** Set when a stage answered the request itself. */
  answeredWith: { status: number; error: string } | null;
}

/**
 * A stage does one thing to the request. Returning false means it answered the client itself and
 * the journey ends there.
 */
export type Stage = (ctx: RequestContext) => boolean;
