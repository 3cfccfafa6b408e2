// The request target's form. An absolute-form target (`GET http://host/path`) names its own authority, which an
// upstream reads instead of Host (RFC 9112 §3.2.2). HAProxy answers 400 when that authority is not
// the Host header (checked with HAProxy 2.6 and 3.2), so the Host every other stage looked at is
// also the one the app acts on.
import type { Stage } from '../requestContext.js';
import { answered } from '../errorPages.js';

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The authority of an absolute-form target, or null for origin-form (`/path`) and the rest. */
export function targetAuthority(url: string): string | null {
  if (url.startsWith('/')) return null;
  const m = SCHEME.exec(url);
  if (!m) return null;
  const rest = url.slice(m[0].length);
  const end = rest.search(/[/?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The origin-form of an absolute-form target (`http://h/p?q` → `/p?q`): what routes and the upstream see. */
function originForm(url: string): string {
  const rest = url.slice(SCHEME.exec(url)![0].length);
  const start = rest.search(/[/?#]/);
  if (start < 0) return '/';
  return rest[start] === '/' ? rest.slice(start) : `/${rest.slice(start)}`;
}

const HTTP_SCHEME = /^https?:\/\//i;

export function absoluteForm(): Stage {
  return (ctx) => {
    const url = ctx.req.url ?? '/';
    // HAProxy 2.6 and 3.2 answer 400 to a target holding a fragment ('#' is not in RFC 9112's
    // request-target) and to an authority followed straight by a query (`http://h?q`).
    if (url.includes('#')) return answered(ctx, 400, 'the request target holds "#" (a fragment), which a request line may not');
    const authority = targetAuthority(url);
    if (authority === null) {
      // Asterisk-form (`GET *`) and other targets that are not a path: 400, as HAProxy 3.2 (2.6
      // forwarded them; the upstream hop only sends paths).
      return url.startsWith('/') ? true : answered(ctx, 400, 'the request target is neither a path (/…) nor an absolute URL (http://host/…)');
    }
    if (url.charAt(url.indexOf('://') + 3 + authority.length) === '?') {
      return answered(ctx, 400, 'absolute-form target with a query but no path (http://host?…)');
    }
    const host = ctx.req.headers.host;
    if (!HTTP_SCHEME.test(url)) {
      return answered(ctx, 400, `absolute-form target with a scheme other than http or https`);
    }
    if (host !== undefined && host.trim().toLowerCase() === authority.toLowerCase()) {
      // Routes match paths and the upstream hop sends a path: the target becomes origin-form.
      ctx.req.url = originForm(url);
      return true;
    }
    return answered(ctx, 400, `absolute-form target names "${authority}" but Host is "${host ?? ''}"`);
  };
}
