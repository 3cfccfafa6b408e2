// The forwarded_client_cert rules (docs/edge-behaviour.md §4): delete and set the ten headers as the mode table says.
// The plain-HTTP listener applies no rule at all (HAProxy's http frontend has none).
// A TLS configuration with another header dialect (docs/dialects.md) takes
// the dialect's path instead; its values are computed once per certificate as well.
import type { Stage } from '../requestContext.js';
import { applyClientCertPolicy } from '../../headers/h10.js';
import { headerPolicy, type ForwardedClientCertMode } from '../../headers/modeTable.js';
import { connectionDialectValues, connectionH10Values, type ConnectionState } from '../connectionState.js';
import { applyDialect, type DialectWriter } from '../../headers/dialects/dialects.js';
import type { RequestContext } from '../requestContext.js';
import type { TLSSocket } from 'node:tls';
import type { HeaderPair } from '../../observe/events.js';
import { answered } from '../errorPages.js';

export interface ClientCertHeadersOptions {
  readonly mode: ForwardedClientCertMode;
  readonly legacyXfccHeaderMapping: boolean;
}

const NOTHING: readonly never[] = [];

export function clientCertHeaders(opts: ClientCertHeadersOptions): Stage {
  const policyOn = headerPolicy(opts.mode, true);
  const policyOff = headerPolicy(opts.mode, false);
  return (ctx) => {
    const conn = ctx.conn;
    if (!conn) return true;
    if (conn.dialect !== null) return dialectHeaders(ctx, conn, conn.dialect);
    const policy = conn.clientAuthOn ? policyOn : policyOff;
    const values = policy.set && conn.certUsed ? connectionH10Values(conn, ctx.req.socket as TLSSocket) : null;
    const edit = applyClientCertPolicy(ctx.headers, policy, conn.certUsed, values);
    ctx.headers = edit.headers;
    ctx.h10 = { sent: edit.sent, removed: edit.removed, set: edit.set.length ? edit.set : NOTHING };
    return true;
  };
}

/**
 * A byte no HTTP field value may hold (RFC 9110 §5.5): CTLs but HTAB, and DEL. Only Envoy's XFCC can
 * carry one, since Envoy writes URI and DNS SANs as the certificate holds them (an IA5String may hold
 * CR LF); every other value is encoded. Forwarding it would split the header or fail upstream.
 */
const NOT_FIELD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * The first header whose value cannot be sent, or null. Checked once per values list: the lists are
 * cached per certificate and verify code (CertInfo.dialectValues) and frozen, so they key a WeakMap.
 */
const unsendableOf = new WeakMap<readonly HeaderPair[], string | null>();
function unsendableHeader(values: readonly HeaderPair[]): string | null {
  let name = unsendableOf.get(values);
  if (name === undefined) {
    name = values.find(([, v]) => NOT_FIELD_VALUE.test(v))?.[0] ?? null;
    unsendableOf.set(values, name);
  }
  return name;
}

function dialectHeaders(ctx: RequestContext, conn: ConnectionState, dialect: DialectWriter): boolean {
  const action = conn.certUsed ? dialect.actions.used : dialect.actions.none;
  const needsValues = action === 'set' || action === 'append';
  const values = !needsValues ? NOTHING : conn.certUsed ? (connectionDialectValues(conn, dialect) ?? NOTHING) : dialect.noCertValues;
  const unsendable = unsendableHeader(values);
  if (unsendable !== null) {
    // The client's certificate, not the app, is at fault: 400 with the reason, as for a bad request.
    return answered(ctx, 400, `the client certificate gives ${unsendable} a control character (a URI or DNS SAN holding CR, LF or NUL), which no HTTP header may carry`);
  }
  const edit = applyDialect(ctx.headers, dialect, action, values);
  ctx.headers = edit.headers;
  ctx.h10 = { sent: edit.sent, removed: edit.removed, set: edit.set.length ? edit.set : NOTHING };
  return true;
}
