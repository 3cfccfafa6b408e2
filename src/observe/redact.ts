// Secrets must never leave the process through a log line, a page or an error message. Everything
// the observe layer prints about data it did not build itself goes through these two functions.
// Both are conservative: they would rather hide a harmless value than print a key.

const REDACTED = '[redacted]';

// A PEM private-key block: `-----BEGIN PRIVATE KEY-----`, `… RSA PRIVATE KEY`, `… ENCRYPTED PRIVATE KEY`,
// `… EC PRIVATE KEY`, also when the newlines arrive JSON-escaped (`\n`). An unterminated block (a
// truncated file, a cut log line) is scrubbed to the end of the text.
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)/g;
// `scheme://user:password@host`: keep the user, drop the password.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi;

/**
 * Field names whose values are secret by nature. A path to a key file (`keyFile`, `keyPath`) is not
 * key material and stays readable: it is what a user needs to fix a configuration.
 */
const SENSITIVE_NAME = /(pass(word|phrase|wd)?|secret|private[-_]?key|^key$|^keys$|key[-_]?(pem|material|data|der)|^pfx$|^p12$|pkcs12|^token$|authorization)$/i;

export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

// Credentials a client sends to the app are shown by name only on the flow page: it is for showing
// header flow, and a screenshot or an exported flow must not leak a session or an API key. By name
// pattern, because apps carry their own (X-Api-Key, X-Auth-Token, X-CSRF-Token).
const CREDENTIAL_HEADER = /^(proxy-)?authorization$|^cookie$|token|api[-_]?key|secret|passw|csrf/i;

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}

/** Removes PEM private-key blocks and URL passwords from free text. */
export function scrubText(text: string): string {
  // The cheap test first: almost no log line contains either, and this runs on every line.
  const hasKey = text.includes('PRIVATE KEY');
  const hasAt = text.includes('@') && text.includes('://');
  if (!hasKey && !hasAt) return text;
  let out = text;
  if (hasKey) out = out.replace(PEM_PRIVATE_KEY, (_m, kind: string) => `[redacted ${kind}PRIVATE KEY]`);
  if (hasAt) out = out.replace(URL_PASSWORD, '$1:' + REDACTED + '@');
  return out;
}

/**
 * A copy of `value` that is safe to print: sensitive field names get `[redacted]`, strings are
 * scrubbed, binary data is replaced by its length (a Buffer may be a DER key), Errors become
 * `{ name, message, code, stack }`. Depth and size are bounded so a cyclic or huge object cannot
 * stall the event loop.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  }
  if (depth > 6) return '[\u2026]';
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return {
      name: value.name,
      message: scrubText(value.message),
      ...(code !== undefined ? { code } : {}),
      ...(value.stack ? { stack: scrubText(value.stack) } : {}),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const items = value.length > 200 ? value.slice(0, 200) : value;
    return items.map((v) => redactValue(v, depth + 1));
  }
  // KeyObject and friends: never print their contents.
  if (value.constructor && value.constructor.name === 'KeyObject') return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSensitiveName(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

/** Same as redactValue for a flat field bag; the common case for log calls. */
export function redactFields(fields: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (!fields) return {};
  return redactValue(fields) as Record<string, unknown>;
}
