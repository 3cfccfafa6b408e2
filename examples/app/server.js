// An example app behind mtls-edge, as an app behind a BTP `.cert` domain: it never sees TLS, only
// the headers the edge set. It reads them with the package's app-side reader (docs/app-reader.md),
// shows who called, and refuses requests without a verified certificate.
// Plain Node: `node server.js` in examples/app (PORT, default 3001; MTLS_EDGE_DIALECT, default cf).
// `mtls-edge/app` resolves to this checkout itself (Node's package self-reference through the
// `exports` of the package.json above this folder), so nothing is installed; the checkout must be
// built (`npm install` does that). In your own app: `npm install mtls-edge`, same import.
import http from 'node:http';
import { readClientCert } from 'mtls-edge/app';

const dialect = process.env.MTLS_EDGE_DIALECT ?? 'cf';

const server = http.createServer((req, res) => {
  const result = readClientCert(req, { dialect });
  const cert = result.status === 'verified' || result.status === 'unverified' ? result.certificate : null;
  const caller = {
    verified: result.verified,
    status: result.status,
    reason: result.status === 'verified' ? null : result.reason,
    // The raw header as the edge sent it (examples/ci/edge-ci.sh checks it).
    verifyResult: req.headers['x-ssl-client-verify'] ?? null,
    subject: cert?.subject ?? null,
    commonName: cert?.commonName ?? null,
    issuer: cert?.issuer ?? null,
    rootCa: cert?.root ?? null,
    notAfter: cert?.leaf.validTo ?? null,
    sans: cert?.sans ?? null,
    fingerprint256: cert?.leaf.fingerprint256 ?? null,
  };
  const status = result.verified ? 200 : 401;
  const body = JSON.stringify(result.verified ? { hello: caller.commonName, caller } : { error: 'a verified client certificate is required', caller }, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body + '\n');
});

const port = Number(process.env.PORT ?? 3001);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => process.stdout.write(`example app on :${port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
