import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';

/**
 * The files of this process's own that no output may replace, by device and inode (the audit log, its
 * lock, the input): checked again at the moment an output is written, on the file the write reaches,
 * because a link planted at an output's path while a run goes on (the start-up check long past) would
 * otherwise redirect it. Each is held open, read-only, for the rest of the process, so that its inode
 * cannot pass to another file while it is protected: a run's lock is deleted as the run ends, and ext4
 * gave its inode to the next run's metrics file in the same process (an --auto-resume night; the in-process
 * tests), which was then refused. (Birth times would not tell them apart: without statx, in some sandboxes,
 * Node reports the change time as the birth time, and every append changes it.)
 */
const PROTECTED = new Map<string, string>();
const key = (stats: Pick<Stats, 'dev' | 'ino'>) => `${stats.dev}:${stats.ino}`;

/**
 * Protects the file at `path` from every output written after this; with `fd`, the file open there (the
 * journal's), which `path` must still name to be held.
 */
export function protectFile(what: string, where: { path: string; fd?: number }): void {
  // Non-blocking: an input that is a FIFO opens at once (and is no regular file: nothing to protect).
  const { path, fd } = where;
  let held = quietly(() => openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  try {
    const open = fd ?? held;
    const own = open === undefined ? undefined : quietly(() => fstatSync(open));
    if (!own?.isFile()) return;
    PROTECTED.set(key(own), what);
    // Kept open until the process ends when it is the protected file (`path` may name another by now).
    if (held !== undefined && (fd === undefined || key(fstatSync(held)) === key(own))) held = undefined;
  } finally {
    if (held !== undefined) closeSync(held);
  }
}

/** What `read` gives, or undefined when it throws (nothing there, not readable, closed meanwhile). */
function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Refuses to write `path` when it now leads (through links) to a protected file. */
export function refuseProtected(path: string): void {
  if (PROTECTED.size === 0) return;
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return; // not there: nothing to replace
  }
  refuse(path, stats);
}

/** Refuses to write the file `stats` describes (at `path`) when it is a protected file. */
export function refuse(path: string, stats: Pick<Stats, 'dev' | 'ino'>): void {
  const what = protectedAs(stats);
  if (what) throw Object.assign(new Error(`${path} now leads to ${what}`), { code: 'EPROTECTED', protects: what });
}

/** What protected file a file is, if it is one. */
export function protectedAs(stats: Pick<Stats, 'dev' | 'ino'>): string | undefined {
  return PROTECTED.get(key(stats));
}
