// Reads the SNI out of a TLS ClientHello before any TLS object exists, because the client-auth mode
// (request a certificate or not) is a property of the TLS socket, not of a SecureContext picked later.

export type ClientHelloPeek =
  | { readonly state: 'incomplete' }
  | { readonly state: 'ok'; readonly sni: string | null }
  | { readonly state: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloPeek = { state: 'incomplete' };
const invalid = (reason: string): ClientHelloPeek => ({ state: 'invalid', reason });

/**
 * Upper bound on the bytes buffered before the ClientHello is complete: the hello may be spread over
 * several handshake records (RFC 8446 §5.1), each with its 5-byte header. Real hellos are under 2 KB
 * (8 KB with post-quantum key shares); a larger one is refused as "ClientHello too large".
 */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/** The largest TLS record a client may send (2^14 plus the expansion TLS 1.2 allows). */
const MAX_RECORD_LENGTH = 16384 + 2048;

/**
 * The ClientHello message (its 4-byte handshake header included), reassembled from the handshake
 * records it is split over. OpenSSL reads a hello split anywhere, even one byte per record, so the
 * peek must too: reading the first record alone would miss an SNI in the next one and pick the
 * TLS configuration for "no SNI", while OpenSSL itself sees the name.
 */
function clientHelloMessage(buf: Buffer): Buffer | ClientHelloPeek {
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1;
  for (let p = 0; ; ) {
    if (buf.length - p < 5) {
      if (p === 0 && buf.length > 0 && buf[0] !== 0x16) return invalid(notTls(buf));
      return INCOMPLETE;
    }
    if (buf[p] !== 0x16) return p === 0 ? invalid(notTls(buf)) : invalid('a record of another type inside the ClientHello');
    if (buf[p + 1] !== 0x03) return invalid('unsupported record version');
    const recordLength = buf.readUInt16BE(p + 3);
    if (recordLength === 0 || recordLength > MAX_RECORD_LENGTH) return invalid('bad record length');
    if (buf.length < p + 5 + recordLength) return INCOMPLETE;
    fragments.push(buf.subarray(p + 5, p + 5 + recordLength));
    have += recordLength;
    p += 5 + recordLength;
    if (need < 0) {
      if (fragments[0]![0] !== 0x01) return invalid('first handshake message is not a ClientHello');
      if (have < 4) continue;
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES) return invalid('ClientHello too large');
    }
    if (have >= need) return (fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments)).subarray(0, need);
  }
}

/**
 * Parses a connection's first bytes up to the end of its ClientHello: incomplete until every record
 * the hello spans has arrived; ok with the SNI (or null when the client sent none).
 */
export function peekClientHello(buf: Buffer): ClientHelloPeek {
  const message = clientHelloMessage(buf);
  if (!Buffer.isBuffer(message)) return message;
  const body = message.subarray(4);
  let p = 2 + 32; // client_version, random
  if (p + 1 > body.length) return invalid('truncated ClientHello');
  p += 1 + body[p]; // session_id
  if (p + 2 > body.length) return invalid('truncated ClientHello');
  p += 2 + body.readUInt16BE(p); // cipher_suites
  if (p + 1 > body.length) return invalid('truncated ClientHello');
  p += 1 + body[p]; // compression_methods
  if (p === body.length) return { state: 'ok', sni: null }; // no extensions at all
  if (p + 2 > body.length) return { state: 'ok', sni: null };
  const extEnd = Math.min(body.length, p + 2 + body.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    const ext = body.subarray(p + 4, Math.min(extEnd, p + 4 + len));
    if (type === 0x0000) return { state: 'ok', sni: parseServerName(ext) };
    p += 4 + len;
  }
  return { state: 'ok', sni: null };
}

function parseServerName(ext: Buffer): string | null {
  if (ext.length < 2) return null;
  const listEnd = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= listEnd) {
    const nameType = ext[p];
    const len = ext.readUInt16BE(p + 1);
    if (nameType === 0 && p + 3 + len <= listEnd) {
      const name = ext.toString('latin1', p + 3, p + 3 + len);
      return /^[\x21-\x7e]+$/.test(name) ? name.toLowerCase() : null;
    }
    p += 3 + len;
  }
  return null;
}

function notTls(buf: Buffer): string {
  const start = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return /^[A-Z]{3,7} /.test(start) ? 'plain HTTP sent to the HTTPS port: use https://' : 'not a TLS handshake';
}

/** A fatal TLS alert record, written raw before any TLS state exists (e.g. unrecognized_name, 112). */
export function rawAlertRecord(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
}
