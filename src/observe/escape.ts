// One escaping function per output kind for text a client controls (SNI, Host, path, method, header
// names and values, certificate names, error reasons). Such text must not break a line in two, forge
// a field, colour a terminal or reorder what a reader sees. Unsafe everywhere:
//  - C0 controls U+0000–U+001F, DEL U+007F, C1 controls U+0080–U+009F (U+0085 NEL included);
//  - line and paragraph separators U+2028, U+2029;
//  - bidi controls: embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, and the marks
//    U+200E, U+200F, U+061C.
// Each function shows them as visible escapes in the form its reader expects.

const UNSAFE_CLASS = '\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c';
const UNSAFE = new RegExp(`[${UNSAFE_CLASS}]`);

/** True when `text` holds a character that no output may carry raw. */
export function hasUnsafeChars(text: string): boolean {
  return UNSAFE.test(text);
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

// Text: the backslash is escaped too, so `\x1B` in the output always means the escape was made here.
const TEXT_NEEDS = new RegExp(`[${UNSAFE_CLASS}\\\\]`);
const TEXT_NEEDS_G = new RegExp(`[${UNSAFE_CLASS}\\\\]`, 'g');

/** Plain text (the pretty process log): `\xNN` below U+0100, `\u{NNNN}` above, `\\` for a backslash. */
export function escapeText(text: string): string {
  if (!TEXT_NEEDS.test(text)) return text;
  return text.replace(TEXT_NEEDS_G, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${hex2(code)}` : `\\u{${code.toString(16).toUpperCase()}}`;
  });
}

// JSON.stringify already escapes C0, `"` and `\` inside strings (a raw newline in its output is
// indentation); what it leaves raw (DEL, C1, separators, bidi) can only stand inside a string
// literal, where `\uNNNN` means the same character.
const JSON_LEFTOVER_CLASS = '\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c';
const JSON_LEFTOVER = new RegExp(`[${JSON_LEFTOVER_CLASS}]`);
const JSON_LEFTOVER_G = new RegExp(`[${JSON_LEFTOVER_CLASS}]`, 'g');

/** A JSON text (from JSON.stringify) with every unsafe character as `\uNNNN`: same value, visible bytes. */
export function escapeJsonText(json: string): string {
  if (!JSON_LEFTOVER.test(json)) return json;
  return json.replace(JSON_LEFTOVER_G, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `JSON.stringify` whose output carries no unsafe character raw. */
export function safeJson(value: unknown, space?: number): string {
  return escapeJsonText(JSON.stringify(value, null, space));
}

// Access log, as HAProxy escapes its logs: `#` and two hex digits per byte (UTF-8 for the characters
// above U+007F), for unsafe characters and for `"` (field delimiter), `\` and `#` (the escape itself).
const ACCESS_NEEDS = new RegExp(`[${UNSAFE_CLASS}"\\\\#]`);
const ACCESS_NEEDS_G = new RegExp(`[${UNSAFE_CLASS}"\\\\#]`, 'g');

export function escapeAccessLog(text: string): string {
  if (!ACCESS_NEEDS.test(text)) return text;
  return text.replace(ACCESS_NEEDS_G, (c) => {
    // Below U+0100 the character is the byte the client sent (Node reads request lines as latin1).
    const code = c.charCodeAt(0);
    if (code < 0x100) return `#${hex2(code)}`;
    let out = '';
    for (const b of Buffer.from(c, 'utf8')) out += `#${hex2(b)}`;
    return out;
  });
}
