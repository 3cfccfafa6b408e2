// Node's tlsSocket.getSession() is i2d_SSL_SESSION output:
//   SSL_SESSION_ASN1 ::= SEQUENCE { version INTEGER, ssl_version INTEGER, cipher OCTET STRING,
//                                   session_id OCTET STRING, master_key OCTET STRING, … }
// HAProxy's ssl_fc_session_id fails (→ empty header) when the ID is absent or empty, so an empty
// OCTET STRING is reported as null too.

import { TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, expectTlv, readTlv } from './der.js';

export function sessionIdFromSessionDer(der: Uint8Array | undefined): Buffer | null {
  if (der === undefined || der.length === 0) return null;
  try {
    const seq = expectTlv(der, 0, der.length, TAG_SEQUENCE);
    const version = expectTlv(der, seq.start, seq.end, TAG_INTEGER);
    const sslVersion = expectTlv(der, version.end, seq.end, TAG_INTEGER);
    const cipher = expectTlv(der, sslVersion.end, seq.end, TAG_OCTET_STRING);
    const id = expectTlv(der, cipher.end, seq.end, TAG_OCTET_STRING);
    if (id.end === id.start) return null;
    // Copy: the session buffer is Node's, and the ID outlives it (kept for the connection).
    return Buffer.from(der.subarray(id.start, id.end));
  } catch {
    return null;
  }
}

/** The session's fields the edge reads: the ID and the peer's leaf certificate (DER). */
export interface SessionFacts {
  readonly sessionId: Buffer | null;
  readonly peerCertificateDer: Buffer | null;
}

const CONTEXT_CLASS = 0x80;
// SSL_SESSION_ASN1's `peer` field: [3] EXPLICIT Certificate OPTIONAL.
const PEER_TAG = 3;

/**
 * Reads the session ID and the client's leaf certificate from one getSession() DER. The session
 * already holds the leaf the handshake verified, so this is much cheaper than asking the TLS socket
 * for an X509Certificate (which also builds the issuer chain) on every new connection.
 */
export function sessionFacts(der: Uint8Array | undefined): SessionFacts {
  const sessionId = sessionIdFromSessionDer(der);
  if (der === undefined || der.length === 0) return { sessionId, peerCertificateDer: null };
  try {
    const seq = expectTlv(der, 0, der.length, TAG_SEQUENCE);
    for (let p = seq.start; p < seq.end; ) {
      const field = readTlv(der, p, seq.end);
      if (field.cls === CONTEXT_CLASS && field.tag === PEER_TAG) {
        const cert = expectTlv(der, field.start, field.end, TAG_SEQUENCE);
        return { sessionId, peerCertificateDer: Buffer.from(der.subarray(cert.offset, cert.end)) };
      }
      p = field.end;
    }
  } catch {
    // A session we cannot read: the caller asks the socket for the certificate instead.
  }
  return { sessionId, peerCertificateDer: null };
}
