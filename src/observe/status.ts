// What `/status` and the flow page's configuration view show. Plain data that the edge fills in
// from its resolved configuration; the observe layer adds uptime and its own counters.

export interface CertificateStatus {
  /** RFC 2253 style subject for people. */
  readonly subject: string;
  readonly issuer?: string;
  /** ISO 8601. */
  readonly notBefore?: string;
  readonly notAfter: string;
  readonly fingerprint256?: string;
  /** Where it came from (a file path, `dev PKI`, …). */
  readonly source?: string;
}

interface ListenerStatus {
  readonly name: string;
  readonly protocol: 'https' | 'http';
  readonly host: string;
  readonly port: number;
}

interface TlsConfigStatus {
  readonly name: string;
  /** SNI patterns this configuration answers; empty for the default. */
  readonly hostnames: readonly string[];
  readonly isDefault?: boolean;
  readonly clientAuth: 'disabled' | 'optional' | 'required';
  /** forwarded_client_cert mode, e.g. `sanitize_set`. */
  readonly forwardedClientCert?: string;
  /** Verify codes accepted anyway (`crt-ignore-err`), or `all`. */
  readonly ignoreErrors?: readonly number[] | 'all';
  readonly crl?: boolean;
  readonly serverCertificate?: CertificateStatus;
  readonly trustList: readonly CertificateStatus[];
}

interface RouteStatus {
  /** Host pattern and path prefix, e.g. `api.acme.test/`. */
  readonly match: string;
  readonly upstream: string;
  /** Certificate-to-user mappings or other notes shown beside the route. */
  readonly note?: string;
}

export interface StatusSnapshot {
  readonly version: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** `/healthz` answers 200 only when true. */
  readonly ready: boolean;
  readonly listeners: readonly ListenerStatus[];
  readonly tlsConfigs: readonly TlsConfigStatus[];
  readonly routes: readonly RouteStatus[];
  /** Counters the edge keeps itself; merged with the observe layer's own. */
  readonly counters?: Readonly<Record<string, number>>;
}

/** What `/status` returns: the snapshot plus uptime and the observe counters. */
export interface StatusDocument extends Omit<StatusSnapshot, 'counters'> {
  readonly uptimeSeconds: number;
  /** The curl command `mtls-edge start` printed (dev PKI only): the flow page shows it while empty. */
  readonly tryIt: string | null;
  readonly counters: Readonly<Record<string, number>>;
}

export function emptyStatus(version = '0.0.0'): StatusSnapshot {
  return { version, startedAt: Date.now(), ready: true, listeners: [], tlsConfigs: [], routes: [] };
}
