// What every non-cf dialect's mode table is made of: for a mode and whether a client certificate
// was used on the connection, one action on the dialect's own headers. Each dialect keeps its table
// as literal rows (envoy.ts, rfc9440.ts, nginx.ts, traefik.ts); test/headers/dialects/ types the
// same tables out as docs/dialects.md shows them.

/** `used`: a certificate was presented and accepted on this connection; `none`: not; `any`: either. */
type CertCondition = 'any' | 'none' | 'used';

/**
 * keep: the client's copies go on unchanged; remove: every copy is taken out; set: every copy is
 * taken out and the edge's values are appended; append: Envoy's APPEND_FORWARD, the client's
 * copies are joined with "," and the edge's element is added after one more ",".
 */
export type HeaderAction = 'keep' | 'remove' | 'set' | 'append';

export interface DialectRow<M extends string> {
  readonly mode: M;
  readonly cert: CertCondition;
  readonly action: HeaderAction;
}

/** The two actions of one mode (no certificate used, certificate used), resolved once at start. */
export interface ModeActions {
  readonly none: HeaderAction;
  readonly used: HeaderAction;
}

/** Looks a mode up in its table; exactly one row must match each case (the tests check every mode). */
export function modeActions<M extends string>(table: readonly DialectRow<M>[], mode: M): ModeActions {
  const pick = (used: boolean): HeaderAction => {
    const rows = table.filter((r) => r.mode === mode && (r.cert === 'any' || r.cert === (used ? 'used' : 'none')));
    if (rows.length !== 1) throw new Error(`mode table has ${rows.length} rows for ${mode} / certificate ${used ? 'used' : 'not used'}`);
    return rows[0]!.action;
  };
  return Object.freeze({ none: pick(false), used: pick(true) });
}
