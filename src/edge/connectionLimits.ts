// Connection caps as HAProxy's `maxconn`: `max_connections` over both listeners (the global
// maxconn) and one cap per listener (the frontend maxconn). HAProxy stops accepting at its cap, so
// further clients wait in the kernel's accept backlog until a slot frees. Node has no public way to
// pause accepting: a connection over a cap is accepted and closed at once (the client sees the
// connection close before any byte), which bounds descriptors and memory the same way.
import type net from 'node:net';
import type { Config } from '../config/schema.js';
import type { EventSink } from '../observe/events.js';
import { connectionsThatFit } from './descriptorLimit.js';

export type ListenerName = 'https' | 'http';

export interface ConnectionCaps {
  /** Over both listeners together. */
  readonly total: number;
  readonly https: number;
  readonly http: number;
}

/**
 * @param openFiles the process's open-files limit (descriptorLimit.ts); the total cap never exceeds
 * what it holds at `perConnection` descriptors each.
 */
export function connectionCaps(config: Pick<Config, 'max_connections' | 'listener_max_connections'>, openFiles: number | null = null, perConnection = 2): ConnectionCaps {
  const total = Math.min(config.max_connections, connectionsThatFit(openFiles, perConnection));
  const own = config.listener_max_connections;
  return { total, https: Math.min(own.https ?? total, total), http: Math.min(own.http ?? total, total) };
}

export class ConnectionLimits {
  private open = 0;
  /** True when the listener caps alone could exceed the total, so connections must be counted here. */
  private readonly countsTotal: boolean;
  // One function shared by every socket (a per-socket closure would cost memory per idle connection).
  private readonly release = (): void => {
    this.open--;
  };

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly events: EventSink,
    listeners: readonly ListenerName[],
  ) {
    this.countsTotal = listeners.reduce((sum, l) => sum + caps[l], 0) > caps.total;
  }

  /** Applies the caps to a server before it listens (or before it is handed sockets). */
  guard(server: net.Server, listener: ListenerName): void {
    const own = this.caps[listener];
    // Node closes connections beyond maxConnections right after accept and emits 'drop'.
    server.maxConnections = own;
    // A listener cap as large as the total one is the total cap (a single listener, or no own cap).
    const cap = own < this.caps.total ? 'listener' : 'total';
    server.on('drop', (d) => this.refused(listener, d?.remoteAddress, cap, own));
    if (!this.countsTotal) return;
    // Runs before the server's own connection handler, which then sees a destroyed socket.
    server.prependListener('connection', (socket: net.Socket) => {
      if (this.open >= this.caps.total) {
        const address = socket.remoteAddress;
        socket.destroy();
        this.refused(listener, address, 'total', this.caps.total);
        return;
      }
      this.open++;
      socket.on('close', this.release);
    });
  }

  private refused(listener: ListenerName, clientAddress: string | undefined, cap: 'listener' | 'total', limit: number): void {
    this.events.emit({ kind: 'connection-refused', time: Date.now(), listener, clientAddress: clientAddress ?? 'unknown', cap, limit });
  }
}
