// One event type for everything the edge reports. The log, the access log, the metrics and the
// flow page all consume these; the edge never formats output itself.

export type HeaderPair = readonly [name: string, value: string];

/** What the edge knows about a presented client certificate (computed once per connection). */
export interface CertSummary {
  /** RFC 2253 style subject, for people (e.g. `CN=dev-client,O=mtls-edge`). */
  readonly subject: string;
  readonly issuer: string;
  readonly subjectCN: string | null;
  readonly issuerCN: string | null;
  readonly serialNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
  /**
   * The certificates the client sent with its leaf, each issuing the one before (Node's issuer links
   * of the presented chain), at most MAX_CHAIN_SHOWN; `chainTruncated` when the client sent more.
   */
  readonly chain: readonly ChainCertificate[];
  readonly chainTruncated: boolean;
  /**
   * Why the chain after the leaf was not read (the client sent more than CHAIN_READ_MAX_BYTES in its
   * handshake, peerCertificate.ts); absent when it was. `chain` is then empty and `chainTruncated` true.
   */
  readonly chainNotRead?: string;
}

/** One certificate of a presented chain, for people. */
export interface ChainCertificate {
  readonly subject: string;
  readonly subjectCN: string | null;
  readonly issuer: string;
  readonly validTo: string;
}

export interface VerifyResult {
  readonly code: number;
  readonly name: string;
  readonly hint: string;
}

export interface HandshakeRejectedEvent {
  readonly kind: 'handshake-rejected';
  readonly time: number;
  readonly listener: string;
  readonly clientAddress: string;
  /** Client's source port: tells this connection from others of the same address (the lesson runner's). */
  readonly clientPort?: number;
  readonly sni: string | null;
  /** Name of the TLS configuration chosen by SNI. */
  readonly tlsConfig: string;
  /** Null when no certificate was presented. */
  readonly cert: CertSummary | null;
  /** Null for `no certificate` and for TLS-level errors that are not certificate verification. */
  readonly verify: VerifyResult | null;
  /** e.g. `certificate_expired`, `unknown_ca`, `certificate_required`, `unrecognized_name`. */
  readonly alert: string | null;
  readonly reason: string;
  readonly hint: string;
  /** True when explain mode answered the client with an explanation page instead of closing. */
  readonly explained: boolean;
}

export interface RequestEvent {
  readonly kind: 'request';
  readonly id: string;
  readonly time: number;
  readonly listener: 'https' | 'http';
  readonly clientAddress: string;
  readonly sni: string | null;
  readonly tlsConfig: string | null;
  readonly host: string;
  readonly method: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly cert: CertSummary | null;
  readonly verify: VerifyResult | null;
  readonly mappedUser: string | null;
  readonly forwardedClientCert: string;
  /** The H10 headers as the client sent them, those removed, and those the edge set. */
  readonly h10: {
    readonly sent: readonly HeaderPair[];
    readonly removed: readonly HeaderPair[];
    readonly set: readonly HeaderPair[];
  };
  readonly route: string | null;
  readonly upstream: string | null;
  readonly status: number;
  readonly durationMs: number;
  readonly websocket: boolean;
  /** Set when the edge answered itself (error page) instead of the upstream. */
  readonly error: string | null;
  /**
   * Header names with underscores the client sent (e.g. `X_SSL_Client_Verify`): WSGI, Rack and PHP
   * read them as the dashed name. Absent when there were none or the setting is `allow`.
   */
  readonly underscoreHeaders?: readonly string[];
  /** Client's source port, for the HAProxy-style access log (`client:port`). */
  readonly clientPort?: number;
  /** Response bytes sent to the client (body and headers as far as known). */
  readonly bytesSent?: number;
  /** Milliseconds to connect to the upstream (HAProxy's Tc); absent when no upstream was contacted. */
  readonly upstreamConnectMs?: number;
  /** Milliseconds from request sent to the upstream until its response headers (HAProxy's Tr). */
  readonly upstreamResponseMs?: number;
  /**
   * The header list the upstream received, flat as Node's rawHeaders ([name, value, …]): see
   * forwardedAsSent; otherwise the very array the edge handed to its HTTP client, not a copy. Null when the edge answered itself (no upstream was sent
   * anything). Only the flow page reads it.
   */
  readonly forwarded?: readonly string[] | null;
  /**
   * True when `forwarded` is the head the upstream received, as the HTTP client (undici) wrote it
   * (recorded while the flow page exists: edge/upstreamHead.ts); absent when it is the list the
   * edge handed to the HTTP client (no response came, or nothing was recorded).
   */
  readonly forwardedAsSent?: boolean;
}

export interface LifecycleEvent {
  readonly kind: 'lifecycle';
  readonly time: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * A fault (an exception) while the edge handled one client's connection: that connection was ended,
 * the process and every other connection go on. `stage` says where the client's input was being handled.
 */
export interface ConnectionErrorEvent {
  readonly kind: 'connection-error';
  readonly time: number;
  readonly listener: 'https' | 'http' | 'edge';
  readonly stage: FaultStage;
  readonly clientAddress: string;
  readonly message: string;
  readonly stack: string;
}

/** Where a client's bytes or certificate enter the edge: each is a fault boundary. */
const FAULT_STAGES = ['accept', 'client-hello', 'handshake', 'request', 'upgrade', 'connect', 'response', 'client-error', 'event', 'uncaught'] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];


/** A connection closed at accept because a max_connections cap was reached (no TLS, no HTTP). */
export interface ConnectionRefusedEvent {
  readonly kind: 'connection-refused';
  readonly time: number;
  readonly listener: 'https' | 'http';
  readonly clientAddress: string;
  /**
   * Which cap: the listener's own or max_connections over both listeners (the connection is closed at
   * accept), or the pipelined requests the edge keeps waiting (closed when it pipelined one more).
   */
  readonly cap: 'listener' | 'total' | 'pipelined';
  readonly limit: number;
}

export type EdgeEvent = HandshakeRejectedEvent | RequestEvent | LifecycleEvent | ConnectionRefusedEvent | ConnectionErrorEvent;

export interface EventSink {
  emit(event: EdgeEvent): void;
}

/**
 * Fans one event out to many sinks; a failing sink never breaks the request path. A sink's fault is
 * reported to `onSinkFault` (once per fault, never re-entrantly: a failing logger cannot loop).
 */
export class EventBus implements EventSink {
  private readonly sinks: EventSink[] = [];
  private reportingFault = false;
  constructor(private readonly onSinkFault: (err: unknown, event: EdgeEvent) => void = () => undefined) {}
  subscribe(sink: EventSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }
  emit(event: EdgeEvent): void {
    for (const sink of this.sinks) {
      try {
        sink.emit(event);
      } catch (err) {
        // An observer must not take the edge down; the event is dropped for that sink only.
        if (this.reportingFault) continue;
        this.reportingFault = true;
        try {
          this.onSinkFault(err, event);
        } catch {
          // The fault reporter failed too: nothing left to tell it to.
        } finally {
          this.reportingFault = false;
        }
      }
    }
  }
}
