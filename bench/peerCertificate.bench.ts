// What reading the client certificate costs on a new connection, the two ways Node offers:
// getPeerX509Certificate() (links the issuer chain; the first call on a socket is the costly one)
// versus the leaf from getSession()'s DER (which the edge reads anyway for the session ID).
// Usage: node dist-bench/bench/peerCertificate.bench.js [connections]   (default 300, loopback only)
import tls from 'node:tls';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ensureDevPki } from '../src/pki/devPki.js';
import { sessionFacts } from '../src/headers/sessionId.js';

const connections = Math.max(10, Math.min(5000, Number(process.argv[2] ?? 300)));
const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-peer-bench-'));

async function measure(way: 'x509' | 'session'): Promise<number> {
  const { pki } = await ensureDevPki(dir);
  let total = 0n;
  let n = 0;
  const server = tls.createServer(
    { cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key), ca: readFileSync(pki.rootCa.cert), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET },
    (socket) => {
      const t = process.hrtime.bigint();
      const der = way === 'x509' ? socket.getPeerX509Certificate()?.raw : sessionFacts(socket.getSession()).peerCertificateDer;
      total += process.hrtime.bigint() - t;
      if (der) n++;
      socket.end();
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const opts = { host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost', ca: readFileSync(pki.rootCa.cert), cert: readFileSync(pki.client.chain), key: readFileSync(pki.client.key) };
  for (let i = 0; i < connections; i++) {
    await new Promise<void>((resolve) => {
      const c = tls.connect(opts);
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      c.resume();
    });
  }
  server.close();
  return Number(total) / Math.max(1, n) / 1000;
}

try {
  for (const way of ['x509', 'session', 'x509', 'session'] as const) {
    const us = await measure(way);
    console.log(`${way === 'x509' ? 'getPeerX509Certificate()      ' : 'leaf from getSession() DER    '} ${us.toFixed(1)} µs per new connection (${connections} connections)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
