// Fault boundaries. Every place where a client's bytes or certificate enter the edge (accept, the
// ClientHello peek, the handshake, a request, an upgrade, the response, a parser error) runs inside
// one: an exception there ends THAT connection with one logged `connection-error` event (stack
// included) and never reaches the process, so every other client's connections go on.
import type { ConnectionErrorEvent, EventSink, FaultStage } from '../observe/events.js';

/** A socket, a stream or a response: whatever carries the connection and can be destroyed. */
export interface Destroyable {
  destroy(): unknown;
}

export interface FaultContext {
  readonly listener: ConnectionErrorEvent['listener'];
  readonly stage: FaultStage;
  readonly clientAddress: string;
}

function describe(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack ?? `${err.name}: ${err.message}` };
  const text = (() => {
    try {
      return String(err);
    } catch {
      return 'a value that cannot be shown';
    }
  })();
  return { message: `non-Error thrown: ${text}`, stack: '' };
}

export function connectionErrorEvent(where: FaultContext, err: unknown): ConnectionErrorEvent {
  const { message, stack } = describe(err);
  return { kind: 'connection-error', time: Date.now(), listener: where.listener, stage: where.stage, clientAddress: where.clientAddress, message, stack };
}

/**
 * Ends a connection after a fault and reports it. Destroying is the one thing that cannot make
 * matters worse: a half-written response or a TLS state of unknown shape must not be used again.
 */
export function endConnectionAfterFault(events: EventSink, where: FaultContext, err: unknown, ...sockets: (Destroyable | null | undefined)[]): void {
  for (const s of sockets) {
    try {
      s?.destroy();
    } catch {
      // Destroying a socket does not throw in Node; should it, the next socket still goes.
    }
  }
  try {
    events.emit(connectionErrorEvent(where, err));
  } catch {
    // The bus catches its sinks' faults; this only guards building the event.
  }
}

/**
 * Wraps a handler so that a throw inside it ends the connection it was handling. `locate` names the
 * connection from the handler's own arguments (it must not throw: it reads fields only). Handlers
 * take two or three arguments (request, upgrade and clientError events); fixed parameters instead
 * of `...args` spare an array and a spread call per request.
 */
type Located = { readonly where: FaultContext; readonly sockets: readonly (Destroyable | null | undefined)[] };
export function guarded<A, B>(events: EventSink, locate: (a: A, b: B) => Located, handler: (a: A, b: B) => void): (a: A, b: B) => void;
export function guarded<A, B, C>(events: EventSink, locate: (a: A, b: B, c: C) => Located, handler: (a: A, b: B, c: C) => void): (a: A, b: B, c: C) => void;
export function guarded(events: EventSink, locate: (a: unknown, b: unknown, c: unknown) => Located, handler: (a: unknown, b: unknown, c: unknown) => void): (a: unknown, b: unknown, c: unknown) => void {
  return (a, b, c) => {
    try {
      handler(a, b, c);
    } catch (err) {
      const { where, sockets } = locate(a, b, c);
      endConnectionAfterFault(events, where, err, ...sockets);
    }
  };
}
