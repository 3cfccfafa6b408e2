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
const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/** The largest TLS record a client may send (2^14 plus the expansion TLS 1.2 allows). */
const MAX_RECORD_LENGTH = 16384 + 2048;

/**
 * Reassembles the ClientHello message (its 4-byte handshake header included) from the handshake
 * records it is split over, fed as the bytes arrive. OpenSSL reads a hello split anywhere, even one
 * byte per record, so the peek must too: reading the first record alone would miss an SNI in the
 * next one and pick the TLS configuration for "no SNI", while OpenSSL itself sees the name.
 * Incremental, so that a client sending thousands of tiny records costs work in proportion to its
 * bytes: each byte is copied a bounded number of times, each record parsed once.
 */
export class ClientHelloReader {
  /** Received bytes not yet taken as a whole record. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The hello's bytes from the records taken so far. */
  private readonly fragments: Buffer[] = [];
  private have = 0;
  /** The hello's length with its header, once known; -1 before. */
  private need = -1;
  private records = 0;
  private received = 0;
  private outcome: ClientHelloPeek | null = null;

  /**
   * Feeds the next bytes: incomplete until the hello's last record has arrived; invalid once more
   * than MAX_CLIENT_HELLO_BYTES came without completing it.
   */
  push(chunk: Buffer): ClientHelloPeek {
    if (this.outcome !== null) return this.outcome;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.received += chunk.length;
    let result = this.takeRecords();
    if (result.state === 'incomplete' && this.received > MAX_CLIENT_HELLO_BYTES) result = invalid('ClientHello too large');
    if (result.state !== 'incomplete') this.outcome = result;
    return result;
  }

  private takeRecords(): ClientHelloPeek {
    for (;;) {
      if (this.pendingBytes < 5) {
        const first = this.pending.find((b) => b.length > 0);
        if (this.records === 0 && first !== undefined && first[0] !== 0x16) return invalid(notTls(Buffer.concat(this.pending)));
        return INCOMPLETE;
      }
      // One copy of the pending bytes per record at most: once joined, the head stays whole while the body arrives.
      if (this.pending[0]!.length < 5) this.pending = [Buffer.concat(this.pending)];
      const head = this.pending[0]!;
      if (head[0] !== 0x16) return this.records === 0 ? invalid(notTls(head)) : invalid('a record of another type inside the ClientHello');
      if (head[1] !== 0x03) return invalid('unsupported record version');
      const recordLength = head.readUInt16BE(3);
      if (recordLength === 0 || recordLength > MAX_RECORD_LENGTH) return invalid('bad record length');
      if (this.pendingBytes < 5 + recordLength) return INCOMPLETE;
      const whole = this.pending.length === 1 ? head : Buffer.concat(this.pending);
      this.fragments.push(whole.subarray(5, 5 + recordLength));
      const rest = whole.subarray(5 + recordLength);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      this.records++;
      this.have += recordLength;
      if (this.need < 0) {
        if (this.fragments[0]![0] !== 0x01) return invalid('first handshake message is not a ClientHello');
        if (this.have < 4) continue;
        const start = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
        this.need = 4 + start.readUIntBE(1, 3);
        if (this.need > MAX_CLIENT_HELLO_BYTES) return invalid('ClientHello too large');
      }
      if (this.have >= this.need) return parseClientHello(Buffer.concat(this.fragments).subarray(0, this.need));
    }
  }
}

/** Parses a connection's first bytes, all at once (see ClientHelloReader). */
export function peekClientHello(buf: Buffer): ClientHelloPeek {
  return new ClientHelloReader().push(buf);
}

/** The SNI of a complete ClientHello message (header included), or null when the client sent none. */
function parseClientHello(message: Buffer): ClientHelloPeek {
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
