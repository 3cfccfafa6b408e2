// Expiry warnings: the edge's own certificates and trust lists at start (and reload), and client
// certificates as they are seen. An expired client certificate is the most common reason a working
// integration stops one morning (seed 003: "expired client certificates are highlighted in red").
import { X509Certificate } from 'node:crypto';
import type { EdgeEvent, EventSink, LifecycleEvent } from './events.js';

export interface ExpiryInput {
  /** Where the certificate comes from, for people: `trust list of acme`, `server.pem`. */
  readonly label: string;
  /** PEM text (one or many certificates) or a parsed certificate. */
  readonly cert: string | X509Certificate;
}

export interface ExpiryFinding {
  readonly label: string;
  readonly subject: string;
  /** ISO 8601. */
  readonly notAfter: string;
  /** Whole days left; negative once expired. */
  readonly daysLeft: number;
  readonly expired: boolean;
  readonly fingerprint256: string;
}

export interface ExpiryOptions {
  /** Warn this many days ahead; default 30. */
  days?: number;
  now?: number;
}

const DAY = 86_400_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Node prints subjects one attribute per line; people read `CN=…, O=…`. */
/** Node reports an empty name as undefined, whatever its type says. */
function oneLine(name: string | undefined): string {
  return (name ?? '').split('\n').filter(Boolean).reverse().join(', ');
}

function parse(input: ExpiryInput): X509Certificate[] {
  if (input.cert instanceof X509Certificate) return [input.cert];
  return (input.cert.match(PEM_CERT) ?? []).map((pem) => new X509Certificate(pem));
}

/** Certificates that expire within `days` (or already did). Unparseable PEM throws, naming the label. */
export function checkExpiry(inputs: readonly ExpiryInput[], opts: ExpiryOptions = {}): ExpiryFinding[] {
  const now = opts.now ?? Date.now();
  const horizon = (opts.days ?? 30) * DAY;
  const out: ExpiryFinding[] = [];
  for (const input of inputs) {
    let certs: X509Certificate[];
    try {
      certs = parse(input);
    } catch (err) {
      throw new Error(`${input.label}: not a readable certificate (${(err as Error).message})`);
    }
    for (const c of certs) {
      const end = Date.parse(c.validTo);
      if (end - now > horizon) continue;
      out.push({
        label: input.label,
        subject: oneLine(c.subject),
        notAfter: new Date(end).toISOString(),
        daysLeft: Math.floor((end - now) / DAY),
        expired: end <= now,
        fingerprint256: c.fingerprint256,
      });
    }
  }
  return out;
}

function expiryMessage(f: Pick<ExpiryFinding, 'subject' | 'label' | 'daysLeft' | 'expired'>): string {
  if (f.expired) return `Certificate expired ${-f.daysLeft === 0 ? 'today' : `${-f.daysLeft} day(s) ago`}: ${f.subject} (${f.label})`;
  return `Certificate expires in ${f.daysLeft} day(s): ${f.subject} (${f.label})`;
}

function expiryEvent(f: ExpiryFinding, now = Date.now()): LifecycleEvent {
  return {
    kind: 'lifecycle',
    time: now,
    level: 'warn',
    message: expiryMessage(f),
    fields: { event: 'certificate-expiry', label: f.label, subject: f.subject, notAfter: f.notAfter, daysLeft: f.daysLeft, expired: f.expired, fingerprint256: f.fingerprint256 },
  };
}

/** Checks and reports: one warn lifecycle event per finding. Returns the findings. */
export function warnExpiringCertificates(sink: EventSink, inputs: readonly ExpiryInput[], opts: ExpiryOptions = {}): ExpiryFinding[] {
  const findings = checkExpiry(inputs, opts);
  const now = opts.now ?? Date.now();
  for (const f of findings) sink.emit(expiryEvent(f, now));
  return findings;
}

export interface ClientExpiryOptions {
  days?: number;
  now?: () => number;
  /** Fingerprints remembered; beyond this the memory starts over (a repeat warning beats a leak). */
  maxTracked?: number;
}

/**
 * Watches RequestEvents and warns once per client certificate (by fingerprint) that is close to
 * expiry. Only presented-and-accepted certificates reach requests, so an expired one here means an
 * ignore list let it through.
 */
export function createClientCertExpirySink(target: EventSink, opts: ClientExpiryOptions = {}): EventSink {
  const horizon = (opts.days ?? 30) * DAY;
  const now = opts.now ?? Date.now;
  const maxTracked = opts.maxTracked ?? 10_000;
  const seen = new Set<string>();
  return {
    emit(event: EdgeEvent): void {
      if (event.kind !== 'request' || !event.cert) return;
      const fp = event.cert.fingerprint256;
      if (seen.has(fp)) return; // the hot path: a known certificate costs one Set lookup
      if (seen.size >= maxTracked) seen.clear();
      seen.add(fp);
      const end = Date.parse(event.cert.validTo);
      if (Number.isNaN(end)) return;
      const t = now();
      if (end - t > horizon) return;
      const finding: ExpiryFinding = {
        label: `client certificate from ${event.clientAddress}${event.mappedUser ? ` (user ${event.mappedUser})` : ''}`,
        subject: event.cert.subject,
        notAfter: new Date(end).toISOString(),
        daysLeft: Math.floor((end - t) / DAY),
        expired: end <= t,
        fingerprint256: fp,
      };
      // Reported after the current event has reached every sink, so the order of events stays sane.
      queueMicrotask(() => target.emit(expiryEvent(finding, t)));
    },
  };
}
