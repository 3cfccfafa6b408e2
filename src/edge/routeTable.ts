// Routes: host pattern + path prefix → upstream, first match wins (as the application router and
// Gorouter route by host and path).
import type { ResolvedRoute } from '../config/resolve.js';
import { hostMatcher, type HostMatcher } from '../tls/hostPattern.js';

export interface RouteTarget {
  readonly name: string;
  /** Origin actually dialled (the echo upstream's address for `echo`). */
  readonly origin: string;
  readonly label: string;
  readonly route: ResolvedRoute;
}

interface CompiledRoute {
  readonly matches: HostMatcher;
  readonly path: string;
  readonly target: RouteTarget;
}

export class RouteTable {
  private readonly routes: readonly CompiledRoute[];
  constructor(routes: readonly ResolvedRoute[], echoOrigin: string) {
    this.routes = routes.map((r) => ({
      matches: hostMatcher(r.host),
      path: r.path,
      target: { name: r.name, origin: r.upstream === 'echo' ? echoOrigin : r.upstream, label: r.upstream, route: r },
    }));
  }

  match(host: string, url: string): RouteTarget | null {
    for (const r of this.routes) {
      if (r.matches(host) && pathHasPrefix(url, r.path)) return r.target;
    }
    return null;
  }

  get targets(): RouteTarget[] {
    return this.routes.map((r) => r.target);
  }
}

function pathHasPrefix(url: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!url.startsWith(prefix)) return false;
  if (prefix.endsWith('/')) return true;
  const next = url.charCodeAt(prefix.length);
  // "/api" matches "/api", "/api/x", "/api?q" but not "/apix".
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/** The first route that sends to the built-in echo (which then runs in this process), or -1. */
export function builtInEchoRoute(routes: readonly { readonly upstream: string }[]): number {
  return routes.findIndex((r) => r.upstream === 'echo');
}

export function usesBuiltInEcho(routes: readonly { readonly upstream: string }[]): boolean {
  return builtInEchoRoute(routes) >= 0;
}
