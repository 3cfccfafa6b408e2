// An example app behind mtls-edge, as an app behind a BTP `.cert` domain: it never sees TLS, only
// the headers the edge set. It shows who called, and refuses requests without a verified certificate.
// Plain Node, no dependencies: `node examples/app/server.js` (PORT, default 3001).
import http from 'node:http';

const decode = (v) => (v ? Buffer.from(v, 'base64').toString('utf8') : null);

const server = http.createServer((req, res) => {
  const h = req.headers;
  const verified = h['x-ssl-client'] === '1' && h['x-ssl-client-verify'] === '0';
  const caller = {
    verified,
    verifyResult: h['x-ssl-client-verify'] ?? null,
    subject: decode(h['x-ssl-client-subject-dn']),
    commonName: decode(h['x-ssl-client-subject-cn']),
    issuer: decode(h['x-ssl-client-issuer-dn']),
    rootCa: decode(h['x-ssl-client-root-ca-dn']),
    notAfter: h['x-ssl-client-notafter'] ?? null,
    hasCertificate: Boolean(h['x-forwarded-client-cert']),
  };
  const status = verified ? 200 : 401;
  const body = JSON.stringify(verified ? { hello: caller.commonName, caller } : { error: 'a verified client certificate is required', caller }, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body + '\n');
});

const port = Number(process.env.PORT ?? 3001);
server.listen(port, process.env.HOST ?? '0.0.0.0', () => process.stdout.write(`example app on :${port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
