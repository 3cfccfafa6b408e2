// The ten H10 values of one connection, computed once by the edge after the handshake (docs/edge-behaviour.md §6).
// Every value is computed on its own and any failure gives '' for that header only: HAProxy
// sets the header with an empty value when a sample fetch fails, it never omits it.

import type { HeaderPair } from '../observe/events.js';
import { haproxyTime } from './certTime.js';
import { rawCertFields, type RawCertFields } from './certFields.js';
import { H10_SET_ORDER } from './h10.js';
import { firstCnBytes, onelineDnBytes } from './onelineDn.js';

export interface ClientCertFacts {
  /** DER of the client's leaf certificate (e.g. getPeerX509Certificate().raw). */
  leafDer: Uint8Array;
  /** Leaf first, up to the trust root when verified. */
  chainDer: readonly Uint8Array[];
  /** 0, or the OpenSSL verify error that was ignored. */
  verifyCode: number;
  /** From sessionIdFromSessionDer; null when the connection has none. */
  sessionId: Uint8Array | null;
}

export interface ClientCertValueOptions {
  /** Four DN/CN headers as oneline text (control bytes as %XX) instead of base64. */
  legacyXfccHeaderMapping: boolean;
  /** HAProxy's tune.bufsize (default 16,384), the size of the chunk its base64 converter writes into. */
  sampleBytes?: number;
}

/** HAProxy's default tune.bufsize. */
const DEFAULT_SAMPLE_BYTES = 16384;

const HEX_UPPER = '0123456789ABCDEF';

/**
 * Legacy header text for raw DN/CN bytes: one latin1 char per byte, so that Node writes exactly
 * these bytes on the wire (http header strings are latin1). Control bytes 0x00-0x08, 0x0A-0x1F
 * and 0x7F become `%XX` (upper-case hex) so the value stays a valid header value; TAB, printable
 * ASCII and bytes >= 0x80 (UTF-8 / UCS-2 / Latin-1 content) are carried unchanged. '%' itself is
 * not escaped, so the mapping is not reversible when a value already contains "%XX".
 */
export function legacyHeaderText(bytes: Uint8Array): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
      if (i > from) out += latin1(bytes, from, i);
      out += '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 0x0f];
      from = i + 1;
    }
  }
  return from === 0 ? latin1(bytes, 0, bytes.length) : out + latin1(bytes, from, bytes.length);
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * HAProxy's `,base64`: a2base64 (src/base64.c) fails when the encoded length is not below the trash
 * chunk (tune.bufsize), and set-header writes a failed sample as an empty value. Measured with 2.6
 * and 3.2 at 16,384: a 12,285-byte DER gives a 16,380-byte XFCC, 12,286 bytes an empty one.
 */
function base64(bytes: Uint8Array, sampleBytes: number): string {
  if (Math.ceil(bytes.byteLength / 3) * 4 >= sampleBytes) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Runs `f`, mapping any failure (garbage DER, …) to the empty value. */
function orEmpty(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}

function tryFields(der: Uint8Array): RawCertFields | null {
  try {
    return rawCertFields(der);
  } catch {
    return null;
  }
}

/** HAProxy's ssl_c_r_dn: first self-issued certificate of the verified chain, else the last. */
function rootFields(chain: readonly Uint8Array[]): RawCertFields | null {
  let last: RawCertFields | null = null;
  for (const der of chain) {
    const f = tryFields(der);
    if (f?.selfIssued) return f;
    last = f;
  }
  return last;
}

/**
 * Exactly ten pairs, in H10_SET_ORDER, with the spec's header names. The returned array is
 * frozen: the edge keeps it per connection and hands it to applyClientCertPolicy on each request.
 */
export function clientCertHeaderValues(
  facts: ClientCertFacts,
  opts: ClientCertValueOptions,
): HeaderPair[] {
  const leaf = tryFields(facts.leafDer);
  const sampleBytes = opts.sampleBytes ?? DEFAULT_SAMPLE_BYTES;
  // DN/CN bytes → header text, base64 or (legacy) escaped latin1; no bytes at all → ''.
  const text = (bytes: Uint8Array | null): string =>
    bytes === null || bytes.length === 0
      ? ''
      : opts.legacyXfccHeaderMapping
        ? legacyHeaderText(bytes)
        : base64(bytes, sampleBytes);
  const dn = (nameDer: Uint8Array | undefined): string =>
    nameDer === undefined ? '' : orEmpty(() => text(onelineDnBytes(nameDer)));

  const values: string[] = [
    orEmpty(() => (facts.leafDer.length > 0 ? base64(facts.leafDer, sampleBytes) : '')),
    '1',
    orEmpty(() =>
      facts.sessionId === null || facts.sessionId === undefined
        ? ''
        : hexUpper(facts.sessionId),
    ),
    Number.isSafeInteger(facts.verifyCode) ? String(facts.verifyCode) : '',
    leaf ? haproxyTime(leaf.notBefore.tag, leaf.notBefore.text) : '',
    leaf ? haproxyTime(leaf.notAfter.tag, leaf.notAfter.text) : '',
    dn(leaf?.subjectDer),
    leaf ? orEmpty(() => text(firstCnBytes(leaf.subjectDer))) : '',
    dn(leaf?.issuerDer),
    orEmpty(() => dn(rootFields(facts.chainDer ?? [])?.subjectDer)),
  ];
  return Object.freeze(
    H10_SET_ORDER.map((name, i): HeaderPair => Object.freeze([name, values[i]!] as const)),
  ) as HeaderPair[];
}

function hexUpper(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_UPPER[bytes[i]! >> 4]! + HEX_UPPER[bytes[i]! & 0x0f]!;
  return s;
}
