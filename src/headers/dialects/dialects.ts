// The header dialects a TLS configuration can speak (docs/dialects.md).
// `cf` is the edge's own ten headers and mode table (src/headers/h10.ts, modeTable.ts), untouched;
// every other dialect is a DialectWriter built once per TLS configuration at start or reload.
import type { X509Certificate } from 'node:crypto';
import type { HeaderPair } from '../../observe/events.js';
import type { ClientCertEdit } from '../h10.js';
import { modeActions, type HeaderAction, type ModeActions } from './dialectTable.js';
import { subjectAltNames, type DialectCertFacts } from './certFacts.js';
import { ENVOY_MODE_TABLE, XFCC_HEADER, appendXfcc, envoyHeaderValues, type EnvoyDetail, type EnvoyMode } from './envoy.js';
import { CLIENT_CERT_CHAIN_HEADER, CLIENT_CERT_HEADER, RFC9440_MODE_TABLE, rfc9440HeaderValues } from './rfc9440.js';
import { NGINX_HEADERS, NGINX_MODE_TABLE, nginxHeaderValues } from './nginx.js';
import { TRAEFIK_HEADERS, TRAEFIK_MODE_TABLE, traefikHeaderValues, type TraefikMode } from './traefik.js';

export const DIALECTS = ['cf', 'envoy', 'rfc9440', 'nginx', 'traefik'] as const;
export type DialectName = (typeof DIALECTS)[number];

/** The per-dialect settings of the configuration file (schema.ts: envoy:, rfc9440:, traefik:). */
export interface DialectSettings {
  readonly envoy: { readonly forwardClientCertDetails: EnvoyMode; readonly setCurrentClientCertDetails: readonly EnvoyDetail[] };
  readonly rfc9440: { readonly chain: boolean };
  readonly traefik: { readonly forwardedHeaders: TraefikMode; readonly pem: boolean; readonly info: boolean };
}

export interface DialectWriter {
  readonly dialect: Exclude<DialectName, 'cf'>;
  /** Dialect and mode, as request events name them (in place of the cf forwarded_client_cert mode). */
  readonly label: string;
  /** The headers this dialect owns (spelled as it sets them). */
  readonly headers: readonly string[];
  readonly actions: ModeActions;
  /** The headers for a connection whose certificate was used; computed once per certificate. */
  values(facts: DialectCertFacts): readonly HeaderPair[];
  /** The headers set when no certificate was used (only nginx sets any: X-SSL-Client-Verify: NONE). */
  readonly noCertValues: readonly HeaderPair[];
  /** Envoy's APPEND_FORWARD joins the client's XFCC with its own element instead of replacing it. */
  readonly appendTo: string | null;
  /**
   * Envoy keeps one XFCC entry: its HTTP/1 codec joins repeated lines with "," where the first
   * stood, and a set or append writes that entry in place (at the end when the client sent none).
   */
  readonly coalesce: boolean;
  /** Traefik's forwardedHeaders also strips its names spelled with `_` for `-` (X_Forwarded_Tls_Client_Cert). */
  readonly underscoreAsDash: boolean;
}

/** null for `cf`: the edge's own ten-header path runs. */
export function dialectWriter(dialect: DialectName, settings: DialectSettings, serverCert: X509Certificate): DialectWriter | null {
  switch (dialect) {
    case 'cf':
      return null;
    case 'envoy': {
      const opts = { details: new Set(settings.envoy.setCurrentClientCertDetails), by: subjectAltNames(serverCert).uri };
      return freeze({
        dialect, label: `envoy ${settings.envoy.forwardClientCertDetails}`, headers: [XFCC_HEADER], actions: modeActions(ENVOY_MODE_TABLE, settings.envoy.forwardClientCertDetails),
        values: (facts) => envoyHeaderValues(facts, opts), noCertValues: [], appendTo: XFCC_HEADER, coalesce: true, underscoreAsDash: false,
      });
    }
    case 'rfc9440': {
      const opts = settings.rfc9440;
      return freeze({
        dialect, label: 'rfc9440', headers: [CLIENT_CERT_HEADER, CLIENT_CERT_CHAIN_HEADER], actions: modeActions(RFC9440_MODE_TABLE, 'sanitize_set'),
        values: (facts) => rfc9440HeaderValues(facts, opts), noCertValues: [], appendTo: null, coalesce: false, underscoreAsDash: false,
      });
    }
    case 'nginx':
      return freeze({
        dialect, label: 'nginx', headers: NGINX_HEADERS, actions: modeActions(NGINX_MODE_TABLE, 'proxy_set_header'),
        values: (facts) => nginxHeaderValues(facts), noCertValues: nginxHeaderValues(null), appendTo: null, coalesce: false, underscoreAsDash: false,
      });
    case 'traefik': {
      const opts = settings.traefik;
      // Untrusted: the entry point strips both; insecure: only what the middleware sets replaces the client's.
      const configured = TRAEFIK_HEADERS.filter((_, i) => (i === 0 ? opts.pem : opts.info));
      return freeze({
        dialect, label: `traefik ${opts.forwardedHeaders}`, headers: opts.forwardedHeaders === 'untrusted' ? TRAEFIK_HEADERS : configured, actions: modeActions(TRAEFIK_MODE_TABLE, opts.forwardedHeaders),
        values: (facts) => traefikHeaderValues(facts, opts), noCertValues: [], appendTo: null, coalesce: false,
        underscoreAsDash: opts.forwardedHeaders === 'untrusted',
      });
    }
  }
}

