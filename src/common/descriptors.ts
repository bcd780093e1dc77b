import { constants, fstatSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

// What a path names when it names a process's file descriptor, and whether this process's caller handed it
// down: read by the checks before a run and by every write of an output (common/output-files).

/**
 * A folder of file descriptors: /proc/self/fd, /proc/<pid>/fd (this process's pid or another's), a thread's
 * (/proc/thread-self/fd, /proc/<pid>/task/<tid>/fd: the process's own, shared by its threads), /dev/fd.
 */
const DESCRIPTORS = /^\/proc\/(self|thread-self|\d+)(?:\/task\/\d+)?\/fd$/;

/**
 * The file descriptor `path` names, followed through links (/dev/stdout → /proc/self/fd/1, /dev/fd/2, a link
 * to one): `own` when it is this process's. Undefined for any other path. Such a path is a stream someone
 * opened (a shell's `> out.txt`, a pipe), written where it stands: never replaced by a rename, which would
 * unlink the shell's file (everything printed after it lost) or, once that file is gone, replace
 * /dev/stdout itself for every process on the machine.
 */
export function descriptorAt(path: string): { fd: number; own: boolean } | undefined {
  let at = isAbsolute(path) ? path : join(process.cwd(), path);
  for (let hops = 0; hops < 40; hops++) {
    let folder: string;
    try {
      folder = realpathSync.native(dirname(at));
    } catch {
      return undefined;
    }
    const fd = Number(basename(at));
    const match = DESCRIPTORS.exec(folder);
    if ((match || folder === '/dev/fd') && Number.isInteger(fd) && fd >= 0) {
      return { fd, own: folder === '/dev/fd' || match?.[1] === 'self' || match?.[1] === 'thread-self' || match?.[1] === String(process.pid) };
    }
    at = join(folder, basename(at));
    let target: string;
    try {
      if (!lstatSync(at).isSymbolicLink()) return undefined;
      target = readlinkSync(at);
    } catch {
      return undefined;
    }
    at = isAbsolute(target) ? target : join(dirname(at), target);
  }
  return undefined;
}

/** Descriptor `fd`'s flags as /proc/self/fdinfo gives them (its access mode, close-on-exec); undefined where that cannot be read (not Linux). */
function flagsOf(fd: number): number | undefined {
  try {
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags === undefined ? undefined : Number.parseInt(flags, 8);
  } catch {
    return undefined;
  }
}

/** Whether descriptor `fd` was opened for writing (the access mode, the flags' low two bits; assumed where they cannot be read). */
export function writable(fd: number): boolean {
  const flags = flagsOf(fd);
  return flags === undefined || (flags & 0o3) !== constants.O_RDONLY;
}

/**
 * Whether this process's descriptor `fd` is open for writing and was handed down by its caller: stdout and
 * stderr, or another it inherited (`exec 3>summary.json`, a shell's `>(…)`). Node's own are told apart by
 * what they are, not by close-on-exec (Node sets it on inherited ones too): an epoll or an event (anon
 * inodes), a pipe both of whose ends this process holds, a /dev/null it keeps read-only — written into as an
 * output, the process crashed or the summary vanished (red team). Where /proc cannot say (not Linux), only 1 and 2.
 */
export function handedDown(fd: number): boolean {
  try {
    fstatSync(fd);
  } catch {
    return false;
  }
  if (fd <= 2) return true;
  let link: string;
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return false;
  }
  if (link.startsWith('anon_inode:') || !writable(fd)) return false;
  if (!link.startsWith('pipe:')) return true;
  const ends = readdirSync('/proc/self/fd').filter((other) => {
    try {
      return readlinkSync(`/proc/self/fd/${other}`) === link;
    } catch {
      return false;
    }
  });
  return ends.length === 1;
}
