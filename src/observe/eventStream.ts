// Server-Sent Events for the flow page. Every event lands in a bounded ring (by reference, no
// copy); it is serialised only when at least one page is connected, once for all pages, and the
// writes to each page are batched per event-loop turn. A page that cannot keep up is disconnected
// rather than buffered without limit; its EventSource reconnects with Last-Event-ID and catches up
// from the ring.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { EdgeEvent, EventSink } from './events.js';
import { RingBuffer } from './ringBuffer.js';
import { redactFields, scrubText } from './redact.js';

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
}

/** The JSON a page receives for one event: secrets scrubbed, lifecycle fields redacted by name. */
export function eventToJson(item: StreamedEvent): string {
  const e = item.event;
  const safe: EdgeEvent = e.kind === 'lifecycle' && e.fields ? { ...e, fields: redactFields(e.fields) } : e;
  return scrubText(`{"seq":${item.seq},"event":${JSON.stringify(safe)}}`);
}

const frame = (item: StreamedEvent): string => `id: ${item.seq}\nevent: edge\ndata: ${eventToJson(item)}\n\n`;

export class EventStream implements EventSink {
  private readonly ring: RingBuffer<StreamedEvent>;
  private readonly clients = new Set<Client>();
  private readonly maxBuffered: number;
  private readonly heartbeat: NodeJS.Timeout;
  private flushScheduled: NodeJS.Immediate | null = null;
  private seq = 0;
  /** Lets a page notice that the edge restarted (sequence numbers start over). */
  readonly instance = randomUUID();

  constructor(opts: EventStreamOptions = {}) {
    this.ring = new RingBuffer<StreamedEvent>(opts.ringSize ?? 500);
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.heartbeat = setInterval(() => this.ping(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get ringSize(): number {
    return this.ring.capacity;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  emit(event: EdgeEvent): void {
    const item = { seq: ++this.seq, event };
    this.ring.push(item);
    if (this.clients.size === 0) return; // the common case under load: no page, no serialisation
    const chunk = frame(item);
    for (const c of this.clients) c.pending.push(chunk);
    if (this.flushScheduled === null) this.flushScheduled = setImmediate(() => this.flush());
  }

  recent(): StreamedEvent[] {
    return this.ring.toArray();
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
    let out = `retry: 2000\nevent: hello\ndata: ${JSON.stringify({ instance: this.instance, ringSize: this.ring.capacity })}\n\n`;
    for (const item of this.ring.toArray()) if (item.seq > after) out += frame(item);
    res.write(out);
    const client: Client = { res, pending: [] };
    this.clients.add(client);
    const drop = (): void => {
      this.clients.delete(client);
    };
    res.on('close', drop);
    res.on('error', drop);
  }

  private flush(): void {
    this.flushScheduled = null;
    for (const c of this.clients) {
      if (c.pending.length === 0) continue;
      const chunk = c.pending.join('');
      c.pending = [];
      if (c.res.writableLength > this.maxBuffered) {
        // Too slow (a background tab on a busy edge): let it reconnect and catch up from the ring.
        this.clients.delete(c);
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
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
