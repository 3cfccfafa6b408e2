// The one place that turns a route's `tls:` block into node:tls connection options, for the HTTP
// pool (undici's connector) and for WebSocket tunnels (node:https) alike.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { ResolvedUpstreamTls } from '../config/resolve.js';

/**
 * The TLS options for connecting to an upstream. `host` is the host name dialled, as a URL's
 * hostname gives it (an IPv6 address in brackets or not); it is the default servername (SNI),
 * except for an IP address, which SNI cannot carry.
 */
export function upstreamTlsOptions(tls: ResolvedUpstreamTls | undefined, host: string): ConnectionOptions {
  return {
    servername: upstreamServername(tls, host),
    ca: tls?.ca ? [...tls.ca] : undefined,
    cert: tls?.cert,
    key: tls?.key,
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
  };
}

/** The SNI towards an upstream: the route's `tls.servername`, else the host dialled; none for an IP address. */
export function upstreamServername(tls: ResolvedUpstreamTls | undefined, host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  return tls?.servername ?? (isIP(bare) ? undefined : bare);
}
