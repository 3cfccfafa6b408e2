// An absolute-form request target (`GET http://host/path`) names its own authority, which an
// upstream reads instead of Host (RFC 9112 §3.2.2). HAProxy answers 400 when that authority is not
// the Host header (checked with HAProxy 2.6 and 3.2), so the Host every other stage looked at is
// also the one the app acts on.
import type { Stage } from '../requestContext.js';
import { sendErrorPage } from '../errorPages.js';

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

export function absoluteForm(): Stage {
  return (ctx) => {
    const authority = targetAuthority(ctx.req.url ?? '/');
    if (authority === null) return true;
    const host = ctx.req.headers.host;
    if (host !== undefined && host.trim().toLowerCase() === authority.toLowerCase()) return true;
    sendErrorPage(ctx.res, 400);
    ctx.answeredWith = { status: 400, error: `absolute-form target names "${authority}" but Host is "${host ?? ''}"` };
    return false;
  };
}
