// The verdict the edge would reach for a client chain: verifies it the way `openssl verify` checks
// a client (purpose sslclient, CRL_CHECK_ALL when CRLs are configured; in-process, chainVerify.ts)
// and maps the result to the code the edge reports, with the plain-words fix from verifyCodes.ts.
import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { verifyChain, type VerifyError } from './chainVerify.js';
import { MaterialError, pemBlocks } from './readMaterial.js';
import { verifyCodeInfo, type VerifyCodeInfo } from './verifyCodes.js';

export type { VerifyError };

export interface Verdict {
  /** What the edge reports (X-SSL-Client-Verify when ignored); 0 = accepted. */
  code: number;
  info: VerifyCodeInfo;
  /** Everything `openssl verify` would print, first error first (the JSON keeps this field name). */
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

/** The CRLs in a file as DER: PEM (one or several, like crl/all.crl) or a single DER CRL. */
async function crlDers(file: string): Promise<Buffer[]> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    throw new MaterialError(file, 'cannot read the CRL file');
  }
  const text = data.toString('latin1');
  const ders = text.includes('-----BEGIN X509 CRL-----')
    ? pemBlocks(text).filter((b) => b.label === 'X509 CRL').map((b) => b.der)
    : [data];
  for (const der of ders) {
    try {
      AsnConvert.parse(der, CertificateList);
    } catch {
      throw new MaterialError(file, 'not a CRL (expected PEM or DER X509 CRL)');
    }
  }
  return ders;
}

/** `chain` is what the client sends, leaf first. */
export async function verifyAgainst(chain: readonly X509Certificate[], trust: readonly X509Certificate[], crlFiles: readonly string[] = []): Promise<Verdict> {
  if (chain.length === 0) throw new Error('no certificate to verify');
  const crls = (await Promise.all(crlFiles.map(crlDers))).flat();
  const errors = verifyChain({ chain, trust, crls });
  const code = edgeCode(errors);
  return { code, info: verifyCodeInfo(code), opensslErrors: errors };
}
