import { fstatSync, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { usageError } from '../common/errors.js';
import { descriptorAt, handedDown, writable } from '../common/descriptors.js';
import { holdsAuditLog, refuseDash } from '../common/output-files.js';

/** A file a command reads or writes, named as a person named it: `--summary-json out.json`, `the audit log a.ndjson`. */
export interface FileRole {
  what: string;
  path: string;
  /** Written (replaced, or appended to) by the command. */
  output: boolean;
  /** The command's own record of a run (the audit log, its lock, its manifest): it may already be an audit log. */
  record?: boolean;
}

/**
 * Refuses (exit 2, before anything is sent or written) an output that is the same file as an input, the
 * audit log, its lock, its manifest, the token cache or another output — after symbolic links, `./` and
 * `..`, hard links, and case on a case-insensitive file system — and an output that would replace an
 * existing audit log of this tool (another run's record). `--html-report` naming the audit log replaced
 * the record of what was deleted with a page; this is the one check for every command that writes files.
 */
export function refuseCollisions(files: FileRole[], consequence: string): void {
  for (const file of files) if (file.output) refuseDash(file.path, file.what, consequence);
  const named = files.filter((file) => file.path && file.path !== '-').map((file) => ({ ...file, key: fileKey(file.path) }));
  for (const [i, a] of named.entries()) {
    for (const b of named.slice(i + 1)) {
      if ((a.output || b.output) && a.key === b.key) {
        // The person's output is at fault, not the run's own record or an input: the later of two outputs.
        const [out, other] = b.output && !b.record ? [b, a] : [a, b];
        throw usageError(`${out.what} ${out.path} is the same file as ${other.what}${other.path === out.path ? '' : ` ${other.path}`}: ` +
          `writing it would replace ${other.output && !other.record ? 'that output' : 'it'}; give ${out.what} a path of its own; ${consequence}`);
      }
    }
    const descriptor = a.output ? otherDescriptor(a.path) : undefined;
    if (descriptor !== undefined) {
      const which = { closed: 'is not open', 'read-only': 'is open for reading only (an output needs one open for writing: exec 3>file)', own: 'is its own (Node\'s), not one its caller handed down' };
      throw usageError(`${a.what} ${a.path} names file descriptor ${descriptor.fd} of this process, which ${which[descriptor.state]}: ` +
        `the tool opens its own files (the audit log, its lock) under such numbers as it runs; write to a file, a pipe you open, or /dev/stdout; ${consequence}`);
    }
    if (a.output && !a.record && holdsAuditLog(a.path)) {
      throw usageError(`${a.what} ${a.path} is an audit log of this tool (the record of a run): an output never replaces one; ` +
        `give it another path; ${consequence}`);
    }
  }
}

/**
 * What identifies the file a path names, existing or not: its device and inode once it exists (through
 * links); otherwise its folder's identity and its name (lowercased where the folder's file system ignores
 * case), so that two outputs not written yet are told apart the way the file system will tell them.
 */
function fileKey(path: string, depth = 0): string {
  // Not path.resolve: it folds `x/..` as text, where the kernel follows `x` first (a symlink's `..` is its target's parent).
  const absolute = isAbsolute(path) ? path : `${process.cwd()}/${path}`;
  const stats = statOrUndefined(absolute);
  if (stats) return `inode:${stats.dev}:${stats.ino}`;
  const link = lstatOrUndefined(absolute);
  if (link?.isSymbolicLink() && depth < 40) {
    const target = readlinkSync(absolute);
    return fileKey(isAbsolute(target) ? target : `${dirname(absolute)}/${target}`, depth + 1);
  }
  const folder = dirname(absolute);
  if (folder === absolute) return absolute;
  const name = basename(absolute);
  // A folder not there yet is made as a plain folder (prepareOutputFile): its `..` is then its parent.
  if (name === '.' || name === '..') return fileKey(name === '.' ? folder : dirname(folder), depth + 1);
  const folderStats = statOrUndefined(folder);
  if (!folderStats) return `${fileKey(folder, depth + 1)}/${name}`;
  return `inode:${folderStats.dev}:${folderStats.ino}/${ignoresCase(realpathSync.native(folder), folderStats) ? name.toLowerCase() : name}`;
}

/**
 * Whether the file system holding `folder` ignores case: the nearest folder on its path whose name has
 * letters, looked up with their case swapped, is the same folder (macOS and Windows by default, a casefold
 * ext4 directory, vfat).
 */
function ignoresCase(folder: string, stats: Stats): boolean {
  for (let at = folder; dirname(at) !== at; at = dirname(at)) {
    const name = basename(at);
    const swapped = [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
    if (swapped === name) continue;
    const here = statOrUndefined(at);
    if (!here || here.dev !== stats.dev) return false;
    const other = statOrUndefined(join(dirname(at), swapped));
    return other !== undefined && other.dev === here.dev && other.ino === here.ino;
  }
  return false;
}

/**
 * The file descriptor of this process `path` names (`/dev/fd/21`, `/proc/self/fd/21`, a link to one) when its
 * caller did not hand it down: not open now (the tool opens its own files — the audit log, its lock — later,
 * under such numbers), or open as one of Node's own (an epoll, an event pipe: written into, the process
 * crashed). One handed down by the caller (`--summary-json >(cat)`, /dev/stdout) is checked like any file.
 */
function otherDescriptor(path: string): { fd: number; state: 'closed' | 'read-only' | 'own' } | undefined {
  const descriptor = descriptorAt(path);
  if (!descriptor?.own || handedDown(descriptor.fd)) return undefined;
  try {
    fstatSync(descriptor.fd);
  } catch {
    return { fd: descriptor.fd, state: 'closed' };
  }
  // Read-only: a caller's `exec 3<file` as much as a /dev/null Node keeps; either way not a place to write (red team: told as "Node's own").
  return { fd: descriptor.fd, state: writable(descriptor.fd) ? 'own' : 'read-only' };
}

const statOrUndefined = (path: string) => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

const lstatOrUndefined = (path: string) => {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
};
