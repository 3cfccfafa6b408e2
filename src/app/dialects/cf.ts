// The Cloud Foundry edge's ten headers (docs/edge-behaviour.md §4-§6): X-Forwarded-Client-Cert is
// the leaf's DER in base64, X-SSL-Client `1` when a certificate was used, X-SSL-Client-Verify the
// OpenSSL verify code (0, or the error the edge was told to ignore), X-SSL-Client-Root-CA-DN the
// root's one-line DN in base64 (or as text with legacy_xfcc_header_mapping).
import { verifyCodeInfo } from '../../pki/verifyCodes.js';
import { clientCertificate } from '../certificate.js';
import { strictBase64 } from '../codecs.js';
import { ReadError, type HeaderView } from '../headerSource.js';
import { absent, type ClientCertResult } from '../result.js';

export interface CfOptions {
  /** The edge runs with legacy_xfcc_header_mapping: the DN headers are text, not base64. */
  readonly legacyXfccHeaderMapping?: boolean;
}

const XFCC = 'x-forwarded-client-cert';
const USED = 'x-ssl-client';
const VERIFY = 'x-ssl-client-verify';
const ROOT_DN = 'x-ssl-client-root-ca-dn';

/** True when the headers look like this dialect (for `auto`). */
export function looksLikeCf(h: HeaderView): boolean {
  const xfcc = h.all(XFCC);
  if (xfcc.some((v) => !isEnvoyXfcc(v))) return true;
  return h.all(USED).length > 0 || h.all(VERIFY).some((v) => /^\d+$/.test(v.trim()));
}

/** Envoy's XFCC starts with a key (`By=`, `Hash=`, …); base64 DER never does (it starts `MII`). */
export function isEnvoyXfcc(value: string): boolean {
  return /^\s*(by|hash|cert|chain|subject|uri|dns)=/i.test(value);
}

export function readCf(h: HeaderView, opts: CfOptions): ClientCertResult {
  const used = h.one(USED);
  const xfcc = h.one(XFCC);
  const verify = h.one(VERIFY);
  if (used === null && xfcc === null) return absent('cf', 'no X-SSL-Client or X-Forwarded-Client-Cert header: the client sent no certificate');
  const der = xfcc === null || xfcc === '' ? null : strictBase64(xfcc.trim(), 'X-Forwarded-Client-Cert');
  if (der === null) throw new ReadError('X-SSL-Client without X-Forwarded-Client-Cert');
  const rootValue = h.one(ROOT_DN);
  // Legacy text arrives as one latin1 char per byte (how Node reads header bytes): back to bytes, then UTF-8.
  const rootBytes = rootValue === null || rootValue === '' ? null : opts.legacyXfccHeaderMapping ? Buffer.from(rootValue, 'latin1') : strictBase64(rootValue, 'X-SSL-Client-Root-CA-DN');
  const root = rootBytes === null ? null : rootBytes.toString('utf8');
  const certificate = clientCertificate([der], root);
  if (used !== '1') {
    return { status: 'unverified', verified: false, dialect: 'cf', verifyCode: null, certificate, reason: 'X-Forwarded-Client-Cert without X-SSL-Client: 1 (no verify result from the edge)' };
  }
  if (verify === null || !/^\d{1,9}$/.test(verify)) throw new ReadError('X-SSL-Client-Verify is missing or not a number');
  const code = Number(verify);
  if (code === 0) return { status: 'verified', verified: true, dialect: 'cf', basis: 'verify-result', certificate };
  const info = verifyCodeInfo(code);
  return { status: 'unverified', verified: false, dialect: 'cf', verifyCode: code, certificate, reason: `verify error ${code} (${info.text}), ignored by the edge` };
}
