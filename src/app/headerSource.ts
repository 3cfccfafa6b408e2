// The request headers as the reader sees them, whatever shape the app has: Node's
// IncomingHttpHeaders (req.headers), a fetch-style Headers (get(name)), Node's flat raw list
// ([name, value, name, value, …]) or the request itself (its rawHeaders, which keep every copy).
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_HEADER_COPIES, MAX_HEADER_VALUE_CHARS } from './limits.js';

/** Anything with a fetch-style `get`: the WHATWG Headers class, undici's, a Map-like wrapper. */
export interface HeadersLike {
  get(name: string): string | null | undefined;
}

export type HeaderSource = IncomingHttpHeaders | HeadersLike | readonly string[] | { readonly rawHeaders: readonly string[] };

/** A failure the reader reports as `unreadable` with this message. */
export class ReadError extends Error {}

export interface HeaderView {
  /** Every copy of the header (lower-case name), [] when there is none. Throws ReadError past the limits. */
  all(lowerName: string): string[];
  /** The single value, null when absent; ReadError when it appears more than once. */
  one(lowerName: string): string | null;
}

function checked(name: string, values: string[]): string[] {
  if (values.length > MAX_HEADER_COPIES) throw new ReadError(`${name} appears ${values.length} times (at most ${MAX_HEADER_COPIES})`);
  for (const v of values) {
    if (v.length > MAX_HEADER_VALUE_CHARS) throw new ReadError(`${name} is longer than ${MAX_HEADER_VALUE_CHARS} characters`);
  }
  return values;
}

function fromRaw(raw: readonly unknown[]): (lowerName: string) => string[] {
  return (lowerName) => {
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i];
      const v = raw[i + 1];
      if (typeof k === 'string' && typeof v === 'string' && k.length === lowerName.length && k.toLowerCase() === lowerName) {
        out.push(v);
        if (out.length > MAX_HEADER_COPIES) break;
      }
    }
    return out;
  };
}

function fromRecord(rec: Record<string, unknown>): (lowerName: string) => string[] {
  return (lowerName) => {
    const out: string[] = [];
    // Node gives lower-case keys; an object built by hand may not, so every own key is compared.
    for (const key of Object.keys(rec)) {
      if (key.length !== lowerName.length || key.toLowerCase() !== lowerName) continue;
      const v = rec[key];
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
    }
    return out;
  };
}

/** Throws ReadError when `source` is none of the accepted shapes. */
export function headerView(source: HeaderSource): HeaderView {
  let lookup: (lowerName: string) => string[];
  if (Array.isArray(source)) lookup = fromRaw(source);
  else if (source !== null && typeof source === 'object' && Array.isArray((source as { rawHeaders?: unknown }).rawHeaders)) {
    lookup = fromRaw((source as { rawHeaders: unknown[] }).rawHeaders);
  } else if (source !== null && typeof source === 'object' && typeof (source as { get?: unknown }).get === 'function') {
    const h = source as HeadersLike;
    lookup = (lowerName) => {
      const v = h.get(lowerName);
      return typeof v === 'string' ? [v] : [];
    };
  } else if (source !== null && typeof source === 'object') lookup = fromRecord(source as Record<string, unknown>);
  else throw new ReadError('no headers given (expected req.headers, req.rawHeaders, a Headers object or the request)');
  return {
    all: (lowerName) => checked(lowerName, lookup(lowerName)),
    one: (lowerName) => {
      const values = checked(lowerName, lookup(lowerName));
      if (values.length > 1) throw new ReadError(`${lowerName} appears ${values.length} times; the edge sets it once`);
      return values[0] ?? null;
    },
  };
}
