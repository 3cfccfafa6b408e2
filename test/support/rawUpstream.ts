// A hostile app on 127.0.0.1: answers each request with the raw bytes named by its path, then closes.
import net from 'node:net';
import { listenOnLoopback, type LoopbackServer } from './loopbackServer.js';

export type RawUpstream = LoopbackServer;

/** `answers`: path → the bytes written for it (latin1); an unknown path gets a 404. */
export async function startRawUpstream(answers: Readonly<Record<string, string>>): Promise<RawUpstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      const path = head.slice(0, head.indexOf('\r\n')).split(' ')[1] ?? '/';
      s.end(Buffer.from(answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1'));
    };
    s.on('data', onData);
  });
  return listenOnLoopback(server, () => {
    for (const s of sockets) s.destroy();
  });
}
