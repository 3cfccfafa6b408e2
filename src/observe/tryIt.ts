// The one curl command that tries the edge with the dev PKI's client certificate: printed by
// `mtls-edge start` and shown by the flow page while it waits for traffic (through /status).
import { relative } from 'node:path';
import { devPkiPaths } from '../pki/devPki.js';

/** Quotes a word for a POSIX shell when it needs it. */
export const shellQuote = (s: string): string => (/^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `curl --cacert certs/ca/root-ca.crt --cert certs/client-chain.crt --key certs/client.key https://localhost:8443/`, paths relative to `cwd`. */
export function tryItCommand(pkiDir: string, httpsPort: number, cwd = process.cwd()): string {
  const rel = (p: string): string => relative(cwd, p) || p;
  const pki = devPkiPaths(pkiDir);
  return ['curl', '--cacert', rel(pki.rootCa.cert), '--cert', rel(pki.client.chain), '--key', rel(pki.client.key), `https://localhost:${httpsPort}/`].map(shellQuote).join(' ');
}
