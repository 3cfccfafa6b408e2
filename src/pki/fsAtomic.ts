// Writes that never leave a half-written file behind: data goes to a sibling temp file first and is
// renamed into place, so a reader sees the old content or the new, never a mix.
import { randomBytes } from 'node:crypto';
import { access, chmod, copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Mode for private keys and keystores. */
export const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * `overwrite: false` refuses an existing `path` (EEXIST) at the moment of publishing: the temp file is
 * hard-linked into place, which fails instead of replacing, so no check-then-write race can clobber it.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number = PUBLIC_MODE, opts: { overwrite?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // The mode is set at creation so a private key is never readable by others, not even briefly.
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode); // umask may have narrowed it; make it exact
    if (opts.overwrite === false) {
      await publishExclusive(tmp, path);
      await rm(tmp, { force: true });
    } else await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Hard link where the file system has them; else an exclusive copy (FAT, some network shares). */
async function publishExclusive(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
    await copyFile(tmp, path, constants.COPYFILE_EXCL);
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export async function allExist(paths: readonly string[]): Promise<boolean> {
  const found = await Promise.all(paths.map(exists));
  return found.every(Boolean);
}
