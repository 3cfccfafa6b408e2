// HTML escaping for text that came from a certificate, a client or a configuration file.
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const NEEDS = /[&<>"']/;
const NEEDS_G = /[&<>"']/g;
// C0 controls (except tab/newline) and DEL cannot be shown; print them as visible escapes instead.
const CONTROL_G = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export function escapeHtml(text: string): string {
  const visible = text.replace(CONTROL_G, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return NEEDS.test(visible) ? visible.replace(NEEDS_G, (c) => ESC[c] ?? c) : visible;
}
