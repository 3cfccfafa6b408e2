// Prometheus metrics for the edge, on a private registry so that several edges (tests, embedded
// use) in one process never collide. The hot path only adds to plain numbers (per route: a count
// per status, histogram buckets, sum); prom-client reads them when /metrics is scraped. Measured
// with `npm run bench:paired -- --a edge-log --b edge-admin`: label lookups and Histogram.observe per
// request cost ≈1–2 % of the CPU per keep-alive request, and prom-client's GC-duration histogram,
// which runs JavaScript after every garbage collection, another 2–3 %. So prom-client's default
// process metrics (GC durations included) are registered at the first scrape: an edge nobody
// scrapes (a laptop, a CI run) does not pay for them; one that is scraped gets them all.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricValueWithName } from 'prom-client';
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
  /** prom-client's default process metrics (CPU, memory, event-loop lag, GC) on the same registry, from the first render on; default true. */
  defaultMetrics?: boolean;
}

const PREFIX = 'mtls_edge_';
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface RouteStats {
  readonly byStatus: Map<number, number>;
  /** Non-cumulative counts per DURATION_BUCKETS entry, the last one for +Inf. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // Registered at the first render (see the top of this file). Cumulative process counters (CPU
  // seconds) count from the process start anyway; event-loop lag and GC durations from that scrape.
  let processMetricsPending = opts.defaultMetrics ?? true;

  const perRoute = new Map<string, RouteStats>();
  const accepted = new Map<number | null, number>();
  const rejected = new Map<string, number>();
  const faults = new Map<string, number>();
  const plain = { requests: 0, handshakesAccepted: 0, handshakesRejected: 0, openConnections: 0, h10Removed: 0, edgeAnswered: 0, connectionsRefused: 0 };
  const refused = new Map<string, number>();

  new Counter({
    name: `${PREFIX}handshakes_total`,
    help: 'TLS handshakes by outcome and OpenSSL verify code (none = no client certificate or not a verify error).',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of accepted) {
        const outcome: HandshakeOutcome = code === null ? 'no_certificate' : code === 0 ? 'verified' : 'ignored';
        this.inc({ outcome, code: code === null ? 'none' : String(code) }, n);
      }
      for (const [code, n] of rejected) this.inc({ outcome: 'rejected', code }, n);
    },
  });
  new Counter({
    name: `${PREFIX}requests_total`,
    help: 'HTTP requests by response status and route.',
    labelNames: ['status', 'route'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, r] of perRoute) for (const [status, n] of r.byStatus) this.inc({ status: String(status), route }, n);
    },
  });
  new Counter({
    name: `${PREFIX}connection_errors_total`,
    help: 'Connections ended by a fault (an exception) in the edge while handling them, by stage; each is logged with its stack.',
    labelNames: ['stage'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [stage, n] of faults) this.inc({ stage }, n);
    },
  });
  registry.registerMetric(routeDurationHistogram(perRoute));
  new Counter({
    name: `${PREFIX}connections_refused_total`,
    help: 'Connections closed at accept because a cap was reached (cap = listener: listener_max_connections, total: max_connections).',
    labelNames: ['listener', 'cap'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of refused) {
        const [listener, cap] = key.split(' ');
        this.inc({ listener, cap }, n);
      }
    },
  });
  new Gauge({
    name: `${PREFIX}open_connections`,
    help: 'Client connections currently open.',
    registers: [registry],
    collect() {
      this.set(plain.openConnections);
    },
  });
  new Counter({
    name: `${PREFIX}h10_removed_requests_total`,
    help: 'Requests in which the edge removed client-sent X-SSL-Client-* / X-Forwarded-Client-Cert headers.',
    registers: [registry],
    collect() {
      this.reset();
      if (plain.h10Removed > 0) this.inc(plain.h10Removed);
    },
  });

  const onRequest = (e: RequestEvent): void => {
    plain.requests++;
    const route = e.route ?? 'none';
    let r = perRoute.get(route);
    if (!r) perRoute.set(route, (r = { byStatus: new Map(), buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    r.byStatus.set(e.status, (r.byStatus.get(e.status) ?? 0) + 1);
    const seconds = e.durationMs / 1000;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    r.buckets[i]!++;
    r.sum += seconds;
    r.count++;
    if (e.h10.removed.length > 0) plain.h10Removed++;
    if (e.error !== null) plain.edgeAnswered++;
  };

  return {
    registry,
    emit(event: EdgeEvent): void {
      if (event.kind === 'request') onRequest(event);
      else if (event.kind === 'handshake-rejected') {
        plain.handshakesRejected++;
        const code = event.verify ? String(event.verify.code) : 'none';
        rejected.set(code, (rejected.get(code) ?? 0) + 1);
      } else if (event.kind === 'connection-refused') {
        plain.connectionsRefused++;
        const key = `${event.listener} ${event.cap}`;
        refused.set(key, (refused.get(key) ?? 0) + 1);
      } else if (event.kind === 'connection-error') faults.set(event.stage, (faults.get(event.stage) ?? 0) + 1);
    },
    connectionOpened() {
      plain.openConnections++;
    },
    connectionClosed() {
      if (plain.openConnections > 0) plain.openConnections--;
    },
    handshakeAccepted(verifyCode) {
      plain.handshakesAccepted++;
      accepted.set(verifyCode, (accepted.get(verifyCode) ?? 0) + 1);
    },
    counters: () => ({ ...plain }),
    async render() {
      if (processMetricsPending) {
        processMetricsPending = false;
        collectDefaultMetrics({ register: registry, prefix: PREFIX, eventLoopMonitoringPrecision: 10 });
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * The request-duration histogram, read from the per-route numbers at scrape time. prom-client's
 * Histogram can only be fed one observation at a time, so this is a metric of our own that gives
 * the registry the same samples a Histogram would (cumulative `_bucket` with `le`, `_sum`, `_count`).
 */
function routeDurationHistogram(perRoute: ReadonlyMap<string, RouteStats>): Metric {
  const name = `${PREFIX}request_duration_seconds`;
  const help = 'Time from request to response end, by route.';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    // The shape prom-client's Histogram#get returns, which is all the registry reads.
    get: async (): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValueWithName<string>[] }> => {
      const values: MetricValueWithName<string>[] = [];
      for (const [route, r] of perRoute) {
        let cumulative = 0;
        for (let i = 0; i <= DURATION_BUCKETS.length; i++) {
          cumulative += r.buckets[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le: i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf', route }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels: { route }, value: r.sum });
        values.push({ metricName: `${name}_count`, labels: { route }, value: r.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: (): void => undefined,
  };
  return metric as unknown as Metric;
}
