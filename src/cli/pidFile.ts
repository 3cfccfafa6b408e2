// --pid-file: the edge's own PID, for scripts that stop it. npm and npx run the edge under `sh -c`;
// a shell that does not exec its command (dash, /bin/sh on Debian and Ubuntu) dies on the SIGTERM
// npm passes on and leaves the edge running, so a script must signal the edge itself.
import { accessSync, chmodSync, constants, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from './cliError.js';

/** Whether a process with this PID exists (EPERM: it does, owned by someone else). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Before anything starts: refuses a pid file that names a running process (another edge, most
 * likely, which would hold the ports) or holds something other than a PID (not ours to overwrite),
 * and a folder it cannot be written to. A file naming a process that is gone (a SIGKILLed edge) is
 * replaced once this edge is ready.
 */
export function checkPidFile(path: string): void {
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`--pid-file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'}): choose another path`, 2);
  }
  if (text !== null) {
    if (!/^\d+\s*$/.test(text)) throw new CliError(`--pid-file ${path}: the file exists and does not hold a PID: remove it or choose another path`, 2);
    const pid = Number(text.trim());
    if (pid !== process.pid && isRunning(pid)) {
      throw new CliError(`--pid-file ${path}: process ${pid} named there is running (another edge?): stop it (kill ${pid}) or choose another file`, 1);
    }
  }
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new CliError(`--pid-file ${path}: cannot write to the folder ${dirname(path)} (${(e as NodeJS.ErrnoException).code ?? 'error'}): create it or choose another path`, 2);
  }
}

/**
 * Once ready: writes this process's PID (through a temporary file and a rename, so a reader never
 * sees it half written), readable by all (0644: a PID is no secret). Whenever the process exits by
 * itself (a clean stop, or a failure) the file goes, if it still names this process.
 */
export function writePidFile(path: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o644 });
  chmodSync(temporary, 0o644); // the umask may have taken bits away
  renameSync(temporary, path);
  process.once('exit', () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
    } catch {
      // Already gone, or replaced by another process's file: nothing of ours to remove.
    }
  });
}
