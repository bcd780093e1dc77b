import { createHash } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { usageError } from '../common/errors.js';
import { describeFileError, readRegularFile, writeFileAtomically } from '../common/files.js';
import { secrets } from '../common/secrets.js';
import { LOCK_TIMING, TokenCacheLock, type LockClock, type LockTiming } from './token-cache-lock.js';

/** A token as the cache keeps it (epoch ms). */
export interface CachedToken {
  accessToken: string;
  refreshToken?: string;
  issuedAt: number;
  /** When it is renewed before use (80% of its lifetime). */
  renewAt: number;
  lifetimeMs: number;
}

interface CacheFile {
  version: 1;
  /** By sha256 of the API's origin and the client ID: one file may serve several environments. */
  tokens: Record<string, CachedToken>;
}

/** A token cache holds a few tokens (a few KiB): a larger file is not one, and is not read. */
const MAX_CACHE_BYTES = 1024 * 1024;

/** The lock's timing and clock: the defaults, or a test's. */
export interface TokenCacheOptions {
  timing?: LockTiming;
  clock?: LockClock;
}

/**
 * A token cache file that runs on one machine (or pods on one shared volume) use together, as Exsited's
 * Python SDK keeps tokens in a file: the first run obtains a token and the others use it, instead of each
 * obtaining its own and ending the others' (Exsited reportedly keeps one live token per client). Renewal
 * happens under a lock (token-cache-lock: a folder beside the file naming its holder, stale after 30 s),
 * so one holder renews at a time and the rest take what it wrote. Only a regular file is ever opened (a
 * FIFO, a socket or a device planted at the path is refused without blocking); it is created owner-only
 * (0600) and replaced atomically, never written through a link or a pipe; a file others can read, that
 * another user owns, or that is not a token cache, is refused. Its tokens are registered with the secret
 * scrubber as they are read; the file's content is never printed.
 */
export class TokenCache {
  private readonly lock: TokenCacheLock;

  private constructor(
    readonly path: string,
    private readonly key: string,
    options: TokenCacheOptions,
  ) {
    this.lock = new TokenCacheLock(path, options.timing ?? LOCK_TIMING, options.clock);
  }

  /**
   * The cache at `path` for one API and client, checked now (before anything is sent): a file that exists
   * must be a regular file (never opened if it is a FIFO, a socket, a device, a folder or a link) of at most
   * 1 MiB, a token cache of this tool, owned by this user and readable by nobody else; its folder must exist
   * and be writable; its lock, if one is there, must be a folder of this user's.
   */
  static open(path: string, origin: string, clientId: string, options: TokenCacheOptions = {}): TokenCache {
    const cache = new TokenCache(path, createHash('sha256').update(`${origin}\n${clientId}`).digest('hex'), options);
    const refuse = (reason: string) => usageError(`--token-cache ${path}: ${reason}; nothing was sent`);
    try {
      cache.load();
      cache.lock.inspect();
    } catch (error) {
      throw refuse((error as Error).message);
    }
    try {
      accessSync(dirname(path), constants.W_OK); // its lock and each new version are made there
    } catch (error) {
      throw refuse(`its folder cannot be written: ${describeFileError(error)}`);
    }
    return cache;
  }

  /**
   * Runs `fn` holding the cache's lock: one renewal at a time, across processes. Waits for another holder
   * (`onNotice` hears whom for, and if the lock is lost) up to the lock's wait, which outlasts its stale
   * time, or until `signal`.
   */
  async locked<T>(fn: () => Promise<T>, signal?: AbortSignal, onNotice?: (text: string) => void): Promise<T> {
    const release = await this.lock.acquire(signal, onNotice);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** This API and client's token, if the cache holds one. */
  read(): CachedToken | undefined {
    const token = this.loadOrFail().tokens[this.key];
    if (!token || typeof token.accessToken !== 'string') return undefined;
    secrets.register(token.accessToken);
    secrets.register(token.refreshToken);
    return token;
  }

  /** Keeps `token` for this API and client: a new owner-only file, renamed over the old one (never written through a link or a pipe). */
  write(token: CachedToken): void {
    const file = this.loadOrFail();
    file.tokens[this.key] = token;
    try {
      writeFileAtomically(this.path, JSON.stringify(file), 0o600);
    } catch (error) {
      throw new Error(`the token cache ${this.path} cannot be written: ${describeFileError(error)}`);
    }
  }

  private loadOrFail(): CacheFile {
    try {
      return this.load();
    } catch (error) {
      throw new Error(`the token cache ${this.path}: ${(error as Error).message}`);
    }
  }

  /** The file's content; its problems as Errors whose message says what is wrong, in words. */
  private load(): CacheFile {
    const found = readRegularFile(this.path, MAX_CACHE_BYTES, 'a token cache');
    if (!found) {
      // Not there yet: the first renewal creates it, so its folder must exist.
      try {
        statSync(dirname(this.path));
      } catch (error) {
        throw new Error(`its folder cannot be used: ${describeFileError(error)}`);
      }
      return { version: 1, tokens: {} };
    }
    const { text, stats } = found;
    if (process.getuid && stats.uid !== process.getuid()) throw new Error('owned by another user: a token cache must be your own');
    const data = parseCache(text);
    if ((stats.mode & 0o077) !== 0) {
      throw new Error(`readable or writable by others (mode ${(stats.mode & 0o777).toString(8)}): it holds live access tokens; ` +
        `run chmod 600 ${this.path}, or remove it`);
    }
    return data;
  }
}

/**
 * A cache file's content, or an Error saying it is none (an audit log, a job spec named by mistake must
 * not be "removed to start afresh"). An empty file is an empty cache (a person may create it, owner-only).
 */
function parseCache(text: string): CacheFile {
  if (text.trim() === '') return { version: 1, tokens: {} };
  let data: Partial<CacheFile> | null;
  try {
    data = JSON.parse(text) as Partial<CacheFile> | null;
  } catch {
    data = null;
  }
  if (data?.version !== 1 || typeof data.tokens !== 'object' || data.tokens === null) {
    throw new Error('it is not a token cache of this tool (another file given by mistake?): give --token-cache a path of its own, where ' +
      'the first run creates one; remove this file only if it is a token cache that was damaged');
  }
  return data as CacheFile;
}
