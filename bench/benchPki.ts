// The benchmark PKI: the dev PKI's shape (root -> intermediate -> server and client leaves) for one
// key type, so every proxy and the load generator use the same certificates. Also writes the
// combined PEM files HAProxy (`crt`: chain + key) and ab (`-E`: chain + key) want.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate } from '../src/pki/issue.js';
import { generateKeyPem, type KeyType } from '../src/pki/keys.js';
import { SERVER_SANS } from '../src/pki/serverSans.js';

export interface BenchPki {
  readonly keyType: KeyType;
  readonly rootCert: string;
  readonly serverChain: string;
  readonly serverKey: string;
  /** server cert + intermediate + key (HAProxy `crt`). */
  readonly serverPem: string;
  readonly clientChain: string;
  readonly clientKey: string;
  /** client cert + intermediate + key (ab -E). */
  readonly clientPem: string;
}

export async function makeBenchPki(dir: string, keyType: KeyType): Promise<BenchPki> {
  await mkdir(dir, { recursive: true });
  const f = (n: string): string => join(dir, n);
  const key = async (n: string): Promise<string> => {
    await writeFile(f(n), await generateKeyPem(keyType), { mode: 0o600 });
    return f(n);
  };
  const [rootKey, interKey, serverKey, clientKey] = await Promise.all([key('root.key'), key('inter.key'), key('server.key'), key('client.key')]);
  const subj = (cn: string) => [[['C', 'DE']], [['O', 'mtls-edge bench']], [['CN', cn]]] as const;
  await writeFile(f('root.crt'), await issueCertificate({ subject: subj(`bench root ${keyType}`), keyPath: rootKey, profile: 'root-ca', validity: { days: 30 } }));
  const root = { cert: f('root.crt'), key: rootKey };
  await writeFile(f('inter.crt'), await issueCertificate({ subject: subj(`bench intermediate ${keyType}`), keyPath: interKey, issuer: root, profile: 'intermediate-ca', validity: { days: 30 } }));
  const inter = { cert: f('inter.crt'), key: interKey };
  const interPem = await readFile(inter.cert, 'utf8');
  const [serverPem, clientPem] = await Promise.all([
    issueCertificate({ subject: subj('localhost'), keyPath: serverKey, issuer: inter, profile: 'server', san: SERVER_SANS, validity: { days: 30 } }),
    issueCertificate({ subject: subj('bench-client'), keyPath: clientKey, issuer: inter, profile: 'client', validity: { days: 30 } }),
  ]);
  const nl = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
  await writeFile(f('server-chain.crt'), nl(serverPem) + interPem);
  await writeFile(f('client-chain.crt'), nl(clientPem) + interPem);
  await writeFile(f('server.pem'), nl(serverPem) + nl(interPem) + (await readFile(serverKey, 'utf8')), { mode: 0o600 });
  await writeFile(f('client.pem'), nl(clientPem) + nl(interPem) + (await readFile(clientKey, 'utf8')), { mode: 0o600 });
  return {
    keyType,
    rootCert: f('root.crt'),
    serverChain: f('server-chain.crt'),
    serverKey,
    serverPem: f('server.pem'),
    clientChain: f('client-chain.crt'),
    clientKey,
    clientPem: f('client.pem'),
  };
}
