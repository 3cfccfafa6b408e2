// The forwarded_client_cert mode table of docs/edge-behaviour.md §4 as data. The code below only looks rows up;
// test/headers/modeTable.test.ts walks these same rows against the spec table typed out there.

export const FORWARDED_CLIENT_CERT_MODES = [
  'always_forward_only',
  'forward_only',
  'sanitize_set',
  'forward_only_if_route_service',
] as const;
export type ForwardedClientCertMode = (typeof FORWARDED_CLIENT_CERT_MODES)[number];

/**
 * When the ten client-cert headers a client sent are deleted:
 * never | always | when_no_cert_used (no cert used on this connection) |
 * unless_signature (no `X-Cf-Proxy-Signature` header in the request, even an empty one counts).
 */
export type DeleteRule = 'never' | 'always' | 'when_no_cert_used' | 'unless_signature';

export interface HeaderPolicy {
  readonly delete: DeleteRule;
  /** Set the ten headers from the certificate when a cert was used. */
  readonly set: boolean;
}

export interface ModeTableRow {
  readonly mode: ForwardedClientCertMode;
  /** Client auth on for the TLS configuration; '*' = either. */
  readonly clientAuth: boolean | '*';
  readonly delete: DeleteRule;
  readonly set: boolean;
}

// prettier-ignore
export const MODE_TABLE: readonly ModeTableRow[] = Object.freeze([
  { mode: 'always_forward_only',           clientAuth: '*',   delete: 'never',             set: false },
  { mode: 'forward_only',                  clientAuth: false, delete: 'always',            set: false },
  { mode: 'forward_only',                  clientAuth: true,  delete: 'when_no_cert_used', set: false },
  { mode: 'sanitize_set',                  clientAuth: false, delete: 'always',            set: false },
  { mode: 'sanitize_set',                  clientAuth: true,  delete: 'always',            set: true  },
  { mode: 'forward_only_if_route_service', clientAuth: false, delete: 'unless_signature',  set: false },
  { mode: 'forward_only_if_route_service', clientAuth: true,  delete: 'unless_signature',  set: true  },
] satisfies ModeTableRow[]);

/** Case-insensitive; anything else is a configuration error. */
export function parseForwardedClientCertMode(name: string): ForwardedClientCertMode {
  const lower = String(name).toLowerCase();
  for (const m of FORWARDED_CLIENT_CERT_MODES) if (m === lower) return m;
  throw new Error(
    `invalid forwarded_client_cert mode ${JSON.stringify(name)}: expected one of ${FORWARDED_CLIENT_CERT_MODES.join(', ')}`,
  );
}

// Resolved once at load: headerPolicy() runs per request and returns these shared frozen objects
// (index 0: client auth off, 1: on) without building keys or scanning rows.
const RESOLVED = new Map<ForwardedClientCertMode, readonly [HeaderPolicy, HeaderPolicy]>();
for (const mode of FORWARDED_CLIENT_CERT_MODES) {
  const pick = (on: boolean): HeaderPolicy => {
    const row = MODE_TABLE.find((r) => r.mode === mode && (r.clientAuth === '*' || r.clientAuth === on));
    if (!row) throw new Error(`mode table has no row for ${mode} / client auth ${on}`);
    return Object.freeze({ delete: row.delete, set: row.set });
  };
  RESOLVED.set(mode, [pick(false), pick(true)]);
}

export function headerPolicy(mode: ForwardedClientCertMode, clientAuthOn: boolean): HeaderPolicy {
  const pair = RESOLVED.get(mode);
  if (!pair) throw new Error(`unknown forwarded_client_cert mode ${JSON.stringify(mode)}`);
  return clientAuthOn ? pair[1] : pair[0];
}
