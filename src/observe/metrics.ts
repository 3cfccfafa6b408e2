// Prometheus metrics for the edge, on a private registry so that several edges (tests, embedded
// use) in one process never collide. The event sink counts rejected handshakes and requests; the
// edge calls the connection functions directly because accepted handshakes are not events.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdgeEvent, EventSink, RequestEvent } from './events.js';

export type HandshakeOutcome = 'verified' | 'ignored' | 'no_certificate' | 'rejected';

export interface Metrics extends EventSink {
  readonly registry: Registry;
  /** A TCP/TLS connection was accepted; pair with connectionClosed. */
  connectionOpened(): void;
  connectionClosed(): void;
  /**
   * A handshake completed: `verifyCode` 0 = verified, another code = error ignored by configuration,
   * null = no certificate presented. Rejected handshakes are counted from their events.
   */
  handshakeAccepted(verifyCode: number | null): void;
  /** Plain numbers for `/status` and the flow page (no registry walk). */
  counters(): Record<string, number>;
  /** The Prometheus exposition text. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag) on the same registry; default true. */
  defaultMetrics?: boolean;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mtls_edge_' });

  const handshakes = new Counter({
    name: 'mtls_edge_handshakes_total',
    help: 'TLS handshakes by outcome and OpenSSL verify code (none = no client certificate or not a verify error).',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'mtls_edge_requests_total',
    help: 'HTTP requests by response status and route.',
    labelNames: ['status', 'route'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mtls_edge_request_duration_seconds',
    help: 'Time from request to response end, by route.',
    labelNames: ['route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const open = new Gauge({ name: 'mtls_edge_open_connections', help: 'Client connections currently open.', registers: [registry] });
  const spoofed = new Counter({
    name: 'mtls_edge_h10_removed_requests_total',
    help: 'Requests in which the edge removed client-sent X-SSL-Client-* / X-Forwarded-Client-Cert headers.',
    registers: [registry],
  });

  // labels() hashes its arguments on every call; the label sets are few, so keep the children.
  const requestChildren = new Map<string, { inc(): void }>();
  const durationChildren = new Map<string, { observe(v: number): void }>();
  const handshakeChildren = new Map<string, { inc(): void }>();
  const handshakeChild = (outcome: HandshakeOutcome, code: string): { inc(): void } => {
    const k = `${outcome}|${code}`;
    let c = handshakeChildren.get(k);
    if (!c) handshakeChildren.set(k, (c = handshakes.labels(outcome, code)));
    return c;
  };

  const plain = { requests: 0, handshakesAccepted: 0, handshakesRejected: 0, openConnections: 0, h10Removed: 0, edgeAnswered: 0 };

  const onRequest = (e: RequestEvent): void => {
    plain.requests++;
    const route = e.route ?? 'none';
    const k = `${e.status}|${route}`;
    let r = requestChildren.get(k);
    if (!r) requestChildren.set(k, (r = requests.labels(String(e.status), route)));
    r.inc();
    let d = durationChildren.get(route);
    if (!d) durationChildren.set(route, (d = duration.labels(route)));
    d.observe(e.durationMs / 1000);
    if (e.h10.removed.length > 0) {
      plain.h10Removed++;
      spoofed.inc();
    }
    if (e.error !== null) plain.edgeAnswered++;
  };

  return {
    registry,
    emit(event: EdgeEvent): void {
      if (event.kind === 'request') onRequest(event);
      else if (event.kind === 'handshake-rejected') {
        plain.handshakesRejected++;
        handshakeChild('rejected', event.verify ? String(event.verify.code) : 'none').inc();
      }
    },
    connectionOpened() {
      plain.openConnections++;
      open.inc();
    },
    connectionClosed() {
      if (plain.openConnections > 0) plain.openConnections--;
      open.dec();
    },
    handshakeAccepted(verifyCode) {
      plain.handshakesAccepted++;
      const outcome: HandshakeOutcome = verifyCode === null ? 'no_certificate' : verifyCode === 0 ? 'verified' : 'ignored';
      handshakeChild(outcome, verifyCode === null ? 'none' : String(verifyCode)).inc();
    },
    counters: () => ({ ...plain }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
