// A listener's errors once it listens (Node emits them on the server: a failed accept, for one).
// Logged, never thrown, and bounded: a fault that repeats per connection writes a few lines.
import type { EventSink } from '../observe/events.js';

export const LISTENER_ERROR_INTERVAL_MS = 10_000;

/**
 * A listener's 'error' handler once it listens: one log line per error code per interval, with the
 * count of the ones held back, so a fault that repeats per connection writes a few lines, not one each.
 */
export function listenerErrorReporter(events: EventSink, listener: 'HTTPS' | 'HTTP', now: () => number = Date.now): (err: Error & { code?: string }) => void {
  const windows = new Map<string, { start: number; heldBack: number }>();
  return (err) => {
    const code = err.code ?? 'unknown';
    const t = now();
    const w = windows.get(code);
    if (w && t - w.start < LISTENER_ERROR_INTERVAL_MS) {
      w.heldBack++;
      return;
    }
    const held = w && w.heldBack > 0 ? ` (${w.heldBack} more since the last line)` : '';
    // Codes come from the OS, a short list; the bound only keeps the table from growing regardless.
    if (w || windows.size < 32) windows.set(code, { start: t, heldBack: 0 });
    events.emit({ kind: 'lifecycle', time: t, level: 'error', message: `${listener} listener error: ${err.message}${held}` });
  };
}
