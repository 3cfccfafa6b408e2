// Small waits the hostile tests share: a condition polled until a deadline, the request events of
// one path, a plain TCP connection to a listener on loopback, and stopping what a test started.
import type http from 'node:http';
import net from 'node:net';
import type { RequestEvent } from '../../src/observe/events.js';
import type { TestEdge } from './edgeHarness.js';

/** Polls `cond` every 20 ms for at most `ms`; its last value (the caller's assertion names what failed). */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

/** The request events an edge emitted for `path`, in order. */
export const requestEvents = (t: TestEdge, path: string): RequestEvent[] => t.events.filter((e): e is RequestEvent => e.kind === 'request' && e.path === path);

/** A TCP connection to 127.0.0.1:port, once connected. */
export function connectPlain(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Stops what one test started, also when it failed: its client sockets, its edge (bounded), its upstream. */
export async function stopStarted(edge: TestEdge | null, upstream: http.Server | null, clients: net.Socket[]): Promise<void> {
  for (const c of clients) c.destroy();
  clients.length = 0;
  if (edge) await Promise.race([edge.edge.close(500), new Promise((r) => setTimeout(r, 3000))]);
  if (upstream) {
    upstream.closeAllConnections();
    upstream.close();
  }
}
