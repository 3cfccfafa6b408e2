// Chain verification in-process, for `certs inspect --against`: what `openssl verify -purpose
// sslclient [-crl_check_all -CRLfile …]` reports, in OpenSSL 3's order (build the chain, check
// extensions and purpose, revocation, then signatures and validity from the top down) and with the
// `openssl verify` app's rule for which errors it continues past. Node has no public chain
// verifier outside a TLS handshake, and a handshake needs the client's private key, which
// `inspect` usually does not have. The edge itself verifies with Node's OpenSSL during the
// handshake; this is the preview, covering the codes in verifyCodes.ts.
import { verify, type X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints, Certificate, CertificateList, KeyUsage, KeyUsageFlags, Name, id_ce_basicConstraints, id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { readTlv } from '../headers/der.js';
import { verifyCodeInfo } from './verifyCodes.js';

export interface VerifyError {
  code: number;
  depth: number;
  text: string;
}

/** Errors the `openssl verify` app's callback continues past; every other error ends verification. */
const CONTINUES = new Set([10, 18, 26, 79, 25, 12, 11, 34]);

/** Extensions OpenSSL handles, so their being critical is no error (34 otherwise). */
const KNOWN_EXTENSIONS = new Set([
  '2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.18', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.32', '2.5.29.33',
  '2.5.29.35', '2.5.29.36', '2.5.29.37', '2.5.29.46', '2.5.29.54', '1.3.6.1.5.5.7.1.1', '1.3.6.1.5.5.7.1.24',
]);
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null, '1.3.101.113': null,
};

class Stop extends Error {}

interface Parsed {
  x509: X509Certificate;
  asn: Certificate;
  issuerDer: Buffer;
}

const nameDer = (n: Name): Buffer => Buffer.from(AsnConvert.serialize(n));

function parse(x509: X509Certificate): Parsed {
  const asn = AsnConvert.parse(x509.raw, Certificate);
  return { x509, asn, issuerDer: nameDer(asn.tbsCertificate.issuer) };
}

function extension<T>(c: Parsed, oid: string, type: new () => T): T | undefined {
  const e = c.asn.tbsCertificate.extensions?.find((x) => x.extnID === oid);
  return e ? AsnConvert.parse(e.extnValue.buffer, type) : undefined;
}

/** The first TLV inside the outer SEQUENCE: the signed part, as the bytes that were signed. */
function signedPart(der: Uint8Array): Buffer {
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.start, outer.end);
  return Buffer.from(der.subarray(tbs.offset, tbs.end));
}

function signatureValid(der: Uint8Array, algorithm: string, signature: ArrayBuffer, issuer: X509Certificate): boolean {
  const hash = SIGNATURE_HASH[algorithm];
  if (hash === undefined) return false;
  try {
    return verify(hash, signedPart(der), issuer.publicKey, Buffer.from(signature));
  } catch {
    return false;
  }
}

export interface ChainInput {
  /** What the client sends, leaf first. */
  chain: readonly X509Certificate[];
  trust: readonly X509Certificate[];
  /** DER CRLs; empty: no revocation check. */
  crls: readonly Buffer[];
  now?: Date;
}

