// Traefik's PassTLSClientCert middleware (pkg/middlewares/passtlsclientcert): with `pem: true`,
// X-Forwarded-Tls-Client-Cert holds every certificate the client sent, leaf first, each as its PEM
// body without the BEGIN/END lines and newlines, joined by `,` (older Traefik versions URL-escaped the
// value; both forms are read). X-Forwarded-Tls-Client-Cert-Info (`info:`) repeats fields of the
// certificates and is not needed: everything is read from the certificates themselves.
import { clientCertificate } from '../certificate.js';
import { percentDecode, strictBase64 } from '../codecs.js';
import { ReadError, type HeaderView } from '../headerSource.js';
import { MAX_CERTIFICATES } from '../limits.js';
import { absent, type ClientCertResult } from '../result.js';

const CERT = 'x-forwarded-tls-client-cert';
const INFO = 'x-forwarded-tls-client-cert-info';

export function looksLikeTraefik(h: HeaderView): boolean {
  return h.all(CERT).length > 0 || h.all(INFO).length > 0;
}

export function readTraefik(h: HeaderView): ClientCertResult {
  const cert = h.one(CERT);
  if (cert === null || cert === '') {
    if (h.all(INFO).length > 0) throw new ReadError('X-Forwarded-Tls-Client-Cert-Info without X-Forwarded-Tls-Client-Cert: set pem: true in the passTLSClientCert middleware');
    return absent('traefik', 'no X-Forwarded-Tls-Client-Cert header: the client sent no certificate');
  }
  const text = cert.includes('%') ? percentDecode(cert, 'X-Forwarded-Tls-Client-Cert') : cert;
  const parts = text.split(',');
  if (parts.length > MAX_CERTIFICATES) throw new ReadError(`X-Forwarded-Tls-Client-Cert holds more than ${MAX_CERTIFICATES} certificates`);
  const ders = parts.map((p, i) => strictBase64(p.trim(), `X-Forwarded-Tls-Client-Cert certificate ${i + 1}`));
  return { status: 'verified', verified: true, dialect: 'traefik', basis: 'presence', certificate: clientCertificate(ders) };
}
