// One call that assembles everything the edge reports into: the event bus, the process log, the
// access log, metrics, client-certificate expiry warnings and the admin listener with the flow page.
// The start command calls createObservability once and hands `bus` to the edge.
import { EventBus } from './events.js';
import { createLogger, type LogFormat, type Logger } from './logger.js';
import { createLogSink } from './logSink.js';
import { createAccessLogSink, type AccessLogFormat, type AccessLogSink } from './accessLog.js';
import type { Metrics } from './metrics.js';
import { createClientCertExpirySink } from './expiry.js';
import type { AdminServer } from './adminServer.js';
import type { StatusSnapshot } from './status.js';
import type { LessonSupport } from './lessons.js';
import { ConfigError } from '../config/configError.js';

export interface ObservabilityOptions {
  /** Default: pretty on a terminal, JSON otherwise. */
  logFormat?: LogFormat;
  /** error|warn|info|debug; default info. */
  logLevel?: string;
  /** Default `cpi`; `off` writes none. */
  accessLogFormat?: AccessLogFormat;
  /** The admin listener; null (or absent) runs none. A token is required off loopback. */
  admin?: { host: string; port: number; token?: string; allowedHosts?: readonly string[] } | null;
  /** Events kept for the flow page; default 500. */
  ringSize?: number;
  /** Where the log and the access log go; default process.stdout. */
  stdout?: NodeJS.WritableStream;
  status: () => StatusSnapshot;
  /** Warn about client certificates this close to expiry; default 30 days. */
  expiryDays?: number;
  /** Process metrics on /metrics; default true. */
  defaultMetrics?: boolean;
  /** What the trainer's lessons need from the running edge (the dev PKI, mode listeners). */
  lessons?: LessonSupport;
}

export interface Observability {
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Null without an admin listener: nothing could scrape them, so they are not kept. */
  readonly metrics: Metrics | null;
  /** Null when no admin listener runs. */
  readonly adminPort: number | null;
  /** Logs where the flow page is; called once every listener is up, so nothing before it reads as ready. */
  announceAdmin(): void;
  close(): Promise<void>;
}

export async function createObservability(opts: ObservabilityOptions): Promise<Observability> {
  const stdout = opts.stdout ?? process.stdout;
  const logger = createLogger({ format: opts.logFormat, level: opts.logLevel, stream: stdout });
  // A sink that throws (a formatting fault on hostile input) drops that event for itself only; the
  // fault is logged so that it is seen and fixed. The bus never calls this re-entrantly.
  const bus = new EventBus((err, event) =>
    logger.error(`an event of kind ${event.kind} could not be reported by one of the sinks: ${(err as Error)?.message ?? String(err)}`, {
      event: 'connection-error',
      stage: 'event',
      stack: (err as Error)?.stack ?? null,
    }),
  );
  const unsubscribe: (() => void)[] = [];
  // prom-client and the page are loaded only with an admin listener: without one they would cost
  // start-up time and resident memory for metrics nobody can read.
  const metrics = opts.admin ? (await import('./metrics.js')).createMetrics({ defaultMetrics: opts.defaultMetrics }) : null;
  if (metrics) unsubscribe.push(bus.subscribe(metrics));
  unsubscribe.push(bus.subscribe(createLogSink(logger)));
  const accessFormat = opts.accessLogFormat ?? 'cpi';
  let accessLog: AccessLogSink | null = null;
  if (accessFormat !== 'off') {
    accessLog = createAccessLogSink({ format: accessFormat, stream: stdout, json: logger.format === 'json' });
    unsubscribe.push(bus.subscribe(accessLog));
  }
  unsubscribe.push(bus.subscribe(createClientCertExpirySink(bus, { days: opts.expiryDays })));

  let admin: AdminServer | null = null;
  if (opts.admin) {
    try {
      const { startAdminServer } = await import('./adminServer.js');
      admin = await startAdminServer({ host: opts.admin.host, port: opts.admin.port, token: opts.admin.token, allowedHosts: opts.admin.allowedHosts, bus, status: opts.status, ringSize: opts.ringSize, logger, metrics: metrics ?? undefined, lessons: opts.lessons });
    } catch (err) {
      for (const u of unsubscribe) u();
      await accessLog?.close();
      await logger.close();
      // A refused admin setting (a non-loopback bind without a token) is a configuration error as it is.
      if (err instanceof ConfigError) throw err;
      const e = err as NodeJS.ErrnoException;
      // The caller names the flag that sets the port; `code` tells it the port is taken.
      throw Object.assign(new Error(`admin listener could not start on ${opts.admin.host}:${opts.admin.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message}`), { code: e.code });
    }
  }
  const shownHost = opts.admin?.host.includes(':') ? `[${opts.admin.host}]` : opts.admin?.host;
  const running = admin;

  let closed = false;
  return {
    bus,
    logger,
    metrics,
    adminPort: admin?.port ?? null,
    announceAdmin() {
      if (!running) return;
      // Never the token itself: only where it goes.
      const howToOpen = running.tokenRequired ? ' (token required: open it once as /?token=<admin token>)' : '';
      logger.info(`flow page: http://${shownHost}:${running.port}/${howToOpen}`, { admin: `${shownHost}:${running.port}` });
    },
    async close() {
      if (closed) return;
      closed = true;
      await admin?.close();
      for (const u of unsubscribe) u();
      await accessLog?.close();
      await logger.close();
    },
  };
}
