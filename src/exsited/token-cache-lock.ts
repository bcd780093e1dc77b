import fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { humanDuration } from '../common/durations.js';
import { describeFileError, describeFileKind, readRegularFile } from '../common/files.js';
import { isRunning } from '../common/processes.js';

/** The lock's timing. The wait must outlast the stale time: a run started right after a holder was killed takes its lock over. */
export interface LockTiming {
  /** A lock not refreshed for this long was left by a holder that died: it is taken over. */
  staleMs: number;
  /** How often a holder refreshes its lock (proper-lockfile: between 1 s and half the stale time). */
  updateMs: number;
  /** The longest wait for a lock another run holds. */
  waitMs: number;
  /** The longest pause between two tries. */
  stepMs: number;
}

/**
 * A lock's time is kept to the second on some file systems (rounded up, by proper-lockfile): a lock left
 * by a killed holder goes stale up to this much later than its stale time.
 */
export const MTIME_PRECISION_MS = 1000;

export const LOCK_TIMING: LockTiming = { staleMs: 30_000, updateMs: 10_000, waitMs: 45_000, stepMs: 250 };

export interface LockClock {
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type Release = () => Promise<void>;

/** One try: the release, or undefined when another holds a lock that is not stale; `onLost` hears if it is lost while held. */
export type LockAttempt = (onLost?: (text: string) => void) => Promise<Release | undefined>;

/** Who holds the lock, as the holder wrote it beside its lock (proper-lockfile records nobody). */
interface Holder {
  pid: number;
  host: string;
  since: string;
}

const HOLDER_FILE = 'holder.json';

/**
 * proper-lockfile's file system, with one change: a lock folder is removed with the holder file in it
 * (only that file: a folder holding anything else is not a lock of this tool, and stays).
 */
const LOCK_FS = {
  ...fs,
  rmdir: (path: string, callback: (error: NodeJS.ErrnoException | null) => void) => fs.unlink(join(path, HOLDER_FILE), () => fs.rmdir(path, callback)),
  rmdirSync: (path: string) => {
    fs.rmSync(join(path, HOLDER_FILE), { force: true });
    fs.rmdirSync(path);
  },
};

/**
 * The token cache's lock: proper-lockfile's lock folder `<cache>.lock`, refreshed by its holder, taken over
 * once stale (its holder died), with `holder.json` inside naming the holder (pid, host, since) for the
 * others to tell a person. Waiting for it is bounded (past the stale time), paced, and ends when the run
 * stops. Every failure is an Error whose message is a sentence naming the cache.
 */
export class TokenCacheLock {
  readonly path: string;
  private readonly attempt: LockAttempt;

  constructor(
    private readonly cachePath: string,
    private readonly timing: LockTiming = LOCK_TIMING,
    private readonly clock: LockClock = { now: Date.now, sleep: (ms, signal) => delay(ms, undefined, { signal }) },
    attempt?: LockAttempt,
  ) {
    this.path = `${cachePath}.lock`;
    this.attempt = attempt ?? ((onLost) => this.tryOnce(onLost));
  }

  /**
   * The lock, waiting for another holder up to `timing.waitMs`. `onNotice` hears once whom it waits for,
   * and whether the lock is lost while held.
   */
  async acquire(signal?: AbortSignal, onNotice?: (text: string) => void): Promise<Release> {
    const { staleMs, waitMs, stepMs } = this.timing;
    const started = this.clock.now();
    let pause = Math.min(20, stepMs);
    let told = false;
    for (;;) {
      const release = await this.attempt(onNotice);
      if (release) return release;
      if (this.takeOverFromTheDead(onNotice)) continue;
      // Undefined: released since the try (the next one may well succeed).
      const holder = this.describeHolder();
      const waited = this.clock.now() - started;
      if (waited >= waitMs) {
        throw new Error(`the token cache ${this.cachePath} is still locked by ${holder ?? 'other runs, one after another'} after ${humanDuration(waited)}: that run's renewal has not ` +
          `finished (its token endpoint slow or unreachable?). Run it again later; remove ${this.path} only if that run is certainly gone`);
      }
      if (!told && holder !== undefined) {
        told = true;
        onNotice?.(`the token cache ${this.cachePath} is locked by ${holder}: waiting for it (up to ${humanDuration(waitMs)}; a lock left by a ` +
          `run that was killed is taken over once ${humanDuration(staleMs)} old)`);
      }
      try {
        await this.clock.sleep(Math.min(pause, waitMs - waited), signal);
      } catch {
        throw new Error(`the run stopped while waiting for the token cache ${this.cachePath}`);
      }
      pause = Math.min(pause * 2, stepMs);
    }
  }

