// The least a Node.js mTLS proxy can do, as a baseline for what is Node's limit and what is ours:
// node:https with requestCert (tickets off, same keys), each request forwarded with undici's
// Pool.stream to the same echo upstream, hop-by-hop `connection` dropped, nothing else.
// Usage: node dist/bench/nodeFloor.js PORT SERVER_CHAIN SERVER_KEY TRUST ECHO_PORT
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { constants } from 'node:crypto';
import { Pool } from 'undici';

const [port, chain, key, trust, echoPort] = process.argv.slice(2);
const pool = new Pool(`http://127.0.0.1:${echoPort}`, { pipelining: 1 });
const server = https.createServer(
  { cert: readFileSync(chain!), key: readFileSync(key!), ca: readFileSync(trust!), requestCert: true, rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TICKET, keepAliveTimeout: 120_000 },
  (req, res) => {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() !== 'connection') headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
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
