// Realistic fixtures for the observe tests: a real chain (Acme Root CA -> Acme Issuing CA 1 ->
// dev-client, ECDSA P-256, made with openssl; the keys were thrown away) and the H10 values the
// edge computes for it. The end-to-end tests will produce the same shapes from live traffic.
import { Writable } from 'node:stream';
import type { StatusSnapshot } from '../../src/observe/status.js';
import type { CertSummary, HandshakeRejectedEvent, HeaderPair, RequestEvent } from '../../src/observe/events.js';

/** DER of the dev-client leaf, base64: the X-Forwarded-Client-Cert value. */
const LEAF_DER_B64 =
  'MIIBwjCCAWigAwIBAgIUUStGyqAsj36/s6nsi//f7GWbLYcwCgYIKoZIzj0EAwIwODELMAkGA1UEBhMCREUxDTALBgNVBAoMBEFjbWUxGjAYBgNVBAMMEUFjbWUgSXNzdWluZyBDQSAxMB4XDTI2MTEyMzE1MzczOFoXDTI3MTEyMzE1MzczOFowMTELMAkGA1UEBhMCREUxDTALBgNVBAoMBEFjbWUxEzARBgNVBAMMCmRldi1jbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATlhOq97IWy+f2+Z/fkhyvq9RP0Kl1vDin3nlmTn5/IlERid8L7siQemjMhcYgIujgal3b8y4hAOGEp2ESSnKjlo1cwVTATBgNVHSUEDDAKBggrBgEFBQcDAjAdBgNVHQ4EFgQUWAD3qJa7OpHwd/sjHf5s4NOVgC4wHwYDVR0jBBgwFoAUQHrmmwwmoWHKYzZu1ABu7ehQug4wCgYIKoZIzj0EAwIDSAAwRQIgEPRck4zxGVDfHY0fEQghJHBfM75HDHX9iHIIErx/z1QCIQDVmmq7FKAMUJtZbwCK0xcfAQ/Ent4//HbHC+GXQUKtoQ==';

