// RFC 9440: Client-Cert is one RFC 8941 Byte Sequence (`:base64-of-DER:`); Client-Cert-Chain an
// RFC 8941 List of Byte Sequences, the certificates after the leaf in TLS order, possibly split over
// several header lines. The RFC carries no verification outcome: the proxy only forwards a
// certificate it accepted (RFC 9440 §2, §4).
import { clientCertificate } from '../certificate.js';
import { strictBase64 } from '../codecs.js';
import { ReadError, type HeaderView } from '../headerSource.js';
import { MAX_CERTIFICATES } from '../limits.js';
import { absent, type ClientCertResult } from '../result.js';

const CERT = 'client-cert';
const CHAIN = 'client-cert-chain';

/**
 * One sf-binary item, without parameters (RFC 9440 defines none). RFC 8941 §4.2.7: parsers should
 * not fail when the "=" padding is missing, so it is restored before the strict decode.
 */
function byteSequence(item: string, what: string): Buffer {
  const m = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(item.trim());
  if (!m) throw new ReadError(`${what} is not an RFC 8941 byte sequence (:base64:)`);
  const b64 = m[1]!;
  return strictBase64(b64.includes('=') ? b64 : b64 + '='.repeat((4 - (b64.length % 4)) % 4), what);
}

export function looksLikeRfc9440(h: HeaderView): boolean {
  return h.all(CERT).length > 0 || h.all(CHAIN).length > 0;
}

export function readRfc9440(h: HeaderView): ClientCertResult {
  const cert = h.one(CERT);
  const chainLines = h.all(CHAIN);
  if (cert === null) {
    if (chainLines.length > 0) throw new ReadError('Client-Cert-Chain without Client-Cert');
    return absent('rfc9440', 'no Client-Cert header: the client sent no certificate');
  }
  const leaf = byteSequence(cert, 'Client-Cert');
  const items = chainLines.filter((line) => line.trim() !== '').flatMap((line) => line.split(','));
  if (items.length + 1 > MAX_CERTIFICATES) throw new ReadError(`Client-Cert-Chain holds more than ${MAX_CERTIFICATES - 1} certificates`);
  const chain = items.map((item, i) => byteSequence(item, `Client-Cert-Chain item ${i + 1}`));
  return { status: 'verified', verified: true, dialect: 'rfc9440', basis: 'presence', certificate: clientCertificate([leaf, ...chain]) };
}
