// The open-files limit against max_connections. Every connection the edge proxies can hold two
// descriptors (the client's socket and one to the upstream; three through the built-in echo, whose
// server side is in this process too), so `max_connections: 10000` needs about 20,000. Past the limit libuv accepts and closes new connections without telling Node, so
// the edge would drop clients without a log line; instead, where the limit is lower, the cap is
// lowered to what it holds, and refused connections are then logged and counted as over the cap.
// HAProxy derives maxconn from the limit the same way when none is set, and refuses to start when
// a configured one does not fit; the edge starts and warns with the fix, since on a laptop (macOS
// allows about 10,000 open files) refusing would cost more than a smaller cap.
import { readFileSync } from 'node:fs';
import { ADMIN_MAX_CONNECTIONS } from '../observe/adminServer.js';

/**
 * Descriptors besides the connections': the admin listener's own connections (at most
 * ADMIN_MAX_CONNECTIONS) and 64 for listeners, logs, the echo's listener, stdio.
 */
const RESERVED_DESCRIPTORS = ADMIN_MAX_CONNECTIONS + 64;

/** What one proxied connection can hold at once: 3 when a route goes to the built-in echo. */
export function descriptorsPerConnection(usesBuiltInEcho: boolean): number {
  return usesBuiltInEcho ? 3 : 2;
}

export function descriptorsNeeded(maxConnections: number, perConnection: number): number {
  return perConnection * maxConnections + RESERVED_DESCRIPTORS;
}

/**
 * The soft "Max open files" of /proc/self/limits (Node raised it to the hard limit at start), or
 * null where it cannot be read: Node has no public getrlimit, so outside Linux nothing is checked.
 */
export function openFilesLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** The connections an open-files limit holds (no bound when it is unknown). */
export function connectionsThatFit(limit: number | null, perConnection: number): number {
  if (limit === null) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor((limit - RESERVED_DESCRIPTORS) / perConnection));
}

/**
 * The start-up notice when the limit cannot hold `max_connections`; null when it can. A warning
 * when a configured cap drops by more than a tenth. A small trim (10,000 → 9,936 under the 20,000
 * some containers set) changes nothing a user would notice, and the default is only the edge's own
 * guess (HAProxy derives its maxconn from the limit when none is set): both are info lines.
 */
export function descriptorNotice(maxConnections: number, limit: number | null, perConnection: number, defaulted = false): { level: 'warn' | 'info'; message: string } | null {
  const fits = connectionsThatFit(limit, perConnection);
  if (fits >= maxConnections) return null;
  const need = descriptorsNeeded(maxConnections, perConnection);
  const sockets = perConnection === 3 ? 'a client socket and two for the built-in echo per connection' : 'a client and an upstream socket per connection';
  const message =
    `max_connections ${maxConnections} needs about ${need} open files (${sockets}), ` +
    `but this process may open ${limit}, so the edge caps connections at ${fits}. ` +
    `To allow ${maxConnections}, raise the limit before starting (ulimit -n ${need}); to silence this, set max_connections to ${fits} or less.`;
  return { level: !defaulted && fits < maxConnections * 0.9 ? 'warn' : 'info', message };
}
