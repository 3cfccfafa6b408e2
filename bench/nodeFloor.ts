// The least a Node.js mTLS proxy can do, as a baseline for what is Node's limit and what is ours:
// node:https with requestCert (tickets off, same keys), each request forwarded with undici's
// Pool.stream to the same echo upstream, hop-by-hop `connection` dropped, plus ten client-certificate
// headers of the edge's sizes as constants made once from CLIENT_CERT (so requests and responses
// are as large as the edge's: Node keeps per-connection TLS buffers sized by the largest message).
// Runs with Node's default flags, as the edge does.
// With ECHO_PORT `none` it answers every request itself with a fixed response: node:https without
// the upstream hop (the `https-floor` target), to tell the HTTP server's share from the client's.
// Usage: node dist-bench/bench/nodeFloor.js PORT SERVER_CHAIN SERVER_KEY TRUST ECHO_PORT|none CLIENT_CERT
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { X509Certificate, constants } from 'node:crypto';
import { Pool } from 'undici';

const [port, chain, key, trust, echoPort, clientCert] = process.argv.slice(2);
const leaf = new X509Certificate(readFileSync(clientCert!));
const ten: string[] = [
  'X-Forwarded-Client-Cert', leaf.raw.toString('base64'),
  'X-SSL-Client', '1',
  'X-SSL-Client-Session-ID', 'AB'.repeat(32),
  'X-SSL-Client-Verify', '0',
  'X-SSL-Client-Subject-DN', `/${leaf.subject.split('\n').join('/')}`,
  'X-SSL-Client-Subject-CN', /CN=([^\n]*)/.exec(leaf.subject)?.[1] ?? '',
  'X-SSL-Client-Issuer-DN', `/${leaf.issuer.split('\n').join('/')}`,
  'X-SSL-Client-Root-CA-DN', `/${leaf.issuer.split('\n').join('/')}`,
  'X-SSL-Client-NotBefore', '251123000000Z',
  'X-SSL-Client-NotAfter', '261123000000Z',
];
const pool = echoPort === 'none' ? null : new Pool(`http://127.0.0.1:${echoPort}`, { pipelining: 1 });
const fixedBody = '{"floor":"https"}\n';
const server = https.createServer(
  { cert: readFileSync(chain!), key: readFileSync(key!), ca: readFileSync(trust!), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET, keepAliveTimeout: 120_000 },
  (req, res) => {
    if (!pool) {
      res.writeHead(200, ['Content-Type', 'application/json', 'Content-Length', String(fixedBody.length)]);
      return void res.end(fixedBody);
    }
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() !== 'connection') headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    headers.push(...ten);
    pool.stream({ path: req.url ?? '/', method: 'GET', headers, responseHeaders: 'raw' }, ({ statusCode, headers: raw }) => {
      // Response headers as received, less the connection-level ones (Content-Length keeps
      // HTTP/1.0 keep-alive working, as in the edge).
      const out: string[] = [];
      const list = raw as unknown as Buffer[];
      for (let i = 0; i + 1 < list.length; i += 2) {
        const name = list[i]!.toString('latin1');
        if (!/^(connection|keep-alive|transfer-encoding)$/i.test(name)) out.push(name, list[i + 1]!.toString('latin1'));
      }
      res.writeHead(statusCode, out);
      return res;
    }, (err) => {
      if (err) res.destroy();
    });
  },
);
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
