// The verdict the edge would reach for a client chain: runs `openssl verify` the way HAProxy checks
// a client (purpose sslclient, CRL_CHECK_ALL when CRLs are configured) and maps the result to the
// code the edge reports, with the plain-words fix from verifyCodes.ts.
import type { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MaterialError } from './readMaterial.js';
import { openssl, withTempDir } from './openssl.js';
import { verifyCodeInfo, type VerifyCodeInfo } from './verifyCodes.js';

export interface VerifyError {
  code: number;
  depth: number;
  text: string;
}

export interface Verdict {
  /** What the edge reports (X-SSL-Client-Verify when ignored); 0 = accepted. */
  code: number;
  info: VerifyCodeInfo;
  /** Everything `openssl verify` printed, first error first. */
  opensslErrors: VerifyError[];
}

export function parseVerifyOutput(output: string): VerifyError[] {
  return [...output.matchAll(/error (\d+) at (\d+) depth lookup: ?(.*)/g)].map((m) => ({ code: Number(m[1]), depth: Number(m[2]), text: m[3]!.trim() }));
}

/**
 * `openssl verify` stops where a TLS stack that keeps going (HAProxy with ignore lists, Node) does not:
 * a leaf whose issuer is unknown continues from 20 to 21 (UNABLE_TO_VERIFY_LEAF_SIGNATURE), which is
 * what the edge reports.
 */
export function edgeCode(errors: readonly VerifyError[]): number {
  if (errors.length === 0) return 0;
  const first = errors[0]!;
  if (first.code === 20 && first.depth === 0) return 21;
  return first.code;
}

async function crlPem(file: string): Promise<string> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    throw new MaterialError(file, 'cannot read the CRL file');
  }
  if (data.includes('-----BEGIN X509 CRL-----')) return data.toString('utf8');
  try {
    return (await openssl(['crl', '-inform', 'DER'], { input: data })).stdout.toString('utf8');
  } catch {
    throw new MaterialError(file, 'not a CRL (expected PEM or DER X509 CRL)');
  }
}

/** `chain` is what the client sends, leaf first. */
export async function verifyAgainst(chain: readonly X509Certificate[], trust: readonly X509Certificate[], crlFiles: readonly string[] = []): Promise<Verdict> {
  if (chain.length === 0) throw new Error('no certificate to verify');
  const crls = await Promise.all(crlFiles.map(crlPem));
  return withTempDir('verify', async (dir) => {
    const f = (name: string): string => join(dir, name);
    await writeFile(f('leaf.pem'), chain[0]!.toString());
    await writeFile(f('trust.pem'), trust.map((c) => c.toString()).join(''));
    const args = ['verify', '-CAfile', f('trust.pem'), '-purpose', 'sslclient'];
    if (chain.length > 1) {
      await writeFile(f('untrusted.pem'), chain.slice(1).map((c) => c.toString()).join(''));
      args.push('-untrusted', f('untrusted.pem'));
    }
    if (crls.length > 0) {
      await writeFile(f('crls.pem'), crls.join('\n'));
      args.push('-crl_check_all', '-CRLfile', f('crls.pem'));
    }
    args.push(f('leaf.pem'));
    const r = await openssl(args, { allowFailure: true });
    const errors = parseVerifyOutput(r.stdout.toString('utf8') + r.stderr);
    if (r.exitCode !== 0 && errors.length === 0) throw new Error(`openssl verify failed: ${r.stderr.split('\n')[0] ?? ''}`);
    const code = edgeCode(errors);
    return { code, info: verifyCodeInfo(code), opensslErrors: errors };
  });
}
