// Header names with underscores (`X_SSL_Client_Verify`). HAProxy passes them as they are, and so
// does this stage by default; but CGI-style frameworks (WSGI, Rack, PHP) turn `-` into `_` and would
// read such a header as `X-SSL-Client-Verify`, next to (or instead of) the real one. `flag` (the
// default) names them in the request event, for the log and the flow page; `drop` removes every
// header whose name has an underscore, as Envoy's headers_with_underscores_action DROP_HEADER does.
import type { Stage } from '../requestContext.js';

export const UNDERSCORE_HEADER_ACTIONS = ['allow', 'flag', 'drop'] as const;
export type UnderscoreHeaderAction = (typeof UNDERSCORE_HEADER_ACTIONS)[number];

export function underscoreHeaders(action: UnderscoreHeaderAction): Stage {
  if (action === 'allow') return () => true;
  return (ctx) => {
    const h = ctx.headers;
    let found: string[] | null = null;
    for (let i = 0; i < h.length; i += 2) if (h[i].includes('_')) (found ??= []).push(h[i]);
    if (found === null) return true;
    ctx.underscoreHeaders = found;
    if (action === 'drop') {
      const out: string[] = [];
      for (let i = 0; i + 1 < h.length; i += 2) if (!h[i].includes('_')) out.push(h[i], h[i + 1]);
      ctx.headers = out;
    }
    return true;
  };
}
