// --pid-file: the edge's own PID, for scripts that stop it. npm and npx run the edge under `sh -c`;
// a shell that does not exec its command (dash, /bin/sh on Debian and Ubuntu) dies on the SIGTERM
// npm passes on and leaves the edge running, so a script must signal the edge itself.
// The file often sits in a shared folder (a CI workspace, /tmp): every access refuses to follow a
// symlink planted there, so the edge never writes, chmods or removes a file it was pointed at.
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
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
 * Whether the running process `pid` is an mtls-edge: one of its arguments is the CLI (`mtls-edge`,
 * `bin/mtls-edge.js`). PIDs come back (containers, CI runners restarted from a cache), so a live
 * PID alone says nothing. Null where /proc cannot tell (macOS, Windows, a process gone meanwhile).
 */
function isEdgeProcess(pid: number): boolean | null {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  return cmdline.split('\0').some((arg) => /^mtls-edge(\.js)?$/.test(basename(arg)));
}

const errorCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'error';

/** The text of the regular file at `path`, never through a symlink; null if there is none. */
function readRegularFile(path: string, refuse: (why: string) => never): string | null {
  let fd: number;
  try {
    // O_NOFOLLOW: open fails (ELOOP) on a symlink. Windows has no such flag (and no symlink attack by unprivileged users).
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    if (errorCode(e) === 'ELOOP' || lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) refuse('is a symlink; the edge writes only a file of its own: remove the link or choose another path');
    refuse(`cannot read it (${errorCode(e)}): choose another path`);
  }
  try {
    if (fstatSync(fd).isDirectory()) refuse('is a folder: --pid-file needs a file path (e.g. --pid-file edge.pid)');
    if (!fstatSync(fd).isFile()) refuse('is not a regular file: choose another path');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Before anything starts: refuses a pid file that names a running mtls-edge (which would hold the
 * ports) or holds something other than a PID (not ours to overwrite), a symlink, and a folder it
 * cannot be written to. A file naming a process that is gone (a SIGKILLed edge), or on Linux one
 * that is not an edge (the PID was reused), is replaced once this edge is ready.
 */
export function checkPidFile(path: string): void {
  const refuse = (why: string, exitCode = 2): never => {
    throw new CliError(`--pid-file ${path}: ${why}`, exitCode);
  };
  const text = readRegularFile(path, refuse);
  if (text !== null) {
    if (!/^\d+\s*$/.test(text)) refuse('the file exists and does not hold a PID: remove it or choose another path');
    const pid = Number(text.trim());
    if (pid !== process.pid && isRunning(pid)) {
      const edge = isEdgeProcess(pid);
      if (edge === true) refuse(`process ${pid} named there is running (another mtls-edge): stop it (kill ${pid}) or choose another file`, 1);
      // Without /proc the process cannot be told apart from an unrelated one that got the PID again.
      if (edge === null) refuse(`process ${pid} named there is running: if it is another edge, stop it (kill ${pid}); if it is not (the PID was reused), remove the file (rm ${path}); or choose another file`, 1);
    }
  }
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    refuse(`cannot write to the folder ${dirname(path)} (${errorCode(e)}): create it or choose another path`);
  }
}

/**
 * Once ready: writes this process's PID, readable by all (0644: a PID is no secret), through a new
 * temporary file with an unguessable name (created exclusively: no planted file or symlink is ever
 * opened) renamed over the path, so a reader never sees it half written. Whenever the process
 * exits by itself (a clean stop, or a failure) the file goes, if it is still a file naming this process.
 */
export function writePidFile(path: string): void {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o644);
  try {
    writeSync(fd, `${process.pid}\n`);
    fchmodSync(fd, 0o644); // the umask may have taken bits away
  } catch (e) {
    closeSync(fd);
    unlinkSync(temporary);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (e) {
    unlinkSync(temporary);
    throw e;
  }
  process.once('exit', () => {
    try {
      const ours = readRegularFile(path, (why) => {
        throw new Error(why);
      });
      if (ours?.trim() === String(process.pid)) unlinkSync(path);
    } catch {
      // Already gone, or replaced by something else: nothing of ours to remove.
    }
  });
}
