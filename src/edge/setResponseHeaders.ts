// The headers the edge sets on the app's answers, as HAProxy's `http-response set-header` lines do:
// Strict-Transport-Security on the HTTPS listener when `hsts` is on. set-header removes the app's own
// header of that name first, so the client gets the edge's value once, on every answer from the app:
// a response, a WebSocket 101, a refused Upgrade, an answer to CONNECT, and the 417 that stands for
// Gorouter's (stages/expectation.ts). Answers the edge makes itself as HAProxy (its error pages) get
// none, as `http-response` rules do not run on HAProxy's own.
import type { ListenerKind } from './requestContext.js';

/** Flat [name, value, …]; empty when nothing is set. */
export function setResponseHeaders(listener: ListenerKind, hsts: string | null): readonly string[] {
  return listener === 'https' && hsts !== null ? ['Strict-Transport-Security', hsts] : [];
}

/** True when `lowerName` is one of the set headers: the app's own is dropped. */
export function replacedBySet(set: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < set.length; i += 2) if (set[i]!.toLowerCase() === lowerName) return true;
  return false;
}
