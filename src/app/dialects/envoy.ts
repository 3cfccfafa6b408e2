// Envoy's x-forwarded-client-cert (envoyproxy.io, HTTP header manipulation, x-forwarded-client-cert):
// comma-separated elements, one per proxy; each element `Key=value;Key=value`, keys case-insensitive,
// a value containing `,`, `;` or `=` double-quoted with `\"` for a quote. Keys: By, Hash (hex SHA-256
// of the client certificate's DER), Cert (URL-encoded PEM), Chain (URL-encoded PEM, leaf included),
// Subject, URI, DNS.
// Envoy itself quotes only Cert, Chain and Subject: By, URI and DNS go out as the certificates hold
// them, `,` `;` `=` included (envoyproxy/envoy#32945), and a URI SAN is the client's text. So a
// client whose certificate has the URI SAN `x,Hash=…;Cert="<someone else's PEM>"` makes Envoy write
// an element that reads as two, the second naming a certificate never presented. No element after
// the edge's own can be trusted, and under append_forward the client writes the ones before it.
// The reader therefore takes the edge's element by position, as the app's setup fixes it
// (ReadOptions.envoyElement), and refuses an element whose keys are not in the order Envoy writes
// them (a `;Cert=` or `;Chain=` after URI= came from a SAN).
import { createHash } from 'node:crypto';
import { clientCertificate } from '../certificate.js';
import { pemCertificates, percentDecode } from '../codecs.js';
import { ReadError, type HeaderView } from '../headerSource.js';
import { MAX_XFCC_ELEMENTS, MAX_XFCC_PAIRS } from '../limits.js';
import { absent, type ClientCertResult } from '../result.js';
import { isEnvoyXfcc } from './cf.js';

const XFCC = 'x-forwarded-client-cert';

type Pair = readonly [key: string, value: string];

/**
 * Where an unquoted value ends: a `;` or `,` followed by a key Envoy writes. Any other `;` or `,` is
 * part of the value, as in a URI SAN `tag:microsoft.com,2022-09-14:sid:…` or a By= of the same kind,
 * which Envoy writes unquoted.
 */
const UNQUOTED_END = /[;,](?=[ \t]*(?:by|hash|cert|chain|subject|uri|dns)=)/i;

/**
 * Envoy always quotes Cert and Chain. An unquoted one can only come from a URI or DNS SAN that holds
 * `,Hash=…;Cert=…` (a valid URI): Envoy writes it unquoted after the real Cert, and as the last
 * element it would name a certificate the client never presented.
 */
const QUOTED_ONLY = new Set(['cert', 'chain']);

/** Splits the header into elements of (lower-case key, unquoted value) pairs. */
export function parseXfcc(value: string): Pair[][] {
  const elements: Pair[][] = [];
  let pairs: Pair[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    const eq = value.indexOf('=', i);
    if (eq < 0) throw new ReadError('X-Forwarded-Client-Cert: a pair without "="');
    const key = value.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z]+$/.test(key)) throw new ReadError('X-Forwarded-Client-Cert: a key that is not a word');
    i = eq + 1;
    let v = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new ReadError('X-Forwarded-Client-Cert: an unterminated quoted value');
        const c = value[i]!;
        if (c === '\\' && i + 1 < n) {
          v += value[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
    } else {
      if (QUOTED_ONLY.has(key)) throw new ReadError(`X-Forwarded-Client-Cert: ${key === 'cert' ? 'Cert' : 'Chain'} is not quoted, as Envoy writes it`);
      const end = value.slice(i).search(UNQUOTED_END);
      v = (end < 0 ? value.slice(i) : value.slice(i, i + end)).trim();
      i = end < 0 ? n : i + end;
    }
    pairs.push([key, v]);
    if (pairs.length > MAX_XFCC_PAIRS) throw new ReadError(`X-Forwarded-Client-Cert: more than ${MAX_XFCC_PAIRS} pairs in an element`);
    while (i < n && value[i] === ' ') i++;
    if (i >= n) break;
    const sep = value[i];
    i++;
    if (sep === ',') {
      elements.push(pairs);
      pairs = [];
      if (elements.length >= MAX_XFCC_ELEMENTS) throw new ReadError(`X-Forwarded-Client-Cert: more than ${MAX_XFCC_ELEMENTS} elements`);
    } else if (sep !== ';') throw new ReadError('X-Forwarded-Client-Cert: text after a quoted value');
  }
  elements.push(pairs);
  return elements;
}

