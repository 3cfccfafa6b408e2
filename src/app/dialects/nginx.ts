// nginx: `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;` (the leaf as URL-encoded PEM)
// and `proxy_set_header X-SSL-Client-Verify $ssl_client_verify;` (SUCCESS, FAILED:reason or NONE),
// nginx.org ngx_http_ssl_module "Embedded Variables". nginx has no variable for the chain.
import { clientCertificate } from '../certificate.js';
import { pemCertificates, percentDecode } from '../codecs.js';
import { ReadError, type HeaderView } from '../headerSource.js';
import { MAX_REASON_CHARS } from '../limits.js';
import { absent, type ClientCertResult } from '../result.js';
import { verifyCodeFromText } from '../../pki/verifyCodes.js';

const CERT = 'x-ssl-client-cert';
const VERIFY = 'x-ssl-client-verify';

export function looksLikeNginx(h: HeaderView): boolean {
  return h.all(CERT).length > 0 || h.all(VERIFY).some((v) => /^(SUCCESS|FAILED|NONE)/.test(v.trim()));
}

/** A reason from a header, safe to log and to answer with: printable ASCII, bounded. */
function printable(text: string): string {
  const s = text.replace(/[^\x20-\x7e]/g, '?');
  return s.length > MAX_REASON_CHARS ? s.slice(0, MAX_REASON_CHARS) + '…' : s;
}

export function readNginx(h: HeaderView): ClientCertResult {
  const verify = h.one(VERIFY)?.trim() ?? null;
  const cert = h.one(CERT);
  if ((verify === null || verify === 'NONE') && (cert === null || cert === '')) {
    return absent('nginx', 'X-SSL-Client-Verify is NONE or missing: the client sent no certificate');
  }
  if (cert === null || cert === '') throw new ReadError(`X-SSL-Client-Verify is ${verify === null ? 'missing' : 'set'} but X-SSL-Client-Cert is empty`);
  const ders = pemCertificates(percentDecode(cert, 'X-SSL-Client-Cert'), 'X-SSL-Client-Cert');
  if (ders.length !== 1) throw new ReadError('X-SSL-Client-Cert holds more than one certificate');
  const certificate = clientCertificate(ders);
  if (verify === 'SUCCESS') return { status: 'verified', verified: true, dialect: 'nginx', basis: 'verify-result', certificate };
  if (verify !== null && verify.startsWith('FAILED:')) {
    const text = verify.slice('FAILED:'.length);
    // The code, when the text is OpenSSL's for a code the edge knows (the same table writes it).
    const verifyCode = verifyCodeFromText(text)?.code ?? null;
    return { status: 'unverified', verified: false, dialect: 'nginx', verifyCode, certificate, reason: `verification failed: ${printable(text)}` };
  }
  return { status: 'unverified', verified: false, dialect: 'nginx', verifyCode: null, certificate, reason: 'X-SSL-Client-Verify is missing or not SUCCESS, FAILED:reason or NONE' };
}