export const ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIIBvDCCAWGgAwIBAgIUMRb1FWCWnQMGACXo4hmFvz9TKc0wCgYIKoZIzj0EAwIw
MzELMAkGA1UEBhMCREUxDTALBgNVBAoMBEFjbWUxFTATBgNVBAMMDEFjbWUgUm9v
dCBDQTAeFw0yNjExMjMxNTM3MzhaFw0zNjExMjAxNTM3MzhaMDMxCzAJBgNVBAYT
AkRFMQ0wCwYDVQQKDARBY21lMRUwEwYDVQQDDAxBY21lIFJvb3QgQ0EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARRCxCE9Lo6vqSTCfUoBYTK4durnTN9d5EzE+Wv
dlu2JB4t54spFsFTGkFQEnsZLSAURF80GFj+HP5g03Oh0sRWo1MwUTAdBgNVHQ4E
FgQUlvas4DCQN49MEoAXrxkSGKemGqUwHwYDVR0jBBgwFoAUlvas4DCQN49MEoAX
rxkSGKemGqUwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA4Yhj
OgloX0j1IWg/uPFPsqgdM8FLzvJj3PR15yOYlgACIQDqbHfuqXz1+dCiwf2NDDiZ
LT9paxoU4t8QU1jcyghzew==
-----END CERTIFICATE-----
`;

export const INTERMEDIATE_PEM = `-----BEGIN CERTIFICATE-----
MIIBvzCCAWagAwIBAgIUa8mlkf1RrjqeidfyTwuT6/504p8wCgYIKoZIzj0EAwIw
MzELMAkGA1UEBhMCREUxDTALBgNVBAoMBEFjbWUxFTATBgNVBAMMDEFjbWUgUm9v
dCBDQTAeFw0yNjExMjMxNTM3MzhaFw0zMTExMjIxNTM3MzhaMDgxCzAJBgNVBAYT
AkRFMQ0wCwYDVQQKDARBY21lMRowGAYDVQQDDBFBY21lIElzc3VpbmcgQ0EgMTBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABP/RG8ad5nr3ZAfh7lgsonbURTnx4HZU
btpjbqaNvxXdEMOkwyuWVehRTB7yVJWI4fO+SX6e76GSzivMzwAAjEKjUzBRMA8G
A1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFEB65psMJqFhymM2btQAbu3oULoOMB8G
A1UdIwQYMBaAFJb2rOAwkDePTBKAF68ZEhinphqlMAoGCCqGSM49BAMCA0cAMEQC
ICoeICH802DKT/6BWKPtGGImLC7ihvj+2GQ0802sJ9fVAiBj0ttdBZKnkLAoyJp4
lB0wBBo9ONGx1mMkAqMOcGqe7Q==
-----END CERTIFICATE-----
`;

export const B64 = {
  subjectDN: 'L0M9REUvTz1BY21lL0NOPWRldi1jbGllbnQ=', // /C=DE/O=Acme/CN=dev-client
  subjectCN: 'ZGV2LWNsaWVudA==', // dev-client
  issuerDN: 'L0M9REUvTz1BY21lL0NOPUFjbWUgSXNzdWluZyBDQSAx', // /C=DE/O=Acme/CN=Acme Issuing CA 1
  rootDN: 'L0M9REUvTz1BY21lL0NOPUFjbWUgUm9vdCBDQQ==', // /C=DE/O=Acme/CN=Acme Root CA
  spoofedDN: 'L0M9REUvTz1FdmlsL0NOPWFkbWlu', // /C=DE/O=Evil/CN=admin
  spoofedCN: 'YWRtaW4=', // admin
} as const;

const SESSION_ID = '6F1C0E9B7D2A4C58B3E1F0A29D8C7B6A5F4E3D2C1B0A99887766554433221100';

export const DEV_CLIENT: CertSummary = {
  subject: 'CN=dev-client,O=Acme,C=DE',
  issuer: 'CN=Acme Issuing CA 1,O=Acme,C=DE',
  subjectCN: 'dev-client',
  issuerCN: 'Acme Issuing CA 1',
  serialNumber: '512B46CAA02C8F7EBFB3A9EC8BFFDFEC659B2D87',
  validFrom: 'Nov 23 15:37:38 2026 GMT',
  validTo: 'Nov 23 15:37:38 2027 GMT',
  fingerprint256: '50:DD:59:5E:6E:23:DE:28:AE:86:ED:87:7B:25:0B:DC:B5:76:83:64:99:45:4E:B1:E7:61:88:FD:0A:B8:DE:3C',
  chain: [{ subject: 'CN=Acme Issuing CA 1,O=Acme,C=DE', subjectCN: 'Acme Issuing CA 1', issuer: 'CN=Acme Root CA,O=Acme,C=DE', validTo: 'Nov 23 15:37:38 2035 GMT' }],
  chainTruncated: false,
};

/** What sanitize_set sets for dev-client, in the order of docs/edge-behaviour.md §5. */
export const SET_FOR_DEV_CLIENT: readonly HeaderPair[] = [
  ['X-Forwarded-Client-Cert', LEAF_DER_B64],
  ['X-SSL-Client', '1'],
  ['X-SSL-Client-Session-ID', SESSION_ID],
  ['X-SSL-Client-Verify', '0'],
  ['X-SSL-Client-NotBefore', '261123153738Z'],
  ['X-SSL-Client-NotAfter', '271123153738Z'],
  ['X-SSL-Client-Subject-DN', B64.subjectDN],
  ['X-SSL-Client-Subject-CN', B64.subjectCN],
  ['X-SSL-Client-Issuer-DN', B64.issuerDN],
  ['X-SSL-Client-Root-CA-DN', B64.rootDN],
];

/** A client trying to pass itself off as `admin` with forged headers. */
export const SPOOFED: readonly HeaderPair[] = [
  ['X-SSL-Client-Subject-DN', B64.spoofedDN],
  ['X-SSL-Client-Subject-CN', B64.spoofedCN],
  ['X-SSL-Client-Verify', '0'],
];

export const T0 = Date.UTC(2026, 10, 23, 15, 40, 12, 345);

let n = 0;
export function requestEvent(over: Partial<RequestEvent> = {}): RequestEvent {
  n++;
  return {
    kind: 'request',
    id: `req-${n}`,
    time: T0,
    listener: 'https',
    clientAddress: '192.0.2.10',
    clientPort: 51514,
    sni: 'api.acme.test',
    tlsConfig: 'acme',
    host: 'api.acme.test',
    method: 'GET',
    path: '/http/Sales_Order',
    httpVersion: '1.1',
    cert: DEV_CLIENT,
    verify: { code: 0, name: 'X509_V_OK', hint: 'The certificate was verified against the trust list.' },
    mappedUser: null,
    forwardedClientCert: LEAF_DER_B64,
    h10: { sent: [], removed: [], set: SET_FOR_DEV_CLIENT },
    route: 'api.acme.test/',
    upstream: '127.0.0.1:8081',
    status: 200,
    durationMs: 3.4,
    websocket: false,
    error: null,
    bytesSent: 512,
    upstreamConnectMs: 1,
    upstreamResponseMs: 2,
    ...over,
  };
}

/** No certificate, and the client sent forged H10 headers that sanitize_set removed. */
export function spoofedNoCertRequest(over: Partial<RequestEvent> = {}): RequestEvent {
  return requestEvent({
    clientAddress: '198.51.100.7',
    clientPort: 40022,
    path: '/admin',
    cert: null,
    verify: null,
    forwardedClientCert: '',
    h10: { sent: SPOOFED, removed: SPOOFED, set: [] },
    status: 403,
    ...over,
  });
}

export function rejectedEvent(over: Partial<HandshakeRejectedEvent> = {}): HandshakeRejectedEvent {
  return {
    kind: 'handshake-rejected',
    time: T0,
    listener: 'https',
    clientAddress: '203.0.113.5',
    sni: 'api.acme.test',
    tlsConfig: 'acme',
    cert: { ...DEV_CLIENT, validFrom: 'Nov 23 15:37:38 2024 GMT', validTo: 'Nov 23 15:37:38 2025 GMT' },
    verify: { code: 10, name: 'X509_V_ERR_CERT_HAS_EXPIRED', hint: 'The certificate has expired: renew it with the CA and upload the new one wherever it is mapped.' },
    alert: 'certificate_expired',
    reason: 'certificate has expired',
    hint: 'The certificate has expired: renew it with the CA and upload the new one wherever it is mapped.',
    explained: false,
    ...over,
  };
}

/** A fake private key: the right armour, random body. Never a real key in the repository. */
export const FAKE_KEY_PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZmFrZS1rZXktZm9yLXRlc3Rz',
  'bm90LWEtcmVhbC1rZXktanVzdC1hcm1vdXItMDEyMzQ1Njc4OWFiY2RlZg==',
  '-----END PRIVATE KEY-----',
].join('\n');
export const KEY_BODY_MARKER = 'ZmFrZS1rZXktZm9yLXRlc3Rz';

/** A writable that collects what was written. */
export class Collect extends Writable {
  chunks: string[] = [];
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
}

export function statusFixture(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  const inDays = (d: number): string => new Date(Date.now() + d * 86_400_000).toISOString();
  return {
    version: '0.1.0',
    startedAt: Date.now() - 3_723_000,
    ready: true,
    listeners: [
      { name: 'https', protocol: 'https', host: '127.0.0.1', port: 8443 },
      { name: 'http', protocol: 'http', host: '127.0.0.1', port: 8080 },
    ],
    tlsConfigs: [
      {
        name: 'acme',
        hostnames: ['api.acme.test', '*.acme.test'],
        isDefault: true,
        clientAuth: 'optional',
        forwardedClientCert: 'sanitize_set',
        crl: false,
        serverCertificate: { subject: 'CN=api.acme.test,O=Acme,C=DE', notAfter: inDays(80) },
        trustList: [
          { subject: 'CN=Acme Root CA,O=Acme,C=DE', notAfter: inDays(3600) },
          { subject: 'CN=Old Partner Root,O=Partner,C=FR', notAfter: inDays(12) },
        ],
      },
      {
        name: 'partner',
        hostnames: ['partner.acme.test'],
        clientAuth: 'required',
        forwardedClientCert: 'forward_only_if_route_service',
        ignoreErrors: [10],
        crl: true,
        trustList: [{ subject: 'CN=Expired Test CA,O=Lab', notAfter: inDays(-3) }],
      },
    ],
    routes: [
      { match: 'api.acme.test/', upstream: 'http://127.0.0.1:8081', note: 'echo' },
      { match: 'partner.acme.test/', upstream: 'http://127.0.0.1:8082' },
    ],
    ...over,
  };
}
