// Pulls the raw pieces the H10 values need out of a certificate's DER, once per connection.
// Everything returned for the Names is a view into the input (no copy, no re-encoding), so the
// bytes are exactly those the client sent.

import {
  DerError,
  TAG_GENERALIZED_TIME,
  TAG_INTEGER,
  TAG_SEQUENCE,
  TAG_UTC_TIME,
  expectTlv,
  readTlv,
} from './der.js';
import type { CertTimeTag } from './certTime.js';

interface RawCertTime {
  readonly tag: CertTimeTag;
  /** The Time's contents as latin1 text (one char per byte), e.g. `991231235959Z`. */
  readonly text: string;
}

export interface RawCertFields {
  /** DER of the subject Name (SEQUENCE TLV), a view into the certificate's bytes. */
  readonly subjectDer: Buffer;
  /** DER of the issuer Name, a view into the certificate's bytes. */
  readonly issuerDer: Buffer;
  readonly notBefore: RawCertTime;
  readonly notAfter: RawCertTime;
  /**
   * Subject bytes == issuer bytes. OpenSSL's X509_check_issued (used by HAProxy for the root DN)
   * compares canonicalised names and also checks key identifiers; for certificates made by
   * ordinary tools the byte comparison gives the same answer.
   */
  readonly selfIssued: boolean;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function readTime(der: Buffer, offset: number, limit: number): { time: RawCertTime; end: number } {
  const t = readTlv(der, offset, limit);
  if (t.cls !== 0 || (t.tag !== TAG_UTC_TIME && t.tag !== TAG_GENERALIZED_TIME)) {
    throw new DerError('Validity: expected UTCTime or GeneralizedTime');
  }
  return {
    time: {
      tag: t.tag === TAG_UTC_TIME ? 'utc' : 'generalized',
      text: der.toString('latin1', t.start, t.end),
    },
    end: t.end,
  };
}

/** Throws DerError when the DER is not a certificate (callers map that to empty values). */
export function rawCertFields(certDer: Uint8Array): RawCertFields {
  const der = asBuffer(certDer);
  const cert = expectTlv(der, 0, der.length, TAG_SEQUENCE);
  const tbs = expectTlv(der, cert.start, cert.end, TAG_SEQUENCE);
  let p = tbs.start;
  let t = readTlv(der, p, tbs.end);
  // [0] EXPLICIT version is optional (absent means v1).
  if (t.cls === 0x80 && t.tag === 0) {
    p = t.end;
    t = readTlv(der, p, tbs.end);
  }
  if (t.cls !== 0 || t.tag !== TAG_INTEGER) throw new DerError('TBSCertificate: expected serial');
  const sigAlg = expectTlv(der, t.end, tbs.end, TAG_SEQUENCE);
  const issuer = expectTlv(der, sigAlg.end, tbs.end, TAG_SEQUENCE);
  const validity = expectTlv(der, issuer.end, tbs.end, TAG_SEQUENCE);
  const nb = readTime(der, validity.start, validity.end);
  const na = readTime(der, nb.end, validity.end);
  const subject = expectTlv(der, validity.end, tbs.end, TAG_SEQUENCE);
  const subjectDer = der.subarray(subject.offset, subject.end);
  const issuerDer = der.subarray(issuer.offset, issuer.end);
  return {
    subjectDer,
    issuerDer,
    notBefore: nb.time,
    notAfter: na.time,
    selfIssued: subjectDer.equals(issuerDer),
  };
}
