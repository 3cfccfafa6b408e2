// Comparing what a client and the upstream got from real HAProxy and from mtls-edge, shared by the parity suite (parity.test.ts) and the hostile-family parity test (hostileFamily.test.ts).
import type { EchoReply } from '../support/edgeHarness.js';
import { alertOf, describeOutcome, diffLines, normalise, sameLines, type NormalisedRequest, type Outcome, type ParityCase } from './parityCases.js';

// ---------------------------------------------------------------------------------------------
// THE table of known differences between real HAProxy and mtls-edge. A case that differs only in
// one of these ways is reported as a known difference (never counted as identical, never hidden).
// A difference with `versions` holds for those HAProxy versions (major.minor) only; with another
// version the same outcome is an unexpected difference.
export interface Facts {
  /** major.minor of the HAProxy compared with, e.g. `2.6`. */
  readonly version: string;
}
interface Pair {
  /** The request's header set is all the table looks at (the hostile-family test sends clean headers). */
  readonly c: Pick<ParityCase, 'headers'>;
  readonly haproxy: Outcome;
  readonly edge: Outcome;
  /** Normalised upstream requests when both reached the echo (mutable copies for the table's rules). */
  h: NormalisedRequest | null;
  e: NormalisedRequest | null;
}
export interface KnownDifference {
  readonly id: string;
  readonly what: string;
  readonly reason: string;
  /** HAProxy versions (major.minor) this difference is declared for; absent: every version. */
  readonly versions?: readonly string[];
  /** Whether this difference may explain the pair. */
  readonly applies: (p: Pair) => boolean;
  /** Makes both upstream requests comparable (then compared again); absent = `applies` explains the whole pair. */
  readonly reconcile?: (p: Pair) => void;
}

const ROOT_DN = 'x-ssl-client-root-ca-dn';

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'root-ca-dn',
    what: 'X-SSL-Client-Root-CA-DN: HAProxy sets none (the set-header line is left out of its config), mtls-edge sets it',
    reason: 'HAProxy < 2.8 (Debian 12 ships 2.6) has no ssl_c_r_dn sample fetch, so the template line cannot be rendered; the header is not compared there',
    versions: ['2.6'],
    applies: (p) => p.h !== null && p.e !== null,
    reconcile: (p) => {
      const strip = (r: NormalisedRequest): NormalisedRequest => ({ host: r.host, lines: r.lines.filter(([k]) => k !== ROOT_DN) });
      p.h = strip(p.h!);
      p.e = strip(p.e!);
    },
  },
  {
    id: 'oversized-400',
    what: 'request head above the buffer: HAProxy 2.6 answers 400, mtls-edge 431 (a 20 KiB header) or 414 (a 20,000-byte URI)',
    reason: 'HAProxy 2.6 reports every request-buffer overflow as 400 Bad Request; HAProxy 3.2 (the CF job) answers 431 for headers and 414 for a request line that alone overflows the buffer, which mtls-edge follows',
    versions: ['2.6'],
    applies: (p) =>
      p.haproxy.kind === 'http' && p.haproxy.status === 400 && p.edge.kind === 'http' &&
      ((p.c.headers === 'oversized' && p.edge.status === 431) || (p.c.headers === 'long-uri' && p.edge.status === 414)),
  },
  {
    id: 'no-tls-alert',
    what: 'refused client certificate: HAProxy sends the TLS alert (e.g. certificate_expired, unknown_ca), the mtls-edge client sees the connection closed without that alert',
    reason: "mtls-edge lets OpenSSL finish the handshake (rejectUnauthorized off, so ignore lists can be applied) and refuses the certificate afterwards; Node's TLS server cannot send an alert at that point (docs/edge-behaviour.md §10.1; under TLS 1.3 the client has already finished its half). mtls-edge closes the connection and logs the code, name and hint instead. Both clients get no HTTP response",
    applies: (p) => p.haproxy.kind === 'no-http-response' && p.haproxy.alert !== null && p.edge.kind === 'no-http-response' && p.edge.alert === null,
  },
];

/** The differences of `table` declared for this HAProxy version. */
export function knownDifferencesFor(f: Facts, table: readonly KnownDifference[] = KNOWN_DIFFERENCES): KnownDifference[] {
  return table.filter((kd) => !kd.versions || kd.versions.includes(f.version));
}

// ---------------------------------------------------------------------------------------------

export type Verdict = { kind: 'identical' } | { kind: 'known'; ids: string[] } | { kind: 'different'; detail: string };

function equalNow(p: Pair): string | null {
  const { haproxy: a, edge: b } = p;
  if (a.kind !== b.kind) return `client got: haproxy ${describeOutcome(a)}, mtls-edge ${describeOutcome(b)}`;
  if (a.kind === 'no-http-response' && b.kind === 'no-http-response') {
    return a.alert === b.alert ? null : `TLS alert: haproxy ${a.alert ?? `none (${a.error})`}, mtls-edge ${b.alert ?? `none (${b.error})`}`;
  }
  if (a.kind === 'http' && b.kind === 'http') {
    if (a.status !== b.status) return `status: haproxy ${a.status}, mtls-edge ${b.status}`;
    if ((p.h === null) !== (p.e === null)) return `upstream reached: haproxy ${p.h !== null}, mtls-edge ${p.e !== null}`;
    if (p.h && p.e) {
      if (p.h.host.join('\n') !== p.e.host.join('\n')) return `host: haproxy ${JSON.stringify(p.h.host)}, mtls-edge ${JSON.stringify(p.e.host)}`;
      if (!sameLines(p.h.lines, p.e.lines)) return `upstream headers differ:\n${diffLines(p.h.lines, p.e.lines)}`;
    }
  }
  return null;
}

/** Identical, explained by differences of `table` (for this version), or different (with what is left). */
export function compare(c: Pick<ParityCase, 'headers'>, haproxy: Outcome, edge: Outcome, facts: Facts, table: readonly KnownDifference[] = KNOWN_DIFFERENCES): Verdict {
  const p: Pair = {
    c,
    haproxy,
    edge,
    h: haproxy.kind === 'http' && haproxy.upstream ? normalise(haproxy.upstream) : null,
    e: edge.kind === 'http' && edge.upstream ? normalise(edge.upstream) : null,
  };
  const first = equalNow(p);
  if (first === null) return { kind: 'identical' };
  const used: string[] = [];
  for (const kd of knownDifferencesFor(facts, table)) {
    if (!kd.applies(p)) continue;
    if (!kd.reconcile) return { kind: 'known', ids: [...used, kd.id] };
    kd.reconcile(p);
    used.push(kd.id);
    if (equalNow(p) === null) return { kind: 'known', ids: used };
  }
  // Report what is left once every applicable known difference is taken out (the real difference).
  return { kind: 'different', detail: equalNow(p) ?? first };
}

/** What the client got for one request: the HTTP status and echoed upstream headers, or the error and TLS alert. */
export async function outcomeOf(send: () => Promise<EchoReply>): Promise<Outcome> {
  try {
    const r = await send();
    return { kind: 'http', status: r.status, upstream: r.echo ? r.echo.headers : null };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { kind: 'no-http-response', error: err.code ?? err.message, alert: alertOf(err) };
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}
