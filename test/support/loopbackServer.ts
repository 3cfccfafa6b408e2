// A test upstream listening on 127.0.0.1, any free port; close() also ends kept-alive connections
// so an `after` hook never waits for a client's keep-alive timeout.
import http from 'node:http';
import type { AddressInfo, Server } from 'node:net';

export interface LoopbackServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `endConnections`: how close() ends open connections (an http.Server's closeAllConnections() by default). */
export async function listenOnLoopback(server: Server, endConnections = (): void => {
  if (server instanceof http.Server) server.closeAllConnections();
}): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        endConnections();
      }),
  };
}
