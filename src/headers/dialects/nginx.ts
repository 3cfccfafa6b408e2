// The nginx dialect: the headers a typical nginx mTLS configuration passes on, a fixed set:
//   proxy_set_header X-SSL-Client-Cert   $ssl_client_escaped_cert;
//   proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
//   proxy_set_header X-SSL-Client-S-DN   $ssl_client_s_dn;
//   proxy_set_header X-SSL-Client-I-DN   $ssl_client_i_dn;
// docs/dialects.md describes it.
import type { HeaderPair } from '../../observe/events.js';
import { verifyCodeInfo } from '../../pki/verifyCodes.js';
import type { DialectRow } from './dialectTable.js';
import { leafDn, pem, type DialectCertFacts } from './certFacts.js';

/** Each header with the nginx variable it carries: the dialect's set and `export nginx`'s lines. */
export const NGINX_HEADER_VARIABLES = Object.freeze([
  ['X-SSL-Client-Cert', '$ssl_client_escaped_cert'],
  ['X-SSL-Client-Verify', '$ssl_client_verify'],
  ['X-SSL-Client-S-DN', '$ssl_client_s_dn'],
  ['X-SSL-Client-I-DN', '$ssl_client_i_dn'],
] as const);

export const NGINX_HEADERS = Object.freeze(NGINX_HEADER_VARIABLES.map(([header]) => header));

/** nginx has no modes: proxy_set_header always replaces the client's header of the same name. */
export const NGINX_MODES = ['proxy_set_header'] as const;
export type NginxMode = (typeof NGINX_MODES)[number];

// The client's copies never pass (nginx sends the proxy_set_header value instead, and no header at
// all when the value is empty); what is set depends on the certificate, see nginxHeaderValues.
// prettier-ignore
export const NGINX_MODE_TABLE: readonly DialectRow<NginxMode>[] = Object.freeze([
  { mode: 'proxy_set_header', cert: 'any', action: 'set' },
] satisfies DialectRow<NginxMode>[]);

/**
 * $ssl_client_escaped_cert: the PEM with ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT), which for PEM's
 * characters is encodeURIComponent (upper-case `%XX`).
 */
function nginxEscapedCert(facts: DialectCertFacts): string {
  return encodeURIComponent(pem(facts.leaf));
}

/** $ssl_client_verify: SUCCESS, FAILED:<X509_verify_cert_error_string> (an ignored error), NONE. */
function nginxVerify(facts: DialectCertFacts | null): string {
  if (facts === null) return 'NONE';
  return facts.verifyCode === 0 ? 'SUCCESS' : `FAILED:${verifyCodeInfo(facts.verifyCode).text}`;
}

/** The headers for a connection; an empty variable means no header (proxy_set_header with ""). */
export function nginxHeaderValues(facts: DialectCertFacts | null): HeaderPair[] {
  const values: string[] = facts === null
    ? ['', 'NONE', '', '']
    : [nginxEscapedCert(facts), nginxVerify(facts), leafDn(facts.leaf, 'subject'), leafDn(facts.leaf, 'issuer')];
  const out: HeaderPair[] = [];
  for (let i = 0; i < NGINX_HEADERS.length; i++) if (values[i] !== '') out.push([NGINX_HEADERS[i]!, values[i]!]);
  return out;
}
