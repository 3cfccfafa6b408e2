// The Strict-Transport-Security value the edge adds to HTTPS responses (the template's
// `max-age=N; includeSubDomains; preload;`): one declaration for the edge and `export nginx`.
import type { Config } from '../config/schema.js';

export function hstsValue(h: Config['hsts']): string | null {
  if (!h) return null;
  return `max-age=${h.max_age};${h.include_subdomains ? ' includeSubDomains;' : ''}${h.preload ? ' preload;' : ''}`;
}
