// Node's tlsSocket.getSession() is i2d_SSL_SESSION output:
//   SSL_SESSION_ASN1 ::= SEQUENCE { version INTEGER, ssl_version INTEGER, cipher OCTET STRING,
//                                   session_id OCTET STRING, master_key OCTET STRING, … }
// HAProxy's ssl_fc_session_id fails (→ empty header) when the ID is absent or empty, so an empty
// OCTET STRING is reported as null too.

import { TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, expectTlv } from './der.js';

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
