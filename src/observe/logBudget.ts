// Bounded logging under floods. Connection-level rejections (no TLS bytes, garbage, handshake
// timeouts, over a connection cap) are written at most a few lines per reason per interval; the
// rest of each interval becomes one summary line. Certificate rejections keep one line each under
// a generous budget. Metrics still count every event: only the log lines are held back.
import type { ConnectionRefusedEvent, HandshakeRejectedEvent } from './events.js';

export const LOG_INTERVAL_MS = 10_000;
/** Lines per connection-level reason per interval. */
const CONNECTION_LINES_PER_INTERVAL = 5;
/** Lines of certificate rejections (one per client, with a verify outcome) per interval. */
const CERTIFICATE_LINES_PER_INTERVAL = 200;
export const CERTIFICATE_REASON = 'client certificate rejected';

/**
 * The budget key of a rejection: a fixed set of reasons, so a client cannot grow the table (the
 * event's own reason may carry client-chosen text such as an SNI).
 */
export function rejectionReason(e: HandshakeRejectedEvent): string {
  if (e.verify || e.cert || e.alert === 'certificate_required' || e.explained) return CERTIFICATE_REASON;
  if (e.alert === 'unrecognized_name') return 'SNI matches no TLS configuration (strict_sni)';
  if (/timeout/i.test(e.reason)) return 'TLS handshake not completed within timeouts.request_headers';
  if (/plain HTTP/i.test(e.reason)) return 'plain HTTP sent to the HTTPS port';
  if (/not a TLS handshake|ClientHello/i.test(e.reason)) return 'not a TLS handshake';
  return 'TLS handshake failed';
}

export function refusedReason(e: ConnectionRefusedEvent): string {
  if (e.cap === 'pipelined') return `one more pipelined request while ${e.limit} wait in the edge (clients pipelining faster than the app answers)`;
  return e.cap === 'total' ? `over max_connections (${e.limit})` : `over listener_max_connections.${e.listener} (${e.limit})`;
}

function linesPerInterval(reason: string): number {
  return reason === CERTIFICATE_REASON ? CERTIFICATE_LINES_PER_INTERVAL : CONNECTION_LINES_PER_INTERVAL;
}

export interface HeldBack {
  readonly reason: string;
  readonly count: number;
}

/** Fixed windows of `intervalMs`: up to `limit(reason)` lines per reason in each. */
export class LineBudget {
  private windowStart = -Infinity;
  private readonly written = new Map<string, number>();
  private readonly held = new Map<string, number>();
  private due: HeldBack[] = [];

  constructor(
    private readonly intervalMs: number = LOG_INTERVAL_MS,
    private readonly limit: (reason: string) => number = linesPerInterval,
  ) {}

  /** True when a line for `reason` may be written at `now`; false counts it as held back. */
  take(reason: string, now: number): boolean {
    if (now - this.windowStart >= this.intervalMs) this.roll(now);
    const n = (this.written.get(reason) ?? 0) + 1;
    if (n <= this.limit(reason)) {
      this.written.set(reason, n);
      return true;
    }
    this.held.set(reason, (this.held.get(reason) ?? 0) + 1);
    return false;
  }

  /** Ends the current window: per reason, how many lines were held back since the last call. */
  endWindow(now: number): HeldBack[] {
    this.roll(now);
    const out = this.due;
    this.due = [];
    return out;
  }

  /** When the current window ends (for the summary timer). */
  windowEndsAt(): number {
    return this.windowStart + this.intervalMs;
  }

  private roll(now: number): void {
    for (const [reason, count] of this.held) this.due.push({ reason, count });
    this.held.clear();
    this.written.clear();
    this.windowStart = now;
  }
}

export function summaryLine(h: HeldBack, intervalMs: number = LOG_INTERVAL_MS): string {
  return `${h.count} more connection${h.count === 1 ? '' : 's'} closed: ${h.reason} in the last ${Math.round(intervalMs / 1000)} s`;
}