function freeze(w: DialectWriter): DialectWriter {
  return Object.freeze(w);
}

const NONE: HeaderPair[] = Object.freeze([]) as unknown as HeaderPair[];

/**
 * Applies one action of a dialect to a raw header list ([name, value, …]): deletions of the owned
 * names (every copy, any case), then the dialect's values appended at the end (Envoy: in place, see
 * `coalesce`). `values` are the certificate's (or noCertValues). Same result shape as the cf path
 * (applyClientCertPolicy).
 */
export function applyDialect(rawHeaders: readonly string[], writer: DialectWriter, action: HeaderAction, values: readonly HeaderPair[]): ClientCertEdit {
  const owned = ownedNames(writer);
  const total = rawHeaders.length;
  const n = total - (total & 1);
  let hits: number[] | null = null;
  for (let i = 0; i < n; i += 2) {
    const name = rawHeaders[i]!;
    if (!owned.lengths.has(name.length)) continue;
    const lower = name.toLowerCase();
    if (owned.lower.has(writer.underscoreAsDash ? lower.replace(/_/g, '-') : lower)) (hits ??= []).push(i);
  }
  const sent: HeaderPair[] = hits === null ? NONE : hits.map((i) => [rawHeaders[i]!, rawHeaders[i + 1]!] as const);
  if (action === 'keep' && writer.coalesce && hits !== null && hits.length > 1) {
    // Envoy (one owned name): the copies become one line where the first stood, joined with ",".
    const joined = sent.map(([, v]) => v).filter((v) => v.length > 0).join(',');
    const out = withoutCopies(rawHeaders, hits.slice(1));
    out[hits[0]! + 1] = joined;
    return { headers: out, sent, removed: sent.slice(1), set: NONE };
  }
  if (action === 'keep' || (action === 'remove' && hits === null)) return { headers: rawHeaders as string[], sent, removed: NONE, set: NONE };

  let set = action === 'remove' ? NONE : (values as HeaderPair[]);
  if (action === 'append' && writer.appendTo !== null) {
    const target = writer.appendTo.toLowerCase();
    const existing = sent.filter(([name]) => name.toLowerCase() === target).map(([, v]) => v);
    set = values.map(([name, v]): HeaderPair => (name.toLowerCase() === target ? [name, appendXfcc(existing, v)] : [name, v]));
  }
  if (writer.coalesce && hits !== null && set.length === 1) {
    // Envoy writes its one entry in place of the client's first copy, under the client's spelling.
    const out = withoutCopies(rawHeaders, hits.slice(1));
    out[hits[0]! + 1] = set[0]![1];
    return { headers: out, sent, removed: sent, set };
  }
  const out = withoutCopies(rawHeaders, hits ?? []);
  for (const [name, value] of set) out.push(name, value);
  return { headers: out, sent, removed: sent, set };
}

/** A copy of the raw list without the name/value pairs at the given (ascending, even) indexes. */
function withoutCopies(rawHeaders: readonly string[], at: readonly number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const i of at) {
    for (let j = from; j < i; j++) out.push(rawHeaders[j]!);
    from = i + 2;
  }
  for (let j = from; j < rawHeaders.length; j++) out.push(rawHeaders[j]!);
  return out;
}

const OWNED = new WeakMap<DialectWriter, { lower: ReadonlySet<string>; lengths: ReadonlySet<number> }>();
function ownedNames(w: DialectWriter): { lower: ReadonlySet<string>; lengths: ReadonlySet<number> } {
  let o = OWNED.get(w);
  if (!o) {
    o = { lower: new Set(w.headers.map((h) => h.toLowerCase())), lengths: new Set(w.headers.map((h) => h.length)) };
    OWNED.set(w, o);
  }
  return o;
}
