// Opens N mutual-TLS connections to 127.0.0.1:<port>, sends one keep-alive request on each (so each
// is an established HTTP connection) and then keeps them idle until SIGTERM or stdin closes.
// Usage: node dist-bench/bench/idleClients.js <port> <count> <client-chain.pem> <client.key> [pad-bytes]
// pad-bytes adds an `X-Pad` header of that size to the request (message size changes what Node
// keeps per connection; see docs/performance.md).
// Prints "open <n> failed <m>" once every connection is up (or has failed).
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [portArg, countArg, certFile, keyFile, padArg] = process.argv.slice(2);
const pad = Math.min(16_000, Math.max(0, Number(padArg ?? 0) || 0));
const request = `GET / HTTP/1.1\r\nHost: localhost\r\n${pad > 0 ? `X-Pad: ${'p'.repeat(pad)}\r\n` : ''}\r\n`;
const port = Number(portArg);
const count = Math.min(20_000, Number(countArg ?? 1000));
const cert = readFileSync(certFile!);
const key = readFileSync(keyFile!);
const sockets: tls.TLSSocket[] = [];
let failed = 0;

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', cert, key, rejectUnauthorized: false, session: undefined });
    const timer = setTimeout(() => done(false), 15_000);
    let settled = false;
    let buf = '';
    function done(ok: boolean): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) sockets.push(s);
      else {
        failed++;
        s.destroy();
      }
      resolve();
    }
    s.once('secureConnect', () => s.write(request));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      // The echo answers with a content-length: done once the whole body is in.
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
      if (buf.length >= head + 4 + len) {
        buf = '';
        done(true);
      }
    });
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

// 50 handshakes in flight at a time.
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < count) {
      next++;
      await openOne();
    }
  }),
);
process.stdout.write(`open ${sockets.length} failed ${failed}\n`);
const stop = (): void => {
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
setTimeout(stop, 600_000).unref();
