// What the client-leaves and backpressure tests watch on their upstreams: how many connections the
// edge holds open to it, and how far a large answer got.
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The number of the server's connections open right now (read through the returned function). */
export function countOpenConnections(server: Server): () => number {
  let open = 0;
  server.on('connection', (s: Socket) => {
    open++;
    s.once('close', () => open--);
  });
  return () => open;
}

/** An answer of `mib` 1 MiB chunks written as fast as the edge takes them (drain by drain). */
/** `onChunk` is told how many MiB have been handed to the socket so far. */
export function writeMiB(res: ServerResponse, mib: number, onChunk: (sent: number) => void = () => undefined): void {
  const chunk = Buffer.alloc(1 << 20, 0x61);
  let sent = 0;
  const more = (): void => {
    while (sent < mib) {
      sent++;
      onChunk(sent);
      if (!res.write(chunk)) {
        res.once('drain', more);
        return;
      }
    }
    res.end();
  };
  res.writeHead(200, { 'content-length': String(mib << 20) });
  more();
}
