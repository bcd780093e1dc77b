import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { usageError } from './errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'file too large (the file size limit was reached)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  ENXIO: 'it is a pipe or device nobody reads',
  EEXIST: 'it already exists',
  EBUSY: 'it is busy',
  EIO: 'an input/output error',
};

/** What a file system error means, in words: never the raw Node error (`EACCES: permission denied, open …`). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? (code ? `error ${code}` : String((error as Error)?.message ?? error));
}

/**
 * Checks before the first request that an output file can be written, creating its folder if needed:
 * an existing file must be writable and not a folder; a new one needs a writable folder. Refused with
 * exit 2 and a sentence naming `what`, the path and the `consequence`. Nothing is written to the file itself.
 */
export function prepareOutputFile(path: string, what: string, consequence = 'nothing was sent'): void {
  const refuse = (reason: string) => usageError(`${what} ${path}: ${reason}; ${consequence}`);
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(describeFileError(error));
  }
  if (stats?.isDirectory()) throw refuse('it is a folder, not a file');
  try {
    if (stats) closeSync(openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK));
    else {
      mkdirSync(dirname(path), { recursive: true });
      accessSync(dirname(path), constants.W_OK);
    }
  } catch (error) {
    const folder = !stats && (error as NodeJS.ErrnoException).path !== path ? ` (the folder ${(error as NodeJS.ErrnoException).path ?? dirname(path)})` : '';
    throw refuse(`${describeFileError(error)}${folder}`);
  }
}

/**
 * Replaces `path` with `text` at once: written to a new temporary file beside it (created exclusively, so
 * a planted file or symlink is never written through, with `mode`), then renamed over it. A reader sees
 * the old file or the new one, never half of one; a failure leaves no temporary file behind. A symlink
 * is followed (the file it points to is replaced, the link kept); a path that is not a regular file — a
 * device such as /dev/stdout or /dev/null, a pipe — is written in place: renaming over it would replace
 * the device itself (as root, for every process on the machine).
 */
export function writeFileAtomically(path: string, text: string, mode: number): void {
  let target = path;
  try {
    target = realpathSync(path);
    if (!statSync(target).isFile()) {
      writeFileSync(target, text);
      return;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
