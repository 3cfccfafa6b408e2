// HTML escaping for text that came from a certificate, a client or a configuration file.
import { escapeText } from './escape.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const NEEDS = /[&<>"']/;
const NEEDS_G = /[&<>"']/g;

// Controls, separators and bidi characters cannot be shown (or would reorder the page): they become
// visible escapes, as in the text log. Tab and newline stay (they are layout in a <pre>).
export function escapeHtml(text: string): string {
  const visible = text.includes('\t') || text.includes('\n') ? text.split(/(\t|\n)/).map((p) => (p === '\t' || p === '\n' ? p : escapeText(p))).join('') : escapeText(text);
  return NEEDS.test(visible) ? visible.replace(NEEDS_G, (c) => ESC[c] ?? c) : visible;
}
