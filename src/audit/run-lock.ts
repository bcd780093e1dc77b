import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, lstatSync, openSync, realpathSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { refusal, usageError } from '../common/errors.js';
import { describeFileError, readRegularFile } from '../common/files.js';
import { protectFile } from '../common/protected-files.js';
import { isProcessSince, isRunning } from '../common/processes.js';

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  runId: string;
}

/**
 * One process per audit log. Two parts:
 *
 * - On Linux, an abstract Unix socket named after the log's real path: binding it is atomic, and the
 *   kernel releases it when its process dies, however it dies. Among the processes of this host it
 *   decides alone who holds the log, so a stale lock left by a killed run is taken over by exactly one
 *   of the runs that find it (taking over by "check, delete, create" lets two of them in).
 * - `<real path of the log>.lock`, holding the holder's pid, host, start time and runId: what a refusal
 *   names, and the lock between hosts sharing a volume. It is created whole (written to a new temporary
 *   file opened with O_EXCL, which never follows a planted symlink, then hard-linked into place).
 *
 * A log reached through a symlink is the same log. A lock held from another host cannot be checked and
 * is refused. Elsewhere than Linux the file alone guards, and a simultaneous takeover of a stale lock by
 * two runs of the same host is possible (docs/usage.md, "One run per audit log").
 */
export class RunLock {
  readonly path: string;
  /** The log's real path, through links: what the journal opens, without following a link put there later. */
  readonly realLog: string;
  private held = false;
  private guard: Server | undefined;

  constructor(auditLog: string, private readonly runId: string) {
    this.realLog = realPathOf(auditLog);
    this.path = `${this.realLog}.lock`;
  }

  async acquire(): Promise<void> {
    const guard = await bindGuard(this.realLog);
    if (guard === null) throw this.refuse();
    this.guard = guard;
    try {
      this.createLockFile();
    } catch (error) {
      this.closeGuard();
      throw error;
    }
    this.held = true;
    heldLocks.add(this);
    if (heldLocks.size === 1 && !exitHooked) {
      exitHooked = true;
      process.once('exit', () => heldLocks.forEach((lock) => lock.releaseFile()));
    }
  }

  async release(): Promise<void> {
    this.releaseFile();
    this.closeGuard();
  }

  private createLockFile(): void {
    const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId: this.runId };
    const temp = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'wx', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(temp, this.path);
          protectFile('the audit log\'s lock', { path: this.path });
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
          const holder = this.holder();
          // A holder on another host cannot be checked; on this one, holding the guard socket proves the
          // holder is gone (its socket died with it), so the file is taken over without a race.
          const provenGone = this.guard ? holder?.host === me.host || holder === undefined : holder?.host === me.host && !isRunning(holder.pid);
          if (!provenGone) throw this.refuse(holder);
          unlinkSync(this.path);
        }
      }
    } catch (error) {
      if ((error as { exitCode?: unknown }).exitCode !== undefined) throw error;
      throw usageError(`the lock file ${this.path} cannot be created: ${describeFileError(error)}; nothing was sent`);
    } finally {
      rmSync(temp, { force: true });
    }
  }

  private releaseFile(): void {
    if (!this.held) return;
    this.held = false;
    heldLocks.delete(this);
    if (this.holder()?.runId === this.runId) rmSync(this.path, { force: true });
  }

  private closeGuard(): void {
    this.guard?.close();
    this.guard = undefined;
  }

  /** The holder the lock file names; none if it is not a lock file. */
  private holder(): LockHolder | undefined {
    const holder = readLockFile(this.path);
    return typeof holder?.pid === 'number' && typeof holder.host === 'string' ? (holder as LockHolder) : undefined;
  }

  private refuse(holder = this.holder()) {
    const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt} (run ${holder.runId})` : 'another process';
    return refusal(`another run is using this audit log: ${who}. Wait for it to finish; if it is certainly gone ` +
      `(another host cannot be checked from here), delete ${this.path}`);
  }
}

/**
 * Whether run `runId` holds its log's lock now: the lock file names it and its process runs (on this host;
 * a holder on another host cannot be checked and is taken at its word). A lock a killed process left
 * behind (SIGKILL) is not held, nor one whose pid now names a zombie or a newer process.
 */
export function lockHeldBy(auditLog: string, runId: string): boolean {
  const holder = readLockFile(lockPathOf(auditLog));
  if (holder?.runId !== runId || typeof holder.pid !== 'number') return false;
  return holder.host !== hostname() || isProcessSince(holder.pid, Date.parse(holder.startedAt ?? '') || 0);
}

/** A lock file's fields as written; undefined if it cannot be read as one (a FIFO planted there is never opened: it would block). */
function readLockFile(path: string): Partial<LockHolder> | undefined {
  try {
    return (JSON.parse(readRegularFile(path, 4096, 'a lock file')?.text ?? 'null') as Partial<LockHolder> | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lock file of an audit log: beside the log's real path (a log reached through a link is the same
 * log); beside the path as given while its folder does not exist yet.
 */
export function lockPathOf(auditLog: string): string {
  try {
    return `${realPathOf(auditLog)}.lock`;
  } catch {
    return `${resolve(auditLog)}.lock`; // RunLock says what is wrong with the path when it takes the lock
  }
}

/** Locks held by this process, released if it exits without releasing them (one exit hook for all). */
const heldLocks = new Set<RunLock>();
let exitHooked = false;

/**
 * The guard socket for a log: bound, or null when another process of this host holds it. Undefined where
 * abstract sockets do not exist (not Linux). Unref'd: it never keeps the process alive.
 */
async function bindGuard(realLog: string): Promise<Server | null | undefined> {
  if (process.platform !== 'linux') return undefined;
  const name = `\0exsited-order-cleanup/${createHash('sha256').update(realLog).digest('hex').slice(0, 40)}`;
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(null) : reject(error)));
    server.listen({ path: name, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** The log's real path: through symlinks, also for a log not created yet (its folder's real path). */
function realPathOf(path: string): string {
  if (existsSync(path)) return realpathSync.native(path);
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch {
    // nothing there yet
  }
  if (isLink) throw usageError(`the audit log ${path} is a symbolic link to a file that does not exist; nothing was sent`);
  return join(realpathSync.native(dirname(path)), basename(path));
}
