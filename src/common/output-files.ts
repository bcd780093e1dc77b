import { accessSync, closeSync, constants, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, realpathSync, statfsSync, statSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { humanDuration } from './durations.js';
import { descriptorAt, handedDown, writable } from './descriptors.js';
import { usageError } from './errors.js';
import { describeFileError, fileEnds, readRegularFile, writeFileAtomically } from './files.js';
import { refuse, refuseProtected } from './protected-files.js';

// Writing the outputs a person names (a summary, a report, the metrics), and what such a path names beyond a
// plain file — a process's file descriptor, another run's audit log — checked before a run (guards/file-roles) and at every write.

/** `--ids -` is standard input; an output named `-` would be a file of that name (red team: one was written): refused. */
export function refuseDash(path: string, what: string, consequence: string): void {
  if (path === '-') throw usageError(`${what} -: an output is a file: for standard output, give /dev/stdout; ${consequence}`);
}

/**
 * Checks before the first request that an output file can be written, creating its folder if needed:
 * an existing file must be writable and not a folder; a new one needs a writable folder. Refused with
 * exit 2 and a sentence naming `what`, the path and the `consequence`. Nothing is written to the file itself.
 */
export function prepareOutputFile(path: string, what: string, consequence = 'nothing was sent'): void {
  const refuse = (reason: string) => usageError(`${what} ${path}: ${reason}; ${consequence}`);
  refuseDash(path, what, consequence);
  // A descriptor handed down (/dev/stdout > out.txt, as another user) is written through it: checked through it too, never opened again.
  const descriptor = descriptorAt(path);
  if (descriptor?.own && handedDown(descriptor.fd)) {
    if (!writable(descriptor.fd)) throw refuse(`file descriptor ${descriptor.fd} is not open for writing`);
    return;
  }
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(describeFileError(error));
  }
  if (stats?.isDirectory()) throw refuse('it is a folder, not a file');
  const kernel = kernelFileSystem(path);
  if (kernel) throw refuse(`a file of the kernel's (${kernel}), not a place for an output`);
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
 * The kernel's own file system that `path` (through links), or the nearest folder above it that exists, is
 * on, if it is: /proc and /sys hold settings and process state, which root may open for writing (red team:
 * `--summary-json /proc/self/status` passed the check and failed at the run's end, "no such file"), and
 * where Node 20's recursive mkdir of a missing folder spins for ever, deaf to signals (/proc/self/x/y.json:
 * mkdir says EEXIST, then ENOENT, again and again). A descriptor of this process's is checked before this.
 */
function kernelFileSystem(path: string): string | undefined {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    // By what it is, and by where it is: /sys/fs/cgroup may be a tmpfs under /sys (a mkdir there makes a cgroup).
    const real = realpathSync.native(at);
    const under = ['/proc', '/sys'].find((root) => real === root || real.startsWith(`${root}/`));
    return KERNEL_FILE_SYSTEMS.get(statfsSync(at).type) ?? (under ? `under ${under}` : undefined);
  } catch {
    return undefined;
  }
}

/** The kernel's own file systems, by statfs magic (linux/magic.h). */
const KERNEL_FILE_SYSTEMS = new Map([
  [0x9fa0, 'procfs, /proc'], [0x62656572, 'sysfs, /sys'], [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x27e0eb, 'cgroupfs'],
  [0x63677270, 'cgroup2fs'], [0x73636673, 'securityfs'], [0x62656570, 'configfs'], [0x42494e4d, 'binfmt_misc'], [0xcafe4a11, 'bpf'],
  [0xde5e81e4, 'efivarfs'], [0x6165676c, 'pstore'], [0xf97cff8c, 'selinuxfs'], [0x19800202, 'mqueue'], [0x65735543, 'fusectl'],
]);

/** A run's lock (audit/run-lock: a file naming its holder's runId); not the token cache's lock, a folder that comes and goes as runs share it. */
function isRunLock(path: string): boolean {
  try {
    return readRegularFile(path, 4096, 'a lock file')?.text.includes('"runId"') === true;
  } catch {
    return false;
  }
}

/**
 * Whether `path` is a record of a run of this tool: a regular file whose first line is a run.start, or a
 * log with its lock beside it (a run that has just created both). An output never replaces one.
 */
