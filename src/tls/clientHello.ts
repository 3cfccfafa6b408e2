// Reads the SNI out of a TLS ClientHello before any TLS object exists, because the client-auth mode
// (request a certificate or not) is a property of the TLS socket, not of a SecureContext picked later.

export type ClientHelloPeek =
  | { readonly state: 'incomplete' }
  | { readonly state: 'ok'; readonly sni: string | null }
  | { readonly state: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloPeek = { state: 'incomplete' };
const invalid = (reason: string): ClientHelloPeek => ({ state: 'invalid', reason });

/** Upper bound on bytes buffered before the ClientHello is complete (one record plus headroom). */
export const MAX_CLIENT_HELLO_BYTES = 16384 + 5;

/**
 * Parses the first TLS record of a connection. The ClientHello must fit in one record, which every
 * mainstream client does; a hello split over several records is treated as having no SNI.
 */
export function peekClientHello(buf: Buffer): ClientHelloPeek {
  if (buf.length < 5) return buf.length > 0 && buf[0] !== 0x16 ? invalid(notTls(buf)) : INCOMPLETE;
  if (buf[0] !== 0x16) return invalid(notTls(buf));
  if (buf[1] !== 0x03) return invalid('unsupported record version');
  const recordLength = buf.readUInt16BE(3);
  if (recordLength === 0 || recordLength > 16384 + 2048) return invalid('bad record length');
  if (buf.length < 5 + recordLength) return INCOMPLETE;
  const rec = buf.subarray(5, 5 + recordLength);
  if (rec[0] !== 0x01) return invalid('first handshake message is not a ClientHello');
  if (rec.length < 4) return invalid('truncated ClientHello');
  const helloLength = rec.readUIntBE(1, 3);
  // A hello longer than its record continues in the next record: let OpenSSL deal with it.
  const body = rec.subarray(4, Math.min(rec.length, 4 + helloLength));
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
