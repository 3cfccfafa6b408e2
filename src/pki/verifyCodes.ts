// The OpenSSL verify results the edge can report, as data: one row per code, with the name OpenSSL
// prints, the code Node puts in `authorizationError`, the TLS alert HAProxy would send when the code
// is not ignored, and the fix in the plain words of the troubleshooting checklist (seed 003).
// The edge, `certs inspect --against`, the logs and the explain page all read this one table.

export interface VerifyCodeInfo {
  readonly code: number;
  /** OpenSSL's symbolic name, e.g. X509_V_ERR_CERT_HAS_EXPIRED. */
  readonly name: string;
  /** Node's `authorizationError.code` / `err.code` for this result. */
  readonly nodeCode: string;
  /** OpenSSL's short text (`X509_verify_cert_error_string`). */
  readonly text: string;
  /** TLS alert HAProxy sends when the result is not ignored. */
  readonly alert: { readonly name: string; readonly code: number } | null;
  /** What the user should do about it. */
  readonly hint: string;
}

const row = (
  code: number,
  name: string,
  nodeCode: string,
  text: string,
  alert: [string, number] | null,
  hint: string,
): VerifyCodeInfo => ({ code, name, nodeCode, text, alert: alert ? { name: alert[0], code: alert[1] } : null, hint });

export const VERIFY_CODES: readonly VerifyCodeInfo[] = [
  row(0, 'X509_V_OK', 'OK', 'ok', null, 'The certificate was verified against the trust list.'),
  row(2, 'X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate', ['unknown_ca', 48],
    'The issuer of a certificate in the chain is not available: send the whole chain and put its root in the trust list.'),
  row(3, 'X509_V_ERR_UNABLE_TO_GET_CRL', 'UNABLE_TO_GET_CRL', 'unable to get certificate CRL', ['unknown_ca', 48],
    'CRL checking is on but a CA in the chain has no CRL configured: add a CRL for every CA in the chain (root and intermediates).'),
  row(7, 'X509_V_ERR_CERT_SIGNATURE_FAILURE', 'CERT_SIGNATURE_FAILURE', 'certificate signature failure', ['decrypt_error', 51],
    'A signature in the chain does not verify: the certificate was altered or the chain mixes up certificates; re-export it from the CA.'),
  row(9, 'X509_V_ERR_CERT_NOT_YET_VALID', 'CERT_NOT_YET_VALID', 'certificate is not yet valid', ['bad_certificate', 42],
    'The certificate is not valid yet (notBefore is in the future): wait, fix the clock, or issue it with an earlier start date.'),
  row(10, 'X509_V_ERR_CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED', 'certificate has expired', ['certificate_expired', 45],
    'The certificate has expired: renew it with the CA and upload the new one wherever it is mapped.'),
  row(18, 'X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', ['unknown_ca', 48],
    'Self-signed certificates are refused: get it issued by a CA in the trust list.'),
  row(19, 'X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN', 'SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', ['unknown_ca', 48],
    'The chain ends in a root CA that is not in the trust list: add that root to the trust list, or use a certificate from a trusted CA.'),
  row(20, 'X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate', ['unknown_ca', 48],
    'The issuing CA is not in the trust list, or the intermediate is missing: send the whole chain (leaf + intermediates) and trust its root.'),
  row(21, 'X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', ['unknown_ca', 48],
    'The CA that issued the certificate is not in the trust list, or the intermediate is missing: send the whole chain and trust its root.'),
  row(23, 'X509_V_ERR_CERT_REVOKED', 'CERT_REVOKED', 'certificate revoked', ['certificate_revoked', 44],
    'The certificate is revoked by its CA: request a new certificate.'),
  // The TLS security level (2, as Debian's and Ubuntu's OpenSSL configuration sets it): 112 bits at least.
  row(66, 'X509_V_ERR_EE_KEY_TOO_SMALL', 'EE_KEY_TOO_SMALL', 'EE certificate key too weak', ['bad_certificate', 42],
    'The client key is too weak for security level 2 (e.g. RSA below 2048 bits): issue the certificate with an RSA-2048 or EC P-256 key.'),
  row(67, 'X509_V_ERR_CA_KEY_TOO_SMALL', 'CA_KEY_TOO_SMALL', 'CA certificate key too weak', ['bad_certificate', 42],
    'A CA in the chain has a key too weak for security level 2 (e.g. RSA below 2048 bits): the CA must be re-keyed.'),
  row(68, 'X509_V_ERR_CA_MD_TOO_WEAK', 'CA_MD_TOO_WEAK', 'CA signature digest algorithm too weak', ['bad_certificate', 42],
    'A certificate in the chain is signed with a weak hash (SHA-1 or MD5): have it re-issued with SHA-256.'),
  // 79 in OpenSSL 3 (24 was INVALID_CA in OpenSSL 1.1; OpenSSL 3 uses 24 for NO_ISSUER_PUBLIC_KEY).
  row(79, 'X509_V_ERR_INVALID_CA', 'INVALID_CA', 'invalid CA certificate', ['bad_certificate', 42],
    'A certificate in the chain is used as a CA but is not one (basicConstraints CA:FALSE): send the correct intermediate.'),
  row(26, 'X509_V_ERR_INVALID_PURPOSE', 'INVALID_PURPOSE', 'unsupported certificate purpose', ['unsupported_certificate', 43],
    'The certificate is not allowed for client authentication (its extended key usage lacks clientAuth): issue it with EKU clientAuth.'),
];

/** The row for "no certificate was sent while client authentication is required". */
export const NO_CERTIFICATE = {
  name: 'NO_CERTIFICATE',
  alert: { name: 'certificate_required', code: 116 },
  hint: 'No client certificate was sent, but this host requires one: configure the client (curl --cert/--key, Postman, SoapUI keystore) to send it.',
} as const;

const byCode = new Map(VERIFY_CODES.map((r) => [r.code, r]));
const byNodeCode = new Map(VERIFY_CODES.map((r) => [r.nodeCode, r]));

export function verifyCodeInfo(code: number): VerifyCodeInfo {
  return byCode.get(code) ?? row(code, `X509_V_ERR_${code}`, `UNKNOWN_${code}`, `verify error ${code}`, ['bad_certificate', 42],
    'The certificate failed verification: run `mtls-edge certs inspect FILE --against TRUST` to see why.');
}

// Without 0 ("ok"): a failure's text never names success.
const byText = new Map(VERIFY_CODES.filter((r) => r.code !== 0).map((r) => [r.text, r]));

/** The row whose OpenSSL text this is (nginx's `$ssl_client_verify` writes `FAILED:` + the text); undefined when unknown. */
export function verifyCodeFromText(text: string): VerifyCodeInfo | undefined {
  return byText.get(text);
}

/** Maps Node's error code string (e.g. `CERT_HAS_EXPIRED`) to the OpenSSL row; undefined when unknown. */
export function verifyCodeFromNode(nodeCode: string): VerifyCodeInfo | undefined {
  return byNodeCode.get(nodeCode);
}
