// The forwarded_client_cert rules (docs/edge-behaviour.md §4): delete and set the ten headers as the mode table says.
// The plain-HTTP listener applies no rule at all (HAProxy's http frontend has none).
import type { Stage } from '../requestContext.js';
import { applyClientCertPolicy } from '../../headers/h10.js';
import { headerPolicy, type ForwardedClientCertMode } from '../../headers/modeTable.js';
import { connectionH10Values } from '../connectionState.js';
import type { TLSSocket } from 'node:tls';

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
    const policy = conn.clientAuthOn ? policyOn : policyOff;
    const values = policy.set && conn.certUsed ? connectionH10Values(conn, ctx.req.socket as TLSSocket) : null;
    const edit = applyClientCertPolicy(ctx.headers, policy, conn.certUsed, values);
    ctx.headers = edit.headers;
    ctx.h10 = { sent: edit.sent, removed: edit.removed, set: edit.set.length ? edit.set : NOTHING };
    return true;
  };
}
