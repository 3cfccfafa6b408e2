// Strict decoders for the encodings the dialects use. Each throws ReadError naming the header, so a
// garbled value is reported, never guessed at (Buffer.from(x, 'base64') would skip bad characters).
import { ReadError } from './headerSource.js';
import { MAX_CERTIFICATES } from './limits.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, nothing else (no whitespace, no URL alphabet). */
export function strictBase64(value: string, what: string): Buffer {
  if (value.length === 0) throw new ReadError(`${what} is empty`);
  if (!BASE64.test(value)) throw new ReadError(`${what} is not standard base64`);
  return Buffer.from(value, 'base64');
}

/** RFC 3986 percent-decoding ('+' stays '+'); ReadError on a broken escape or invalid UTF-8. */
export function percentDecode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ReadError(`${what} has an invalid percent-escape`);
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----/g;

/** The DER of every CERTIFICATE block of a PEM text, in order; ReadError when there is none or too many. */
export function pemCertificates(pem: string, what: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (out.length === MAX_CERTIFICATES) throw new ReadError(`${what} holds more than ${MAX_CERTIFICATES} certificates`);
    out.push(strictBase64(m[1]!.replace(/\s+/g, ''), `a certificate in ${what}`));
  }
  if (out.length === 0) throw new ReadError(`${what} holds no PEM certificate`);
  // Anything but whitespace between or around the blocks means the value is not what the edge wrote.
  if (pem.replace(PEM_BLOCK, '').trim() !== '') throw new ReadError(`${what} has text outside its PEM blocks`);
  return out;
}
