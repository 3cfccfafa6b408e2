// Turns edge events into process-log lines: one warn line per rejected handshake (with everything a
// user needs to fix the client), lifecycle events at their own level, and requests only where they
// tell something the access log does not (the edge answered itself) or at debug level.
import type { EdgeEvent, EventSink, HandshakeRejectedEvent, RequestEvent } from './events.js';
import type { LogFields, Logger } from './logger.js';
import { NO_CERTIFICATE, verifyCodeInfo } from '../pki/verifyCodes.js';
import { LineBudget, LOG_INTERVAL_MS, refusedReason, rejectionReason, summaryLine } from './logBudget.js';

export interface RejectionLine {
  readonly message: string;
  readonly fields: LogFields;
}

/** The OpenSSL name and the fix for a rejection, also when the edge left `hint` empty. */
function rejectionDiagnosis(e: Pick<HandshakeRejectedEvent, 'verify' | 'cert' | 'hint' | 'alert'>): {
  code: number | null;
  name: string | null;
  hint: string;
} {
  if (e.verify) {
    return { code: e.verify.code, name: e.verify.name, hint: e.hint || e.verify.hint || verifyCodeInfo(e.verify.code).hint };
  }
  if (!e.cert && (e.alert === null || e.alert === NO_CERTIFICATE.alert.name || e.alert === 'handshake_failure')) {
    return { code: null, name: NO_CERTIFICATE.name, hint: e.hint || NO_CERTIFICATE.hint };
  }
  return { code: null, name: null, hint: e.hint };
}

/**
 * The reason without what the line already said: the edge's reason for a verify failure is
 * `10 X509_V_ERR_CERT_HAS_EXPIRED (certificate has expired)`, and the name and code lead the line.
 */
function reasonDetail(reason: string, code: number | null, name: string | null): string {
  if (code === null || name === null) return reason;
  const echoed = `${code} ${name}`;
  if (!reason.startsWith(echoed)) return reason;
  const rest = reason.slice(echoed.length).trim();
  return rest.startsWith('(') && rest.endsWith(')') ? rest.slice(1, -1) : rest;
}

export function describeRejection(e: HandshakeRejectedEvent): RejectionLine {
  const d = rejectionDiagnosis(e);
  const what = d.name ? (d.code !== null ? `${d.name} (${d.code})` : d.name) : e.alert ?? 'TLS error';
  const sni = e.sni ? ` for ${e.sni}` : ' (no SNI)';
  const detail = reasonDetail(e.reason, d.code, d.name);
  return {
    message: `TLS handshake rejected from ${e.clientAddress}${sni}: ${what}${detail ? `: ${detail}` : ''}`,
    fields: {
      event: 'handshake-rejected',
      client: e.clientAddress,
      listener: e.listener,
      sni: e.sni,
      tlsConfig: e.tlsConfig,
      subject: e.cert?.subject ?? null,
      issuer: e.cert?.issuer ?? null,
      serial: e.cert?.serialNumber ?? null,
      code: d.code,
      codeName: d.name,
      alert: e.alert,
      reason: e.reason,
      hint: d.hint,
      explained: e.explained,
    },
  };
}

function requestFields(e: RequestEvent): LogFields {
  return {
    event: 'request',
    id: e.id,
    client: e.clientAddress,
    host: e.host,
    method: e.method,
    path: e.path,
    status: e.status,
    durationMs: Math.round(e.durationMs * 10) / 10,
    route: e.route,
    upstream: e.upstream,
    subject: e.cert?.subject ?? null,
    verify: e.verify?.code ?? null,
    mappedUser: e.mappedUser,
    h10Removed: e.h10.removed.length,
    h10Set: e.h10.set.length,
    error: e.error,
  };
}

/** `X_A (your framework may read this as X-A), …`: WSGI, Rack and PHP merge `_` and `-` names. */
export function underscoreNote(names: readonly string[]): string {
  return names.map((n) => `${n}: your framework may read this as ${n.replace(/_/g, '-')}`).join('; ');
}

export function createLogSink(logger: Logger, budget: LineBudget = new LineBudget()): EventSink {
  // One timer at a time, armed by the first line held back in a window; it writes the summaries.
  let summaryTimer: NodeJS.Timeout | null = null;
  const writeSummaries = (): void => {
    summaryTimer = null;
    for (const held of budget.endWindow(Date.now())) logger.warn(summaryLine(held, LOG_INTERVAL_MS), { event: 'log-summary', reason: held.reason, count: held.count });
  };
  /** False (and a summary due) when this reason used up its lines for the interval. */
  const mayLog = (reason: string): boolean => {
    const now = Date.now();
    if (budget.take(reason, now)) return true;
    if (summaryTimer === null) {
      summaryTimer = setTimeout(writeSummaries, Math.max(0, budget.windowEndsAt() - now));
      summaryTimer.unref();
    }
    return false;
  };
  return {
    emit(event: EdgeEvent): void {
      switch (event.kind) {
        case 'handshake-rejected': {
          if (!mayLog(rejectionReason(event))) return;
          const line = describeRejection(event);
          logger.warn(line.message, line.fields);
          return;
        }
        case 'connection-refused': {
          const reason = refusedReason(event);
          if (!mayLog(reason)) return;
          logger.warn(`connection from ${event.clientAddress} to the ${event.listener} listener closed${event.cap === 'pipelined' ? '' : ' at accept'}: ${reason}`, {
            event: 'connection-refused', client: event.clientAddress, listener: event.listener, cap: event.cap, limit: event.limit,
          });
          return;
        }
        case 'lifecycle':
          logger[event.level](event.message, event.fields);
          return;
        case 'connection-error':
          // A client that can trigger one fault can trigger it in a loop: the same budget as refusals.
          if (!mayLog(`fault in ${event.stage}: ${event.message}`)) return;
          logger.error(`connection from ${event.clientAddress} ended by a fault in the edge (${event.stage}): ${event.message}`, {
            event: 'connection-error',
            listener: event.listener,
            stage: event.stage,
            client: event.clientAddress,
            error: event.message,
            stack: event.stack,
          });
          return;
        case 'request':
          if (event.error !== null) {
            logger.warn(`${event.status} answered by the edge for ${event.method} ${event.host}${event.path}: ${event.error}`, requestFields(event));
          } else if (event.underscoreHeaders) {
            logger.warn(`${event.method} ${event.host}${event.path}: header names with underscores (${underscoreNote(event.underscoreHeaders)})`, requestFields(event));
          } else if (logger.isLevelEnabled('debug')) {
            // Built only when it will be printed: this branch runs for every request.
            logger.debug(`${event.method} ${event.host}${event.path} ${event.status}`, requestFields(event));
          }
          return;
      }
    },
  };
}
