// Applies a HeaderPolicy to one request's raw header list (Node's req.rawHeaders layout:
// [name, value, name, value, …]). Per-request hot path, so:
//   - one scan over the names; a name is only compared when its length is one of the ten
//     lengths and it starts with 'x'/'X', and the comparison is a char loop (no toLowerCase,
//     no regex, no allocation);
//   - when nothing has to change, the input array itself is returned and the result arrays are
//     shared frozen empties: no allocation at all.

import type { HeaderPair } from '../observe/events.js';
import type { HeaderPolicy } from './modeTable.js';

/** The ten client-certificate headers (H10), spelled as in the spec, in the order they are set. */
export const H10_SET_ORDER: readonly string[] = Object.freeze([
  'X-Forwarded-Client-Cert',
  'X-SSL-Client',
  'X-SSL-Client-Session-ID',
  'X-SSL-Client-Verify',
  'X-SSL-Client-NotBefore',
  'X-SSL-Client-NotAfter',
  'X-SSL-Client-Subject-DN',
  'X-SSL-Client-Subject-CN',
  'X-SSL-Client-Issuer-DN',
  'X-SSL-Client-Root-CA-DN',
]);

const ROUTE_SERVICE_SIGNATURE_HEADER = 'X-Cf-Proxy-Signature';

export interface ClientCertEdit {
  /**
   * The new flat raw list: other headers in original order and case, then the set headers.
   * When nothing changed this IS the input array (no copy): copy it before mutating if the
   * original must stay intact.
   */
  headers: string[];
  /** H10 headers as the client sent them (all occurrences, original case and order). */
  sent: HeaderPair[];
  /** The H10 headers taken out of the request (deleted, or replaced by a set). */
  removed: HeaderPair[];
  /** The H10 headers appended (the `values` passed in, in order). */
  set: HeaderPair[];
}

// Shared, frozen: mutating it throws in strict mode rather than corrupting every later request.
const NONE: HeaderPair[] = Object.freeze([]) as unknown as HeaderPair[];

const LOWER_H10 = H10_SET_ORDER.map((n) => n.toLowerCase());
const LOWER_SIGNATURE = ROUTE_SERVICE_SIGNATURE_HEADER.toLowerCase();
const MIN_LEN = Math.min(LOWER_SIGNATURE.length, ...LOWER_H10.map((n) => n.length));
const MAX_LEN = Math.max(LOWER_SIGNATURE.length, ...LOWER_H10.map((n) => n.length));
// Candidates by name length (the ten spread over 5 lengths; 23 chars holds 5 of them).
const BY_LENGTH: (string[] | undefined)[] = [];
for (const n of LOWER_H10) (BY_LENGTH[n.length] ??= []).push(n);

/** ASCII case-insensitive equality against an already lower-case name of equal length. */
function sameLower(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const a = name.charCodeAt(i);
    const b = lower.charCodeAt(i);
    if (a === b) continue;
    // Only A-Z may differ from the lower-case form (and only by 0x20).
    if (a < 0x41 || a > 0x5a || (a | 0x20) !== b) return false;
  }
  return true;
}

const OTHER = 0;
const H10 = 1;
const SIGNATURE = 2;

function classify(name: string): number {
  const len = name.length;
  if (len < MIN_LEN || len > MAX_LEN) return OTHER;
  const c = name.charCodeAt(0);
  if (c !== 0x78 && c !== 0x58) return OTHER; // 'x' / 'X'
  const bucket = BY_LENGTH[len];
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) if (sameLower(name, bucket[i]!)) return H10;
  }
  if (len === LOWER_SIGNATURE.length && sameLower(name, LOWER_SIGNATURE)) return SIGNATURE;
  return OTHER;
}

/** True when `name` is one of the ten (case-insensitive). */
export function isH10HeaderName(name: string): boolean {
  return classify(name) === H10;
}

/**
 * docs/edge-behaviour.md §5: deletions first (only the ten names, every occurrence), then — when the policy sets,
 * a certificate was used and values are given — each of the ten is removed wherever it still is
 * and appended once at the end, in `values` order (which clientCertHeaderValues gives in set
 * order). `values` must be the ten pairs from clientCertHeaderValues.
 */
export function applyClientCertPolicy(
  rawHeaders: readonly string[],
  policy: HeaderPolicy,
  certUsed: boolean,
  values: readonly HeaderPair[] | null,
): ClientCertEdit {
  const total = rawHeaders.length;
  const n = total - (total & 1); // names sit at even indexes; a dangling name is just copied
  let hits: number[] | null = null;
  let signature = false;
  for (let i = 0; i < n; i += 2) {
    const k = classify(rawHeaders[i]!);
    if (k === OTHER) continue;
    if (k === H10) (hits ??= []).push(i);
    else signature = true;
  }

  let deleting: boolean;
  switch (policy.delete) {
    case 'never':
      deleting = false;
      break;
    case 'always':
      deleting = true;
      break;
    case 'when_no_cert_used':
      deleting = !certUsed;
      break;
    case 'unless_signature':
      deleting = !signature;
      break;
  }
  const setting = policy.set && certUsed && values !== null;

  let sent = NONE;
  if (hits !== null) {
    sent = new Array<HeaderPair>(hits.length);
    for (let h = 0; h < hits.length; h++) {
      const i = hits[h]!;
      sent[h] = [rawHeaders[i]!, rawHeaders[i + 1]!];
    }
  }
  // A set replaces every copy of its name, so with `setting` all sent copies go too.
  const removing = hits !== null && (deleting || setting);
  if (!removing && !setting) {
    return { headers: rawHeaders as string[], sent, removed: NONE, set: NONE };
  }

  const out: string[] = [];
  if (removing) {
    let from = 0;
    for (const i of hits!) {
      for (let j = from; j < i; j++) out.push(rawHeaders[j]!);
      from = i + 2;
    }
    for (let j = from; j < total; j++) out.push(rawHeaders[j]!);
  } else {
    for (let j = 0; j < total; j++) out.push(rawHeaders[j]!);
  }
  let set = NONE;
  if (setting) {
    for (const [name, value] of values!) out.push(name, value);
    set = values as HeaderPair[];
  }
  return { headers: out, sent, removed: removing ? sent : NONE, set };
}
