import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { usageError } from '../common/errors.js';
import { describeFileError, writeFileAtomically } from '../common/files.js';
import { secrets } from '../common/secrets.js';

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

/** Waiting for another holder's renewal: up to about 20 s, in short steps. */
const LOCK_RETRIES = { retries: 100, factor: 1.1, minTimeout: 20, maxTimeout: 300 };
/** A holder that died holding the lock loses it after this long. */
const LOCK_STALE_MS = 30_000;

/**
 * A token cache file that runs on one machine (or pods on one shared volume) use together, as Exsited's
 * Python SDK keeps tokens in a file: the first run obtains a token and the others use it, instead of each
 * obtaining its own and ending the others' (Exsited reportedly keeps one live token per client). Renewal
 * happens under a lock (proper-lockfile: a lock directory beside the file, stale after 30 s), so one holder
 * renews at a time and the rest take what it wrote. The file is created owner-only (0600) and replaced
 * atomically; a file others can read, or that another user owns, is refused. Its tokens are registered
 * with the secret scrubber as they are read; the file's content is never printed.
 */
export class TokenCache {
  private constructor(
    readonly path: string,
    private readonly key: string,
  ) {}

  /**
   * The cache at `path` for one API and client, checked now (before anything is sent): a file that exists
   * must be a JSON file of this format, owned by this user and readable by nobody else; its folder must exist.
   */
  static open(path: string, origin: string, clientId: string): TokenCache {
    const cache = new TokenCache(path, createHash('sha256').update(`${origin}\n${clientId}`).digest('hex'));
    try {
      cache.load();
    } catch (error) {
      throw usageError(`--token-cache ${path}: ${(error as Error).message}`);
    }
    return cache;
  }

  /** Runs `fn` holding the cache's lock: one renewal at a time, across processes. */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.path, { realpath: false, lockfilePath: `${this.path}.lock`, retries: LOCK_RETRIES, stale: LOCK_STALE_MS });
    } catch (error) {
      throw new Error(`the token cache ${this.path} could not be locked: ${describeFileError(error)}`);
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** This API and client's token, if the cache holds one. */
  read(): CachedToken | undefined {
    const token = this.load().tokens[this.key];
    if (!token || typeof token.accessToken !== 'string') return undefined;
    secrets.register(token.accessToken);
    secrets.register(token.refreshToken);
    return token;
  }

  /** Keeps `token` for this API and client: a new owner-only file, renamed over the old one. */
  write(token: CachedToken): void {
    const file = this.load();
    file.tokens[this.key] = token;
    writeFileAtomically(this.path, JSON.stringify(file), 0o600);
  }

  private load(): CacheFile {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(describeFileError(error));
      // Not there yet: the first renewal creates it, so its folder must exist.
      try {
        closeSync(openSync(dirname(this.path), constants.O_RDONLY | constants.O_DIRECTORY));
      } catch (folderError) {
        throw new Error(`its folder cannot be used: ${describeFileError(folderError)}`);
      }
      return { version: 1, tokens: {} };
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new Error('not a regular file');
      if (process.getuid && stat.uid !== process.getuid()) throw new Error('owned by another user: a token cache must be your own');
      if ((stat.mode & 0o077) !== 0) {
        throw new Error(`readable or writable by others (mode ${(stat.mode & 0o777).toString(8)}): it holds live access tokens; ` +
          `run chmod 600 ${this.path}, or remove it`);
      }
      const data = JSON.parse(readFileSync(fd, 'utf8') || '{}') as Partial<CacheFile>;
      if (data.version !== 1 || typeof data.tokens !== 'object' || data.tokens === null) throw new Error('not a token cache of this tool (remove it to start afresh)');
      return data as CacheFile;
    } catch (error) {
      if (error instanceof SyntaxError) throw new Error('not valid JSON (remove it to start afresh)');
      throw error;
    } finally {
      closeSync(fd);
    }
  }
}