/** The errors `openssl verify` would print, first first; empty when the chain verifies. */
export function verifyChain(input: ChainInput): VerifyError[] {
  const errors: VerifyError[] = [];
  const fail = (code: number, depth: number): void => {
    errors.push({ code, depth, text: verifyCodeInfo(code).text });
    if (!CONTINUES.has(code)) throw new Stop();
  };
  try {
    check(input, fail);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return errors;
}

function check(input: ChainInput, fail: (code: number, depth: number) => void): void {
  const now = (input.now ?? new Date()).getTime();
  const trusted = (c: X509Certificate): boolean => input.trust.some((t) => t.raw.equals(c.raw));
  const path: X509Certificate[] = [input.chain[0]!];
  const untrusted = input.chain.slice(1);
  let anchored = trusted(path[0]!);
  for (let guard = 0; !anchored && guard <= input.chain.length + input.trust.length; guard++) {
    const cur = path[path.length - 1]!;
    const fromTrust = input.trust.find((t) => cur.checkIssued(t));
    if (fromTrust) {
      if (!fromTrust.raw.equals(cur.raw)) path.push(fromTrust);
      anchored = true;
      break;
    }
    if (cur.checkIssued(cur)) {
      fail(path.length === 1 ? 18 : 19, path.length - 1);
      break;
    }
    const next = untrusted.find((u) => !path.includes(u) && cur.checkIssued(u));
    if (!next) {
      fail(20, path.length - 1);
      return;
    }
    path.push(next);
  }
  const parsed = path.map(parse);

  // Extensions and purpose (sslclient), leaf first.
  parsed.forEach((c, depth) => {
    if ((c.asn.tbsCertificate.extensions ?? []).some((e) => e.critical && !KNOWN_EXTENSIONS.has(e.extnID))) fail(34, depth);
    const eku = c.x509.keyUsage as string[] | undefined; // Node names the EKU list `keyUsage`
    const ekuRefuses = eku !== undefined && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU);
    const ku = extension(c, id_ce_keyUsage, KeyUsage);
    if (depth === 0) {
      const kuRefuses = ku !== undefined && (ku.toNumber() & (KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement)) === 0;
      if (ekuRefuses || kuRefuses) fail(26, depth);
      return;
    }
    const bc = extension(c, id_ce_basicConstraints, BasicConstraints);
    if (!bc?.cA || (ku !== undefined && (ku.toNumber() & KeyUsageFlags.keyCertSign) === 0)) fail(79, depth);
    else if (ekuRefuses) fail(26, depth);
    // pathLen counts the CAs below this one, not the leaf; a self-issued top does not count itself.
    if (bc?.pathLenConstraint !== undefined && depth - 1 > bc.pathLenConstraint) fail(25, depth);
  });

  // Revocation: every certificate needs a current CRL from its issuer (CRL_CHECK_ALL).
  if (input.crls.length > 0) {
    const crls = input.crls.map((der) => ({ der, asn: AsnConvert.parse(der, CertificateList) }));
    parsed.forEach((c, depth) => {
      const issuer = parsed[depth + 1]?.x509 ?? (c.x509.checkIssued(c.x509) ? c.x509 : undefined);
      const crl = issuer && crls.find((l) => nameDer(l.asn.tbsCertList.issuer).equals(c.issuerDer));
      if (!issuer || !crl) {
        fail(3, depth);
        return;
      }
      if (!signatureValid(crl.der, crl.asn.signatureAlgorithm.algorithm, crl.asn.signature, issuer)) fail(8, depth);
      const t = crl.asn.tbsCertList;
      if (t.thisUpdate.getTime().getTime() > now) fail(11, depth);
      if (t.nextUpdate && t.nextUpdate.getTime().getTime() < now) fail(12, depth);
      const serial = Buffer.from(c.asn.tbsCertificate.serialNumber);
      if ((t.revokedCertificates ?? []).some((r) => Buffer.from(r.userCertificate).equals(serial))) fail(23, depth);
    });
  }

  // Signatures and validity, from the top down; a trust anchor's own signature is not checked.
  for (let depth = parsed.length - 1; depth >= 0; depth--) {
    const c = parsed[depth]!;
    const issuer = parsed[depth + 1]?.x509 ?? c.x509;
    const isAnchor = depth === parsed.length - 1 && anchored;
    if (!isAnchor && !signatureValid(c.x509.raw, c.asn.signatureAlgorithm.algorithm, c.asn.signatureValue, issuer)) fail(7, depth);
    const v = c.asn.tbsCertificate.validity;
    if (v.notBefore.getTime().getTime() > now) fail(9, depth);
    if (v.notAfter.getTime().getTime() < now) fail(10, depth);
  }
}