  /**
   * A lock whose holder on this host is gone (killed mid-renewal) is taken over at once, not after the stale
   * time: its holder file names it, and a pid that no process has is proof. (A holder on another host sharing
   * the volume cannot be checked from here: its lock goes stale.)
   */
  private takeOverFromTheDead(onNotice?: (text: string) => void): boolean {
    const holder = readHolder(this.path);
    if (!holder || holder.host !== hostname() || isRunning(holder.pid)) return false;
    try {
      LOCK_FS.rmdirSync(this.path);
    } catch {
      return false; // taken over by another run meanwhile, or not a lock of this tool: the next try says
    }
    onNotice?.(`the token cache lock ${this.path} was left by pid ${holder.pid} on ${holder.host}, which is gone (killed while it renewed the token): taken over`);
    return true;
  }

  /**
   * The lock folder's state, if there is one; refuses (before anything is sent, at the open) a lock path no
   * run of this tool could have made: not a folder (a FIFO, a file — another file's lock?), a symbolic link,
   * or another user's.
   */
  inspect(): fs.Stats | undefined {
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`its lock ${this.path} cannot be checked: ${describeFileError(error)}`);
    }
    if (!stats.isDirectory()) {
      throw new Error(`its lock ${this.path} is ${describeFileKind(stats)}, not a lock of this tool (a lock of this tool is a folder): ` +
        'is this path another file\'s? Give --token-cache a path of its own');
    }
    if (process.getuid && stats.uid !== process.getuid()) {
      throw new Error(`its lock ${this.path} belongs to another user (uid ${stats.uid}), not to you as a lock of this tool would; give ` +
        '--token-cache a path in a folder of your own');
    }
    return stats;
  }

  private async tryOnce(onLost?: (text: string) => void): Promise<Release | undefined> {
    let release: Release;
    try {
      release = await lockfile.lock(this.cachePath, {
        realpath: false, lockfilePath: this.path, retries: 0, stale: this.timing.staleMs, update: this.timing.updateMs, fs: LOCK_FS,
        // proper-lockfile throws by default, from a timer: the process would crash. This run's renewal goes on (the cache is
        // replaced atomically either way); at worst two runs renew at once, which the 401 policy copes with.
        onCompromised: () => onLost?.(`the token cache lock ${this.path} was taken from this run while it renewed the token (removed, or not ` +
          'refreshed in time): another run may renew at the same time'),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
      throw new Error(`the token cache ${this.cachePath} cannot be locked (${this.path}): ${describeFileError(error)}`);
    }
    this.recordHolder();
    return () => release().catch(() => undefined);
  }

  /** Names this process in the lock it just took: only for what the others say, so a failure is no matter. */
  private recordHolder(): void {
    const holder: Holder = { pid: process.pid, host: hostname(), since: new Date(this.clock.now()).toISOString() };
    try {
      fs.writeFileSync(join(this.path, HOLDER_FILE), JSON.stringify(holder), { flag: 'wx', mode: 0o600 });
    } catch {
      // the others say "a lock that names no holder"
    }
  }

  /**
   * Who holds the lock, for a person: `pid 4242 on build-7, renewing the token since …`; undefined when it
   * was released meanwhile. Refuses a lock that is not one.
   */
  private describeHolder(): string | undefined {
    let stats: fs.Stats | undefined;
    try {
      stats = this.inspect();
    } catch (error) {
      throw new Error(`the token cache ${this.cachePath}: ${(error as Error).message}`);
    }
    if (!stats) return undefined;
    const ahead = stats.mtimeMs - this.clock.now();
    const dated = ahead > this.timing.staleMs
      ? `; its lock is dated ${stats.mtime.toISOString()}, in the future, so it never goes stale (a clock that is ahead, or a lock planted there)`
      : '';
    const holder = readHolder(this.path);
    if (!holder) return `a lock that names no run (${this.path}, refreshed at ${stats.mtime.toISOString()})${dated}`;
    const gone = holder.host === hostname() && !isRunning(holder.pid) ? ', a process that is gone' : '';
    return `pid ${holder.pid} on ${holder.host}${gone}, renewing the token since ${holder.since}${dated}`;
  }
}

/** The holder named in a lock, if it is named there in the shape this tool writes (its text is shown to a person). */
function readHolder(lockPath: string): Holder | undefined {
  try {
    const holder = JSON.parse(readRegularFile(join(lockPath, HOLDER_FILE), 4096, 'a lock holder')?.text ?? 'null') as Partial<Holder> | null;
    const valid = Number.isInteger(holder?.pid) && /^[\w.-]{1,253}$/.test(String(holder?.host)) && /^[\d-]+T[\d:.]+Z$/.test(String(holder?.since));
    return valid ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}
