// Across TLS configurations that speak different header dialects: the SNI chose the configuration
// whose dialect this connection gets (its headers removed and set; every other dialect's headers
// pass as the client sent them), the Host chooses the app. An app behind a configuration of another
// dialect would get the client's own copies of the headers it trusts (forged X-SSL-Client-* to a cf
// app through an envoy connection, a forged Client-Cert to an rfc9440 app through a cf one), so the
// request gets 421. Always on, whatever disable_client_auth_fronting says: HAProxy, Envoy, nginx and
// Traefik are separate edges, one dialect each, so there is no mixed edge to reproduce.
import { isIP } from 'node:net';
import type { Stage } from '../requestContext.js';
import { profileForHost, type TlsProfile, type TlsProfileSet } from '../../tls/tlsProfiles.js';
import type { DialectName } from '../../headers/dialects/dialects.js';
import { answered } from '../errorPages.js';

function dialectOf(profile: TlsProfile, defaultDialect: DialectName): DialectName {
  return profile.resolved.dialect ?? defaultDialect;
}

/**
 * `connectionDialect`: what the connection was given at its handshake (a reload does not change
 * it); the Host's configuration is read from the set in force now.
 */
/**
 * An IP address is never sent as SNI (RFC 6066 §3): a client connecting to one gets the first TLS
 * configuration, so the advice is a name, not an SNI it cannot send.
 */
function howToConnect(host: string, targetName: string): string {
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) return `a client connecting to an IP address sends no SNI and gets the first TLS configuration: connect by a host name that "${targetName}" lists`;
  return `connect with SNI ${host}`;
}

export function dialectFronting(profiles: () => TlsProfileSet, defaultDialect: DialectName): Stage {
  return (ctx) => {
    const conn = ctx.conn;
    if (!conn) return true;
    const set = profiles();
    const target = profileForHost(set, ctx.host);
    if (!target) return true;
    const want = dialectOf(target, defaultDialect);
    const have = conn.dialect?.dialect ?? 'cf';
    if (want === have) return true;
    return answered(ctx, 421, `Host "${ctx.host}" belongs to TLS configuration "${target.resolved.name}" (dialect ${want}), but the connection was made under "${conn.tlsConfig}" (SNI "${conn.sni ?? ''}", dialect ${have}): its app would get the client's own ${want} headers; ${howToConnect(ctx.host, target.resolved.name)}`);
  };
}