/** Envoy's key order in an element (conn_manager_utility.cc): By*, Hash, Cert, Chain, Subject, URI*, DNS*. */
const KEY_RANK: Readonly<Record<string, number>> = { by: 0, hash: 1, cert: 2, chain: 3, subject: 4, uri: 5, dns: 6 };
const REPEATABLE = new Set(['by', 'uri', 'dns']);

/** Which element of the header the edge set (docs/app-reader.md, "envoy: which element"). */
export const ENVOY_ELEMENTS = ['only', 'first'] as const;
export type EnvoyElement = (typeof ENVOY_ELEMENTS)[number];

function checkKeyOrder(element: readonly Pair[]): void {
  let last = -1;
  for (const [key] of element) {
    const rank = KEY_RANK[key];
    if (rank === undefined) throw new ReadError('X-Forwarded-Client-Cert: a key Envoy does not write');
    if (rank < last || (rank === last && !REPEATABLE.has(key))) {
      throw new ReadError('X-Forwarded-Client-Cert: keys out of the order Envoy writes them (a URI or DNS SAN holding ";Key=")');
    }
    last = rank;
  }
}

export function looksLikeEnvoy(h: HeaderView): boolean {
  return h.all(XFCC).some(isEnvoyXfcc);
}

export function readEnvoy(h: HeaderView, which: EnvoyElement): ClientCertResult {
  const values = h.all(XFCC);
  if (values.length === 0) return absent('envoy', 'no x-forwarded-client-cert header: the client sent no certificate');
  // Several copies are one list (RFC 9110 §5.3).
  const elements = parseXfcc(values.join(','));
  if (which === 'only' && elements.length > 1) {
    throw new ReadError(
      `X-Forwarded-Client-Cert holds ${elements.length} elements, not the one an edge with sanitize_set writes: ` +
        'a URI or DNS SAN holding ",Key=" makes more, and so does a proxy after the edge (Istio\'s sidecar); ' +
        "behind such a proxy read with envoyElement: 'first'",
    );
  }
  const element = elements[0]!;
  checkKeyOrder(element);
  const get = (key: string): string | null => {
    const found = element.filter(([k]) => k === key);
    if (found.length > 1) throw new ReadError(`X-Forwarded-Client-Cert: ${key} appears twice in the element`);
    return found[0]?.[1] ?? null;
  };
  const cert = get('cert');
  const chain = get('chain');
  const hash = get('hash');
  if (cert === null && chain === null) {
    throw new ReadError('X-Forwarded-Client-Cert carries no Cert or Chain: set set_current_client_cert_details cert: true (and chain: true) on the edge');
  }
  const chainDers = chain === null ? [] : pemCertificates(percentDecode(chain, 'X-Forwarded-Client-Cert Chain'), 'X-Forwarded-Client-Cert Chain');
  const leaf = cert === null ? chainDers[0]! : pemCertificates(percentDecode(cert, 'X-Forwarded-Client-Cert Cert'), 'X-Forwarded-Client-Cert Cert')[0]!;
  if (chainDers.length > 0 && !chainDers[0]!.equals(leaf)) throw new ReadError('X-Forwarded-Client-Cert: Chain does not start with the Cert');
  if (hash !== null && createHash('sha256').update(leaf).digest('hex') !== hash.toLowerCase()) {
    throw new ReadError('X-Forwarded-Client-Cert: Hash is not the SHA-256 of the Cert');
  }
  const certificate = clientCertificate([leaf, ...chainDers.slice(1)]);
  return { status: 'verified', verified: true, dialect: 'envoy', basis: 'presence', certificate };
}
