// `certs issue`: one certificate from a CA folder, with the options users ask for.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { devPkiPaths } from './devPki.js';
import { exists, PRIVATE_MODE, writeFileAtomic } from './fsAtomic.js';
import { issueCertificate, type Validity } from './issue.js';
import { generateKeyPem, type KeyType } from './keys.js';
import { assertKeyMatches, MaterialError, readMaterial } from './readMaterial.js';
import type { Subject } from './subject.js';
import { CertBuilderError } from './certBuilder.js';

export interface IssueRequest {
  type: 'client' | 'server';
  cn: string;
  san?: readonly string[];
  o?: string;
  ou?: readonly string[];
  c?: string;
  validity: Validity;
  keyType: KeyType;
  /** A dev PKI folder (its intermediate signs) or a folder with ca.crt + ca.key. */
  caDir: string;
  outDir: string;
}

export interface IssuedFiles {
  cert: string;
  key: string;
  chain: string;
}

/** Finds the signing CA in `dir` and checks it is PEM and that key and certificate belong together. */
async function resolveCa(dir: string): Promise<{ cert: string; key: string }> {
  const pki = devPkiPaths(dir);
  const candidates = [pki.intermediateCa, { cert: join(resolve(dir), 'ca.crt'), key: join(resolve(dir), 'ca.key') }];
  for (const c of candidates) {
    if ((await exists(c.cert)) && (await exists(c.key))) {
      const cert = await readMaterial(c.cert, { accept: ['pem'] });
      const key = await readMaterial(c.key, { accept: ['pem'] });
      if (!cert.certs[0]) throw new MaterialError(c.cert, 'holds no certificate');
      if (!key.key) throw new MaterialError(c.key, 'holds no private key');
      assertKeyMatches(c.key, cert.certs[0], key.key);
      if (!cert.certs[0].ca) throw new MaterialError(c.cert, 'is not a CA certificate (basicConstraints CA:FALSE)');
      return c;
    }
  }
  throw new MaterialError(resolve(dir), 'no CA found: expected ca/intermediate-ca.crt + .key (run `mtls-edge certs init`) or ca.crt + ca.key');
}

/** File-name-safe form of a CN. */
const fileNameFor = (cn: string): string => cn.replace(/^\*\./, 'wildcard.').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'cert';

export async function issueFromCa(req: IssueRequest): Promise<IssuedFiles> {
  const ca = await resolveCa(req.caDir);
  const subject: Subject = [
    ...(req.c ? [[['C', req.c] as const]] : []),
    ...(req.o ? [[['O', req.o] as const]] : []),
    ...(req.ou ?? []).map((ou) => [['OU', ou] as const]),
    [['CN', req.cn] as const],
  ];
  const san = req.san && req.san.length > 0 ? req.san : req.type === 'server' ? [req.cn] : [];
  const name = fileNameFor(req.cn);
  const out = { cert: join(resolve(req.outDir), `${name}.crt`), key: join(resolve(req.outDir), `${name}.key`), chain: join(resolve(req.outDir), `${name}-chain.crt`) };
  // The key is written only after the certificate was made, so a failed issue leaves nothing behind.
  const keyPem = await generateKeyPem(req.keyType);
  let certPem: string;
  try {
    certPem = await issueCertificate({ subject, keyPem, issuer: ca, profile: req.type, san, validity: req.validity });
  } catch (err) {
    if (err instanceof CertBuilderError) throw new MaterialError(ca.key, `${err.message}: the CA key must be EC P-256/P-384, RSA or Ed25519`);
    throw err;
  }
  const caPem = await readFile(ca.cert, 'utf8');
  await writeFileAtomic(out.key, keyPem, PRIVATE_MODE);
  await writeFileAtomic(out.cert, certPem);
  await writeFileAtomic(out.chain, certPem + caPem);
  return out;
}
