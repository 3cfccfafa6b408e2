// Server-Sent Events for the flow page. Every event lands in a bounded ring (by reference, no
// copy); it is serialised only when at least one page is connected, once for all pages, and the
// writes to each page are batched per event-loop turn. A page that cannot keep up is disconnected
// rather than buffered without limit; its EventSource reconnects with Last-Event-ID and catches up
// from the ring.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { EdgeEvent, EventSink, HeaderPair } from './events.js';
import { RingBuffer } from './ringBuffer.js';
import { isCredentialHeader, redactFields, scrubText } from './redact.js';
import { escapeJsonText } from './escape.js';

export interface StreamedEvent {
  readonly seq: number;
  readonly event: EdgeEvent;
}

interface Client {
  readonly res: ServerResponse;
  pending: string[];
}

export interface EventStreamOptions {
  ringSize?: number;
  /** Bytes a page may have unsent before it is dropped; default 4 MiB. */
  maxBufferedBytes?: number;
  /** Keep-alive comment interval; default 15 s (proxies close idle streams). */
  heartbeatMs?: number;
  /**
   * Events per second sent to pages; default 200. Above it events are counted, and the pages get
   * one `skipped` notice per second with the count: a page is for people, who cannot read more,
   * and streaming every request under load cost the edge a quarter of its CPU (docs/performance.md).
   * The ring keeps every event.
   */
  maxEventsPerSecond?: number;
  /**
   * Called when the first page connects; what it returns is called when the last one leaves. For
   * work done only for the pages' sake (the app lane's record of what the upstream received).
   */
  whileViewed?: () => () => void;
}

// A request event repeats its certificate's summary (the same object for every request of a
// connection) and the ten header values. The list itself is new per request, but its pairs come from
// the certificate's template, all but the session ID's. JSON is made once per shared object, which
// takes most of the serialisation off each request.
const sharedPartJson = new WeakMap<object, string>();
function sharedJson(part: object): string {
  let json = sharedPartJson.get(part);
  if (json === undefined) {
    json = scrubText(JSON.stringify(part));
    sharedPartJson.set(part, json);
  }
  return json;
}

// Shorter pairs (the session ID's is made per request) are serialised each time: caching them
// would only fill the WeakMap with keys that die young.
const CACHED_PAIR_MIN_LENGTH = 64;
function headerPairsJson(pairs: readonly HeaderPair[]): string {
  let out = '[';
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    if (i > 0) out += ',';
    out += pair[1].length >= CACHED_PAIR_MIN_LENGTH ? sharedJson(pair) : scrubText(JSON.stringify(pair));
  }
  return `${out}]`;
}


/** The forwarded header list as [name, value] pairs, credentials redacted. */
function forwardedJson(flat: readonly string[]): string {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    pairs.push([name, isCredentialHeader(name) ? '[redacted]' : flat[i + 1]!]);
  }
  return scrubText(JSON.stringify(pairs));
}

/**
 * The JSON a page receives for one event: secrets scrubbed, lifecycle fields redacted by name, and no
 * control, separator or bidi character raw (escapeJsonText), for the page and for /api/events.
 */
export function eventToJson(item: StreamedEvent): string {
  return escapeJsonText(eventJson(item));
}

function eventJson(item: StreamedEvent): string {
  const e = item.event;
  if (e.kind === 'request') {
    const { h10, cert, forwarded, ...perRequest } = e;
    const head = scrubText(`{"seq":${item.seq},"event":${JSON.stringify(perRequest).slice(0, -1)}`);
    const sentAndRemoved = scrubText(`"sent":${JSON.stringify(h10.sent)},"removed":${JSON.stringify(h10.removed)}`);
    const upstream = forwarded === undefined ? '' : `,"forwarded":${forwarded === null ? 'null' : forwardedJson(forwarded)}`;
    return `${head},"h10":{${sentAndRemoved},"set":${headerPairsJson(h10.set)}},"cert":${cert ? sharedJson(cert) : 'null'}${upstream}}}`;
  }
  const safe: EdgeEvent = e.kind === 'lifecycle' && e.fields ? { ...e, fields: redactFields(e.fields) } : e;
  return scrubText(`{"seq":${item.seq},"event":${JSON.stringify(safe)}}`);
}

const frame = (item: StreamedEvent): string => `id: ${item.seq}\nevent: edge\ndata: ${eventToJson(item)}\n\n`;

export class EventStream implements EventSink {
  private readonly ring: RingBuffer<StreamedEvent>;
  private readonly clients = new Set<Client>();
  private readonly whileViewed: (() => () => void) | undefined;
  private stopViewed: (() => void) | null = null;
  private readonly maxBuffered: number;
  private readonly heartbeat: NodeJS.Timeout;
  private flushScheduled: NodeJS.Immediate | null = null;
  private seq = 0;
  private readonly maxPerSecond: number;
  private windowStart = 0;
  private sentInWindow = 0;
  private skippedInWindow = 0;
  private windowTimer: NodeJS.Timeout | null = null;
  /** Lets a page notice that the edge restarted (sequence numbers start over). */
  readonly instance = randomUUID();

