// The access log: one line per RequestEvent, in the format the user already reads elsewhere.
//  - `haproxy`: HAProxy's `option httplog` line, filled with what the edge knows.
//  - `cpi`: the Cloud Integration HTTP access log (seed 003), which shows at a glance whether a
//    certificate reached the tenant: `CN@issuerCN`, the mapped user, or `-` for none.
// The formatters are pure; the sink batches lines and writes them to a stream without blocking.
import type { EdgeEvent, EventSink, RequestEvent } from './events.js';
import { clfDate, haproxyDate, httpVersionLabel } from './textFormat.js';
import { escapeAccessLog as logSafe } from './escape.js';
import { jsonLine } from './logger.js';

const ACCESS_LOG_FORMATS = ['haproxy', 'cpi', 'off'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

function requestLine(e: RequestEvent): string {
  return `"${logSafe(e.method)} ${logSafe(e.path)} ${logSafe(httpVersionLabel(e.httpVersion))}"`;
}

/** Who the request ran as, the way Cloud Integration prints it. */
function cpiIdentity(e: RequestEvent): string {
  if (e.mappedUser) return logSafe(e.mappedUser);
  if (!e.cert) return '-';
  return `${logSafe(e.cert.subjectCN ?? '-')}@${logSafe(e.cert.issuerCN ?? '-')}`;
}

/** `<ip> - <CN of subject>@<CN of issuer> [<date>] "GET /path HTTP/1.1" <status>` */
export function formatCpiLine(e: RequestEvent): string {
  return `${logSafe(e.clientAddress)} - ${cpiIdentity(e)} [${clfDate(e.time)}] ${requestLine(e)} ${e.status}`;
}

// HAProxy's termination state for the cases the edge can tell apart: normal end, server-side
// connection failure, server timeout, or a request the proxy answered itself.
function terminationState(e: RequestEvent): string {
  if (e.error === null) return '----';
  if (e.status === 502 || e.status === 503) return 'SC--';
  if (e.status === 504) return 'sH--';
  return 'PR--';
}

const ms = (v: number | undefined): string => (v === undefined ? '-1' : String(Math.round(v)));

/**
 * `client:port [date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - ---- 0/0/0/0/0 0/0 "GET /path HTTP/1.1"`
 * The frontend carries HAProxy's `~` suffix on TLS; backend is the route, server the upstream
 * (`<NOSRV>` when the edge answered itself). Unknown timers are `-1`, as HAProxy prints them.
 */
export function formatHaproxyLine(e: RequestEvent): string {
  const client = e.clientPort === undefined ? logSafe(e.clientAddress) : `${logSafe(e.clientAddress)}:${e.clientPort}`;
  const frontend = e.listener === 'https' ? 'https~' : 'http';
  const backend = e.route ? logSafe(e.route).replace(/ /g, '_') : '<NOSRV>';
  const server = e.upstream ? logSafe(e.upstream).replace(/ /g, '_') : '<NOSRV>';
  const noUpstream = e.upstream === null;
  const tc = noUpstream ? '-1' : ms(e.upstreamConnectMs);
  const tr = noUpstream ? '-1' : ms(e.upstreamResponseMs);
  const timers = `0/0/${tc}/${tr}/${Math.round(e.durationMs)}`;
  return `${client} [${haproxyDate(e.time)}] ${frontend} ${backend}/${server} ${timers} ${e.status} ${e.bytesSent ?? 0} - - ${terminationState(e)} 0/0/0/0/0 0/0 ${requestLine(e)}`;
}

function formatAccessLine(format: Exclude<AccessLogFormat, 'off'>, e: RequestEvent): string {
  return format === 'cpi' ? formatCpiLine(e) : formatHaproxyLine(e);
}

export interface AccessLogSink extends EventSink {
  /** Lines dropped because the stream could not keep up (bounded memory beats a growing queue). */
  readonly dropped: number;
  /** Writes what is queued now. */
  flush(): void;
  /** Flushes and stops; the stream itself stays open (it is usually stdout). */
  close(): Promise<void>;
}

export interface AccessLogOptions {
  format: Exclude<AccessLogFormat, 'off'>;
  stream: NodeJS.WritableStream;
  /** The process log is JSON: each access-log line goes out as one JSON line too (the text under `msg`). */
  json?: boolean;
  /** Queue bound while the stream is not draining; default 10 000 lines. */
  maxQueued?: number;
  /**
   * And in characters, default 4 Mi: a line carries the client's request target (up to
   * max_header_size), so 10,000 lines alone could hold some 150 MB while the output stalls.
   */
  maxQueuedChars?: number;
}

/**
 * Queues lines and writes them once per event-loop turn with a single `write`: under load that is
 * one syscall for many requests instead of one each, and the request path never waits for I/O.
 */
export function createAccessLogSink(opts: AccessLogOptions): AccessLogSink {
  const { format, stream } = opts;
  // One stream, one format: in a JSON log a text line would break every reader of the stream.
  const asLine = opts.json
    ? (text: string, fields: Readonly<Record<string, unknown>>, time = Date.now()): string => jsonLine(new Date(time).toISOString(), 'info', text, fields)
    : (text: string): string => text;
  const maxQueued = opts.maxQueued ?? 10_000;
  const maxQueuedChars = opts.maxQueuedChars ?? 4 * 1024 * 1024;
  let queue: string[] = [];
  let queuedChars = 0;
  let scheduled: NodeJS.Immediate | null = null;
  let waitingForDrain = false;
  let dropped = 0;
  let reportedDropped = 0;
  let closed = false;

  const flush = (): void => {
    scheduled = null;
    if (waitingForDrain || queue.length === 0) return;
    if (dropped > reportedDropped) {
      const count = dropped - reportedDropped;
      queue.push(opts.json ? asLine(`${count} access-log lines dropped (output too slow)`, { event: 'access-log-dropped', count }) : `# mtls-edge: ${count} access-log lines dropped (output too slow)`);
      reportedDropped = dropped;
    }
    const chunk = queue.join('\n') + '\n';
    queue = [];
    queuedChars = 0;
    if (!stream.write(chunk)) {
      waitingForDrain = true;
      stream.once('drain', () => {
        waitingForDrain = false;
        if (queue.length > 0) schedule();
      });
    }
  };
  const schedule = (): void => {
    if (scheduled === null) scheduled = setImmediate(flush);
  };

  return {
    get dropped() {
      return dropped;
    },
    emit(event: EdgeEvent): void {
      if (event.kind !== 'request' || closed) return;
      if (queue.length >= maxQueued || queuedChars >= maxQueuedChars) {
        dropped++;
        return;
      }
      const line = asLine(formatAccessLine(format, event), { event: 'access', format, status: event.status }, event.time);
      queue.push(line);
      queuedChars += line.length;
      if (!waitingForDrain) schedule();
    },
    flush() {
      if (scheduled !== null) clearImmediate(scheduled);
      flush();
    },
    async close() {
      if (scheduled !== null) clearImmediate(scheduled);
      flush();
      closed = true;
    },
  };
}