export function holdsAuditLog(path: string): boolean {
  try {
    const { head } = fileEnds(path, 4096, false); // a regular file only, read without blocking (never a FIFO's wait)
    return /^\{[^\n]*"event":"run\.start"/.test(head) || isRunLock(`${realpathSync.native(path)}.lock`);
  } catch {
    return false; // not there, not a file, or unreadable: the output check (prepareOutputFile) says what is wrong with it
  }
}

/**
 * `data` written through descriptor `fd` in the thread pool (a blocking pipe waits there, never on the main
 * thread); a non-blocking one (Node makes stdout's so) full for now is tried again every PIPE_RETRY_MS. Given
 * up after PIPE_WRITE_BOUND_MS, or on `signal`.
 */
async function writeThrough(fd: number, data: Buffer, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + PIPE_WRITE_BOUND_MS;
  let written = 0;
  const writing = (async () => {
    while (written < data.length) {
      try {
        written += (await promisify(write)(fd, data, written, data.length - written, null)).bytesWritten;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (Date.now() >= deadline) throw writtenInPart(written, data.length);
        await delay(PIPE_RETRY_MS, undefined, { signal });
      }
    }
  })();
  const given = new AbortController();
  const bound = delay(deadline - Date.now() + PIPE_RETRY_MS, undefined, { signal: signal ? AbortSignal.any([signal, given.signal]) : given.signal, ref: false }).then(() => {
    throw writtenInPart(written, data.length);
  });
  // Whichever settles last is settled by nobody else: never an unhandled rejection.
  writing.catch(() => undefined);
  bound.catch(() => undefined);
  try {
    await Promise.race([writing, bound]);
  } finally {
    given.abort();
  }
}

/** A pipe's reader has this long to take an output in all; then the write gives up (the run goes on). */
const PIPE_WRITE_BOUND_MS = 3000;
const PIPE_RETRY_MS = 10;
const writtenInPart = (written: number, total: number) => new Error(`its reader took ${written} of ${total} bytes in ${humanDuration(PIPE_WRITE_BOUND_MS)}: written in part`);

/**
 * Writes an output a person named (a summary, a report, the metrics) without ever blocking the process. A
 * regular file (or a new one) is replaced at once (`writeFileAtomically`), a symlink followed: the file it
 * points to is replaced, the link kept. Anything else — a device such as /dev/stdout or /dev/null, a pipe —
 * is written in place (renaming over it would replace the device itself, as root for every process on the
 * machine), opened non-blocking: a FIFO that nobody reads is ENXIO at once, where a blocking open(2) waited
 * for a reader forever, deaf to SIGTERM; a reader that does not keep up has `PIPE_WRITE_BOUND_MS` to take it
 * all, the event loop running meanwhile. `append` (the job's step summary) appends, to a file too. A
 * regular file is written before this returns; `signal` ends the wait for a pipe's reader, with its reason.
 */
export async function writeOutputFile(path: string, text: string, options: { mode?: number; append?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const { mode = 0o644, append = false, signal } = options;
  refuseProtected(path);
  // Named since the checks before the run, by a run started meanwhile (its --audit-log) or a link planted: another run's record is never written over.
  if (holdsAuditLog(path)) throw new Error('it is now an audit log of this tool (the record of a run): an output never replaces one');
  const descriptor = descriptorAt(path);
  if (descriptor) return writeToDescriptor(path, descriptor, text, signal);
  if (append) return writeInPlace(path, constants.O_APPEND | constants.O_CREAT, mode, text, signal, false);
  const target = regularFileAt(path);
  if (target === undefined) return writeInPlace(path, constants.O_CREAT, mode, text, signal, true);
  // The file the rename replaces, resolved once and checked again: a link swapped in at `path` between the
  // check above and the resolution (a race a planted link won) is refused here; one swapped in at `target`
  // after this is replaced by the rename, never followed.
  refuseProtected(target);
  writeFileAtomically(target, text, mode);
}

/**
 * Whether `writeOutputFile` replaces the file at `path` (a regular file, or nothing yet) rather than writing
 * into a stream (a pipe, a device, a file descriptor such as /dev/stdout): a stream's reader gets each write.
 */
export function replacesFile(path: string): boolean {
  if (descriptorAt(path)) return false;
  try {
    return regularFileAt(path) !== undefined;
  } catch {
    return true; // a stat that fails: the write will say why
  }
}

/**
 * A file descriptor's stream (/dev/stdout, /dev/fd/N): this process's own, when it leads to a file (a shell's
 * `> out.txt`), is written through the descriptor itself, at its place — after what was printed there, and
 * before what is printed next (opened again, the file would be written from its start, or emptied). Anything
 * else (a pipe, a terminal, another process's descriptor) is opened and written in place, never emptied.
 */
async function writeToDescriptor(path: string, descriptor: { fd: number; own: boolean }, text: string, signal: AbortSignal | undefined): Promise<void> {
  const opened = descriptor.own ? fstatSync(descriptor.fd) : undefined;
  if (!opened?.isFile()) {
    // Opened again, non-blocking (a pipe's slow reader never blocks the process); one of the caller's that
    // cannot be opened again (a socket, as Node's child processes get: ENXIO; a pipe of another user's: EACCES)
    // is written through the descriptor itself, off the main thread, for as long as a pipe's reader is given.
    // Appended: another process's descriptor that leads to a file was written from its start (red team).
    return writeInPlace(path, constants.O_APPEND, 0o644, text, signal, false).catch(async (error: NodeJS.ErrnoException) => {
      if (!descriptor.own || !['EACCES', 'EPERM', 'ENXIO'].includes(error.code ?? '')) throw error;
      await writeThrough(descriptor.fd, Buffer.from(text), signal);
    });
  }
  refuse(path, opened);
  const data = Buffer.from(text);
  for (let written = 0; written < data.length;) written += writeSync(descriptor.fd, data, written);
}

/**
 * The regular file at `path` (where a link points), or `path` when nothing is there; undefined for
 * anything else. Judged by stat, not by realpath: /dev/stdout on a pipe resolves to no path at all
 * (`/proc/…/fd/pipe:[…]`), which was taken for a missing file and renamed over — /dev/stdout itself.
 */
function regularFileAt(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? realpathSync.native(path) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return path;
  }
}

/** Written where it is opened; checked on the descriptor (what was opened is what is written), then emptied if `truncate`. */
async function writeInPlace(path: string, flags: number, mode: number, text: string, signal: AbortSignal | undefined, truncate: boolean): Promise<void> {
  const fd = openSync(path, flags | constants.O_WRONLY | constants.O_NONBLOCK, mode);
  try {
    const opened = fstatSync(fd);
    refuse(path, opened);
    if (truncate && opened.isFile()) ftruncateSync(fd, 0);
    const data = Buffer.from(text);
    const deadline = Date.now() + PIPE_WRITE_BOUND_MS;
    for (let written = 0; written < data.length;) {
      try {
        written += writeSync(fd, data, written);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (Date.now() >= deadline) throw writtenInPart(written, data.length);
        await delay(PIPE_RETRY_MS, undefined, { signal }).catch(() => signal?.throwIfAborted());
      }
    }
  } finally {
    closeSync(fd);
  }
}