  constructor(opts: EventStreamOptions = {}) {
    this.ring = new RingBuffer<StreamedEvent>(opts.ringSize ?? 500);
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.maxPerSecond = opts.maxEventsPerSecond ?? 200;
    this.whileViewed = opts.whileViewed;
    this.heartbeat = setInterval(() => this.ping(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get ringSize(): number {
    return this.ring.capacity;
  }

  /** Sequence number of the newest event (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  emit(event: EdgeEvent): void {
    // Refused connections are counted (metrics) and summarised (log); a flood of them would only
    // push every request out of the page's ring.
    if (event.kind === 'connection-refused') return;
    const item = { seq: ++this.seq, event };
    this.ring.push(item);
    if (this.clients.size === 0) return; // the common case under load: no page, no serialisation
    const now = Date.now();
    if (now - this.windowStart >= 1000) this.closeWindow(now);
    if (this.sentInWindow >= this.maxPerSecond) {
      if (this.skippedInWindow++ === 0) {
        // Tell the pages at the end of this window, also when no further event comes.
        this.windowTimer = setTimeout(() => this.closeWindow(Date.now()), Math.max(0, this.windowStart + 1000 - now));
        this.windowTimer.unref();
      }
      return;
    }
    this.sentInWindow++;
    this.push(frame(item));
  }

  private push(chunk: string): void {
    for (const c of this.clients) c.pending.push(chunk);
    if (this.flushScheduled === null) this.flushScheduled = setImmediate(() => this.flush());
  }

  private closeWindow(now: number): void {
    if (this.windowTimer !== null) clearTimeout(this.windowTimer);
    this.windowTimer = null;
    if (this.skippedInWindow > 0) {
      this.push(`event: skipped\ndata: ${JSON.stringify({ count: this.skippedInWindow, maxPerSecond: this.maxPerSecond })}\n\n`);
    }
    this.windowStart = now;
    this.sentInWindow = 0;
    this.skippedInWindow = 0;
  }

  recent(): StreamedEvent[] {
    return this.ring.toArray();
  }

  /**
   * The ring as one JSON array for /api/events: the newest events that fit in maxBuffered bytes, in
   * order, and how many older ones were left out. A full ring of large events is tens of megabytes
   * (12 KB headers of escaped bytes), and every request for it builds its own string.
   */
  recentJson(): { readonly json: string; readonly omitted: number } {
    const { texts, omitted } = this.newestWithinBound(eventToJson, 0, 1);
    return { json: `[${texts.join(',')}]`, omitted };
  }

  /**
   * The ring's events after `after` as `render` writes them, the newest first chosen while their
   * bytes (each plus `separator`) stay within maxBuffered, in ring order; `omitted`: those left out.
   * Bytes, not UTF-16 units: characters above U+009F go out as they are.
   */
  private newestWithinBound(render: (item: StreamedEvent) => string, after: number, separator: number): { texts: string[]; omitted: number } {
    const items = this.ring.toArray();
    const texts: string[] = [];
    let bytes = 0;
    let i = items.length - 1;
    for (; i >= 0 && items[i]!.seq > after; i--) {
      const text = render(items[i]!);
      bytes += Buffer.byteLength(text) + separator;
      if (bytes > this.maxBuffered) break;
      texts.push(text);
    }
    return { texts: texts.reverse(), omitted: i + 1 };
  }


  /** Takes over an HTTP response as an event stream: headers, replay after `lastEventId`, then live. */
  attach(res: ServerResponse, lastEventId?: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const after = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : 0;
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ instance: this.instance, ringSize: this.ring.capacity })}\n\n${this.replay(after)}`);
    const client: Client = { res, pending: [] };
    this.addClient(client);
    const drop = (): void => this.removeClient(client);
    res.on('close', drop);
    res.on('error', drop);
  }

  /**
   * The ring's events after `after`, the newest first chosen, at most maxBuffered bytes: a full ring
   * of large events is megabytes, and every page that (re)connects would otherwise have it built and
   * queued at once, the same bound that drops a page that cannot keep up (and bounds /api/events).
   */
  private replay(after: number): string {
    return this.newestWithinBound(frame, after, 0).texts.join('');
  }


  private flush(): void {
    this.flushScheduled = null;
    for (const c of this.clients) {
      if (c.pending.length === 0) continue;
      const chunk = c.pending.join('');
      c.pending = [];
      if (c.res.writableLength > this.maxBuffered) {
        // Too slow (a background tab on a busy edge): let it reconnect and catch up from the ring.
        this.removeClient(c);
        c.res.destroy();
        continue;
      }
      c.res.write(chunk);
    }
  }

  private ping(): void {
    for (const c of this.clients) c.res.write(': ping\n\n');
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.windowTimer !== null) clearTimeout(this.windowTimer);
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.stopViewed?.();
    this.stopViewed = null;
  }

  private addClient(c: Client): void {
    this.clients.add(c);
    if (this.clients.size === 1 && this.whileViewed && this.stopViewed === null) this.stopViewed = this.whileViewed();
  }

  private removeClient(c: Client): void {
    if (!this.clients.delete(c) || this.clients.size > 0) return;
    this.stopViewed?.();
    this.stopViewed = null;
  }
}
