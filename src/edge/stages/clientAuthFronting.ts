// Across TLS configurations: the SNI chose the configuration that verified (or did not ask for) the
// client certificate; the Host chooses the app. When the Host belongs to a configuration that checks
// clients more strictly, the request would reach that app without the check it was promised, so it
// gets 421. HAProxy and Gorouter have no such rule (HAProxy's disable_domain_fronting compares names
// only, and only when an SNI is present); `disable_client_auth_fronting: false` reproduces them.
import type { Stage } from '../requestContext.js';
import { profileForHost, type TlsProfile, type TlsProfileSet } from '../../tls/tlsProfiles.js';
import { answered } from '../errorPages.js';

const RANK = { disabled: 0, optional: 1, required: 2 } as const;

function sameVerification(a: TlsProfile, b: TlsProfile): boolean {
  const x = a.resolved;
  const y = b.resolved;
  const ignoreKey = (i: typeof x.ignore): string => (i === 'all' ? 'all' : [...i].sort((p, q) => p - q).join(','));
  return x.trustPem.equals(y.trustPem) && x.crlPem.length === y.crlPem.length && x.crlPem.every((c, i) => c.equals(y.crlPem[i]!)) && ignoreKey(x.ignore) === ignoreKey(y.ignore);
}

/** Whether a connection made under `conn` may be used for an app behind `target`. */
export function clientAuthCovers(conn: TlsProfile, target: TlsProfile): boolean {
  if (conn === target) return true;
  if (target.resolved.clientAuth === 'disabled') return true;
  return RANK[conn.resolved.clientAuth] >= RANK[target.resolved.clientAuth] && sameVerification(conn, target);
}

export function clientAuthFronting(enabled: boolean, profiles: () => TlsProfileSet): Stage {
  if (!enabled) return () => true;
  return (ctx) => {
    const conn = ctx.conn;
    if (!conn) return true;
    const set = profiles();
    if (set.profiles.length < 2) return true;
    // The configuration the connection was made under, as it was then: a reload may have renamed
    // or removed it, and a lookup by name would then find nothing and let every Host through.
    const connProfile = conn.profile;
    const target = profileForHost(set, ctx.host);
    if (!target || clientAuthCovers(connProfile, target)) return true;
    return answered(ctx, 421, `Host "${ctx.host}" belongs to TLS configuration "${target.resolved.name}" (client_auth ${target.resolved.clientAuth}), but the connection was made under "${conn.tlsConfig}" (SNI "${conn.sni ?? ''}", client_auth ${connProfile.resolved.clientAuth}): connect with SNI ${ctx.host}`);
  };
}
