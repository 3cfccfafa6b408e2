// The edge's configuration as plain data for /status and the flow page's configuration view.
import type { X509Certificate } from 'node:crypto';
import type { CertificateStatus, StatusSnapshot } from '../observe/status.js';
import type { ExpiryInput } from '../observe/expiry.js';
import { rfc2253 } from './certInfoCache.js';
import type { RunningEdge } from './edge.js';

const iso = (d: string): string => new Date(d).toISOString();

function certStatus(c: X509Certificate, source: string): CertificateStatus {
  return { subject: rfc2253(c.subject), issuer: rfc2253(c.issuer), notBefore: iso(c.validFrom), notAfter: iso(c.validTo), fingerprint256: c.fingerprint256, source };
}

export function statusSnapshot(edge: RunningEdge, version: string, startedAt: number, bind: string): StatusSnapshot {
  const { config, resolved } = edge.runtime();
  return {
    version,
    startedAt,
    ready: true,
    listeners: [
      { name: 'https', protocol: 'https', host: bind, port: edge.httpsPort },
      ...(edge.httpPort !== null ? [{ name: 'http', protocol: 'http' as const, host: bind, port: edge.httpPort }] : []),
    ],
    tlsConfigs: resolved.tlsProfiles.map((p, i) => ({
      name: p.name,
      hostnames: p.hosts,
      isDefault: i === 0 && !config.strict_sni,
      clientAuth: p.clientAuth,
      forwardedClientCert: config.forwarded_client_cert,
      ignoreErrors: p.ignore === 'all' ? 'all' : [...p.ignore],
      crl: p.crlPem.length > 0,
      serverCertificate: certStatus(p.serverCert, p.files[0] ?? p.name),
      trustList: p.trustCerts.map((c) => certStatus(c, `trust list of ${p.name}`)),
    })),
    routes: resolved.routes.map((r) => ({ match: `${r.host}${r.path}`, upstream: r.upstream })),
    counters: { inFlight: edge.inFlight() },
  };
}

/** The edge's own certificates to check for expiry: server certificates and every trust-list CA. */
export function ownCertificates(edge: RunningEdge): ExpiryInput[] {
  return edge.runtime().resolved.tlsProfiles.flatMap((p) => [
    { label: `server certificate of ${p.name}`, cert: p.serverCert },
    ...p.trustCerts.map((c) => ({ label: `trust list of ${p.name}`, cert: c })),
  ]);
}
