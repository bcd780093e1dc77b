import { randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
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
  EPIPE: 'the pipe\'s reader went away',
  EEXIST: 'it already exists',
  EBUSY: 'it is busy',
  EIO: 'an input/output error',
  EPROTECTED: 'it now leads (a link put there meanwhile?) to one of the run\'s own files: not written over it',
  ENOTEMPTY: 'the folder is not empty',
};

/** What a file system error means, in words: never the raw Node error (`EACCES: permission denied, open …`). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? (code ? `error ${code}` : String((error as Error)?.message ?? error));
}

/** What a path that is not a regular file is, in words: `a FIFO (named pipe)`, `a folder`… */
export function describeFileKind(stats: Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/**
 * The first and the last `bytes` (at most) of a regular file, and its stats: opened without blocking (a FIFO
 * named like the file sought — a log, a page in a folder — would otherwise wait for a writer, deaf to Ctrl-C
 * and SIGTERM) and checked on the descriptor. Throws for anything else, and Node's file errors. `withTail`
 * false: the head alone (`tail` empty), one read; a file within `bytes` is read once either way.
 */
export function fileEnds(path: string, bytes: number, withTail = true): { head: string; tail: string; stats: Stats } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`it is ${describeFileKind(stats)}, not a file`);
    const length = Math.min(stats.size, bytes);
    const read = (position: number) => {
      const buffer = Buffer.alloc(length);
      return buffer.toString('utf8', 0, readSync(fd, buffer, 0, length, position));
    };
    const head = read(0);
    return { head, tail: !withTail ? '' : length === stats.size ? head : read(stats.size - length), stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * A small regular file, read without ever blocking: `undefined` if nothing is there; anything else — a
 * FIFO, a socket, a device, a folder, a symbolic link — refused before it is opened (opening a FIFO waits
 * for a writer, in the kernel, where no signal reaches the process), and opened without following a link
 * and without blocking, so that one swapped in after the check is refused too. A file larger than
 * `maxBytes` is refused unread, as too large to be `what`. Throws an Error whose message says why in words (never a raw error code);
 * `stats` are those of the file read (its owner and mode, for the caller to judge).
 */
export function readRegularFile(path: string, maxBytes: number, what: string): { text: string; stats: Stats } | undefined {
  const notAFile = (stats: Stats) => new Error(`it is ${describeFileKind(stats)}, not a file${stats.isSymbolicLink() ? ' (a link is not followed here: give the file\'s own path)' : ''}`);
  let fd: number;
  try {
    const stats = lstatSync(path);
    if (!stats.isFile()) throw notAFile(stats);
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw code ? new Error(describeFileError(error)) : error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notAFile(stats);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length;) length += read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new Error(`it is larger than ${sizeInWords(maxBytes)}: too large to be ${what}`);
    return { text: buffer.toString('utf8', 0, length), stats };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code ? new Error(describeFileError(error)) : error;
  } finally {
    closeSync(fd);
  }
}

const sizeInWords = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} bytes`);

/**
 * A file a person names, opened to be read as a stream without ever blocking the process. A FIFO — `--ids
 * <(generate-ids)`, `--filter <(jq …)`, a named pipe — is opened non-blocking and read as the pipe it is,
 * so that waiting for its writer holds no thread (a blocking open(2) held a thread of libuv's pool, deaf to
 * Ctrl-C and SIGTERM, and kept even `exit` waiting). The kernel tells no end of a named pipe that no writer
 * has opened yet, only once one came and went (and an unnamed pipe's writer has come already), so the pipe
 * is read to its writer's end. A device (/dev/stdin on a terminal) is opened again as usual: non-blocking,
 * a terminal's read fails, and opening one does not wait. `signal` destroys the stream: a read under way
 * ends with an AbortError. Throws Node's file errors (ENOENT…) at once; `regularOnly`: an Error saying
 * what it is for anything but a regular file, checked on the opened descriptor (a swap after a check is caught).
 */
export function openInputFile(path: string, signal?: AbortSignal, regularOnly = false): Readable {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let stats: Stats;
  try {
    stats = fstatSync(fd);
    // A reader of many files it did not name one by one (an audit folder): a pipe or a device there is never read.
    if (regularOnly && !stats.isFile()) throw new Error(`it is ${describeFileKind(stats)}, not a file`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let input: Readable;
  if (stats.isFIFO()) input = new Socket({ fd, readable: true, writable: false });
  else if (stats.isFile() || stats.isDirectory()) input = createReadStream(path, { fd });
  else {
    closeSync(fd);
    input = createReadStream(path);
  }
  return signal ? addAbortSignal(signal, input) : input;
}

/**
 * A file a person names (a job spec, a filter), read whole, at most `maxBytes` (a device such as /dev/zero
 * never ends), without ever blocking the process (`openInputFile`); `signal` ends the wait for a pipe's
 * writer (the run stopped), throwing its reason. File errors are thrown as Node's (the caller words them);
 * a file too large is an Error saying so.
 */
export async function readTextFile(path: string, maxBytes: number, what: string, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  const input = openInputFile(path, signal);
  try {
    for await (const chunk of input) {
      chunks.push(chunk as Buffer);
      if ((length += (chunk as Buffer).length) > maxBytes) throw new Error(`it is larger than ${sizeInWords(maxBytes)}: too large to be ${what}`);
    }
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  } finally {
    input.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Replaces the file at `path` with `text` at once: written to a new temporary file beside it (created
 * exclusively, so a planted file or symlink is never written through, with `mode`), then renamed over it.
 * A reader sees the old file or the new one, never half of one; a failure leaves no temporary file behind.
 * Nothing at `path` is followed or written into: a link, a pipe or a device there is replaced by the new
 * file like any other (for a file that holds secrets: a planted FIFO would otherwise block the write and
 * hand its content to whoever reads the pipe). Outputs a person names go through `writeOutputFile`.
 */
export function writeFileAtomically(path: string, text: string, mode: number): void {
  // Beside it as the kernel finds it: join() would collapse a `link/..` by spelling (see physicalPath).
  const temporary = `${dirname(path)}/.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * `path` as the kernel resolves it, where a `..` follows a symbolic link: Node's join, resolve and dirname
 * collapse `link/..` by spelling, the kernel by where the link leads (red team: `--summary-json
 * /dev/fd/../cwd/x.json` passed the checks, which asked the kernel, and its write, through join, went to
 * /dev/cwd: "no such file" at the run's end). As given when the two agree. Throws, saying why, when the
 * part up to the last `..` cannot be resolved (a folder there does not exist yet: a log written through it,
 * by spelling, was then looked for by the kernel elsewhere, and never resumed; red team).
 */
export function physicalPath(path: string): string {
  const parts = path.split('/');
  const last = parts.lastIndexOf('..');
  if (last < 0) return path;
  const real = (end: number) => {
    try {
      return realpathSync.native(parts.slice(0, end).join('/') || '/');
    } catch {
      return undefined;
    }
  };
  const spelt = parts.slice(0, last + 1).join('/') || '/';
  let upTo: string;
  try {
    upTo = realpathSync.native(spelt);
  } catch (error) {
    throw new Error(`its part up to the last "..", ${spelt}, cannot be followed (${describeFileError(error)}): give the path without ".." there`);
  }
  if (upTo === resolve(spelt)) return path;
  // The deepest folder that exists, as the kernel names it (a link through /proc/self/cwd is its folder); the name itself as given.
  for (let end = parts.length - 1; end > last + 1; end--) {
    const folder = real(end);
    if (folder !== undefined) return join(folder, ...parts.slice(end));
  }
  return join(upTo, ...parts.slice(last + 1));
}
