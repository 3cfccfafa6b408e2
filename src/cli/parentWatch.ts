// --exit-with-parent: the edge ends when the process that started it does, so a CI script (or npm,
// killed) cannot leave it running. Node has no parent-death signal; the parent's PID is polled.
import { isRunning } from './pidFile.js';

const POLL_MS = 250;

/**
 * Calls `onGone` once `parent` (process.ppid read early at start, since a slow start, such as
 * making the dev PKI, may outlive it) has ended; at the first poll if it already has. On Linux and
 * macOS the orphan is adopted at once (by init or a subreaper), even while the dead parent waits to
 * be reaped, so process.ppid changes; Windows does not re-parent, so there the sign is the parent's
 * PID no longer answering.
 */
export function watchParent(parent: number, onGone: () => void): void {
  const timer = setInterval(() => {
    if (process.ppid === parent && isRunning(parent)) return;
    clearInterval(timer);
    onGone();
  }, POLL_MS);
  timer.unref();
}
