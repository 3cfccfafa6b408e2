// Picks the upstream by host and path; no route → 503 as HAProxy answers without a backend server.
import type { Stage } from '../requestContext.js';
import type { RouteTable } from '../routeTable.js';
import { answered } from '../errorPages.js';

export function route(table: () => RouteTable): Stage {
  return (ctx) => {
    ctx.route = table().match(ctx.host, ctx.req.url ?? '/');
    if (ctx.route) return true;
    return answered(ctx, 503, `no route for host "${ctx.host}" and path "${ctx.req.url}"`);
  };
}
