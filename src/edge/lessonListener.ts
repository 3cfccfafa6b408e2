// A one-connection HTTPS listener for the trainer's "each mode side by side" lesson: the lesson
// runner sends the same request through the edge under each forwarded_client_cert mode, without
// changing the mode of the edge's own listener. No client can use it: it listens on loopback only
// while one lesson request runs, and it serves only the connection whose client port the lesson
// runner names (it made that connection itself, in this process); every other connection is closed
// at accept, and after the named one it accepts nothing.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface LessonListener {
  readonly port: number;
  /** Names the lesson runner's connection (its local port); only that one is served. */
  admit(clientPort: number): void;
  close(): void;
}

// Connections that arrive before admit(): only the runner's own should, so a few are plenty.
const MAX_WAITING = 4;

const isLoopback = (address: string | undefined): boolean => address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

/**
 * Listens on 127.0.0.1 with `server` (whose own 'connection' handling must not be attached) and
 * passes the admitted connection to `serve`.
 */
export function listenForLesson(server: net.Server, serve: (raw: net.Socket) => void): Promise<LessonListener> {
  let admitted: number | null = null;
  let served = false;
  const waiting: net.Socket[] = [];
  const decide = (raw: net.Socket): void => {
    if (!served && raw.remotePort === admitted && isLoopback(raw.remoteAddress)) {
      served = true;
      // Nothing more is accepted; the served connection lives on until it closes.
      server.close();
      serve(raw);
    } else raw.destroy();
  };
  server.on('connection', (raw: net.Socket) => {
    raw.on('error', () => raw.destroy());
    if (admitted !== null) decide(raw);
    // The runner sends nothing before it has named its connection, so a waiting one has no bytes.
    else if (waiting.length < MAX_WAITING) waiting.push(raw);
    else raw.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        admit(clientPort) {
          if (admitted !== null) return;
          admitted = clientPort;
          for (const raw of waiting.splice(0)) decide(raw);
        },
        close() {
          server.close();
          for (const raw of waiting.splice(0)) raw.destroy();
        },
      });
    });
  });
}
