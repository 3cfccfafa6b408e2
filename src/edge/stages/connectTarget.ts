// A CONNECT request's target, checked as HAProxy's HTTP/1 parser checks it before any rule runs
// (src/h1.c h1_validate_connect_authority in 3.2; 2.6 answers the same, measured on loopback):
// authority-form `host:port` with a port, and a Host header, when present, naming that host and
// port (a Host without port stands for 80 or 443). Anything else is 400. A Host whose port is 80 or
// 443 reaches the app without it, as HAProxy normalises it. A CONNECT has no body (HAProxy drops
// Content-Length and Transfer-Encoding): the bytes after its head belong to the tunnel.
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * HAProxy's http_get_host_port: the digits after the last colon (`''` when the colon ends the
 * value), or null when the value does not end in `:digits`.
 */
function portOf(hostPort: string): string | null {
  let i = hostPort.length;
  while (i > 0 && hostPort.charCodeAt(i - 1) >= 48 && hostPort.charCodeAt(i - 1) <= 57) i--;
  return i > 0 && hostPort[i - 1] === ':' ? hostPort.slice(i) : null;
}

const isDefaultPort = (port: string): boolean => port === '443' || port === '80';

/** The authority of a CONNECT target: up to the first `/`, after the last `@` (HAProxy's http_parse_authority). */
function authorityOf(target: string): string {
  const slash = target.indexOf('/');
  const authority = slash < 0 ? target : target.slice(0, slash);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** Why HAProxy refuses this CONNECT target and Host, or null when it takes them; `host` is the normalised Host. */
function connectTargetRefusal(target: string, hostHeader: string | undefined): { refusal: string } | { host: string | undefined } {
  if (target.startsWith('/') || target === '*' || SCHEME.test(target)) {
    return { refusal: `a CONNECT target must be host:port (authority-form), not "${target}"` };
  }
  const authority = authorityOf(target);
  const uriPort = portOf(authority);
  if (!uriPort) return { refusal: `the CONNECT target "${target}" names no port` };
  const uriHost = authority.slice(0, authority.length - uriPort.length - 1);
  if (hostHeader === undefined) return { host: undefined };
  const hostPort = portOf(hostHeader);
  const host = hostPort === null ? hostHeader : hostHeader.slice(0, hostHeader.length - hostPort.length - 1);
  const sameHost = host.toLowerCase() === uriHost.toLowerCase();
  if (hostPort) {
    if (!sameHost || hostPort !== uriPort) return { refusal: `CONNECT to "${authority}" but Host is "${hostHeader}"` };
    return { host: isDefaultPort(uriPort) ? host : hostHeader };
  }
  if (!sameHost || !isDefaultPort(uriPort)) return { refusal: `CONNECT to "${authority}" but Host is "${hostHeader}" (a Host without port stands for 80 or 443)` };
  return { host: hostHeader };
}

/** Names a CONNECT request loses: its Host is rewritten, and it has no body. */
const isHost = (lower: string): boolean => lower === 'host';
const isBodyFraming = (lower: string): boolean => lower === 'content-length' || lower === 'transfer-encoding';

export function connectTarget(): Stage {
  return (ctx) => {
    const h = ctx.headers;
    // After duplicateHost: one Host at most.
    let hostHeader: string | undefined;
    for (let i = 0; i + 1 < h.length; i += 2) if (isHost(h[i].toLowerCase())) hostHeader = h[i + 1].trim();
    const outcome = connectTargetRefusal(ctx.req.url ?? '', hostHeader);
    if ('refusal' in outcome) return answered(ctx, 400, outcome.refusal);
    const out: string[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) {
      const lower = h[i].toLowerCase();
      if (isBodyFraming(lower)) continue;
      out.push(h[i], isHost(lower) ? outcome.host! : h[i + 1]);
    }
    ctx.headers = out;
    return true;
  };
}
