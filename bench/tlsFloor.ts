// What Node's TLS alone costs: node:tls with the edge's TLS settings (requestCert against the same
// trust list, tickets off, the edge's Node flags), no HTTP server and no upstream: it reads a request
// head and answers with a fixed response. Not a proxy; a reference for how much of a handshake's
// cost belongs to OpenSSL and Node's TLS socket, and how much to the HTTP and upstream layers above.
// Usage: node dist-bench/bench/tlsFloor.js PORT SERVER_CHAIN SERVER_KEY TRUST
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { constants } from 'node:crypto';

const [port, chain, key, trust] = process.argv.slice(2);
const body = '{"floor":"tls"}\n';
const head = (keepAlive: boolean): string =>
  `HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${keepAlive ? 'Connection: keep-alive\r\n' : ''}\r\n`;
const MAX_HEAD = 16 * 1024;

const server = tls.createServer(
  { cert: readFileSync(chain!), key: readFileSync(key!), ca: readFileSync(trust!), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET },
  (socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const keepAlive = /\r\nconnection:\s*keep-alive/i.test(request);
        if (keepAlive) socket.write(head(true) + body);
        else return void socket.end(head(false) + body);
      }
      if (pending.length > MAX_HEAD) socket.destroy();
    });
  },
);
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
