// Host patterns as crt-list snifilters and routes use them: exact names, "*.example.com" (one or more
// labels in front), or "*" for anything. Matching is case-insensitive and ignores a trailing dot.

export type HostMatcher = (host: string) => boolean;

export function hostMatcher(pattern: string): HostMatcher {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === '*') return () => true;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1);
    return (host) => host.length > suffix.length && host.endsWith(suffix);
  }
  return (host) => host === p;
}

/**
 * The host of a Host header as routes match it: HAProxy's host_only (hostOnly below, as the
 * exported routes' `hdr(host),host_only,lower` ACLs), then without a trailing dot (routes ignore it).
 * @param host what hostOnly gave
 */
export function routeHost(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * A Host header's host as HAProxy's domain-fronting check compares it with the SNI
 * (`hdr(host),host_only`): lower case, the port after the last colon removed, a trailing dot kept
 * (`name.` is not `name`, `name:443:1` is `name:443`).
 */
export function hostOnly(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end >= 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}
