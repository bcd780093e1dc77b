import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { AxiosInstance } from 'axios';
import { CleanupError, ExitCode } from '../src/common/errors.js';
import { RunControl } from '../src/engine/run-control.js';
import type { RequestDeps } from '../src/engine/retrying-request.js';
import { TokenError, TokenSource } from '../src/exsited/auth.js';
import { TokenCache } from '../src/exsited/token-cache.js';
import { LOCK_TIMING, MTIME_PRECISION_MS, TokenCacheLock, type LockClock, type LockTiming } from '../src/exsited/token-cache-lock.js';
import { DEMO_CLIENT } from '../src/fake-exsited/server.js';
import { checkCredentials } from '../src/guards/credentials.js';
import { workDir } from './helpers/cli.js';

/** Simulated time: `sleep` moves the clock at once (and ends when aborted). */
function simulatedClock(start = 1_750_000_000_000): LockClock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      slept.push(ms);
      now += ms;
    },
  };
}

/**
 * A holder killed `killedAfterUpdateMs` after it last refreshed its lock, and a run started `startDelayMs`
 * after the kill: a try succeeds once the lock's time (rounded up to the second, as on a file system that
 * keeps seconds) is more than the stale time old — proper-lockfile's rule.
 */
const simulated = join(workDir(), 'cache.json');

function runAfterKilledHolder(timing: LockTiming, killedAfterUpdateMs: number, startDelayMs: number) {
  const clock = simulatedClock();
  const lastUpdate = clock.now() - killedAfterUpdateMs - startDelayMs;
  const mtime = Math.ceil(lastUpdate / MTIME_PRECISION_MS) * MTIME_PRECISION_MS + 5;
  const lock = new TokenCacheLock(simulated, timing, clock,
    async () => (clock.now() > mtime + timing.staleMs ? async () => undefined : undefined));
  return lock.acquire();
}

describe('the token cache lock: how long a run waits', () => {
  test('the wait outlasts the stale time, rounding and one pause: a lock left by a killed holder is always taken over first', () => {
    const { staleMs, updateMs, waitMs, stepMs } = LOCK_TIMING;
    expect(waitMs).toBeGreaterThan(staleMs + MTIME_PRECISION_MS + stepMs);
    // proper-lockfile refreshes at most every stale/2: a live holder's lock never looks stale.
    expect(updateMs).toBeLessThanOrEqual(staleMs / 2);
  });

  test('property: whenever the holder was killed, and whenever the run starts after it, the run gets the lock (simulated time)', async () => {
    const { staleMs, updateMs } = LOCK_TIMING;
    for (let killedAfterUpdateMs = 0; killedAfterUpdateMs <= updateMs; killedAfterUpdateMs += 997) {
      for (let startDelayMs = 0; startDelayMs <= staleMs + 2000; startDelayMs += 1009) {
        await expect(runAfterKilledHolder(LOCK_TIMING, killedAfterUpdateMs, startDelayMs)).resolves.toBeInstanceOf(Function);
      }
    }
  });

  test('the property means something: the old wait (24 s, under the 30 s stale time) failed a run started right after the kill', async () => {
    const old = { ...LOCK_TIMING, waitMs: 24_000 };
    await expect(runAfterKilledHolder(old, 0, 0)).rejects.toThrow(/still locked/);
  });
});

describe('the token cache lock held by another run', () => {
  /** A real lock, held in this process by another TokenCache on the same file until `release` is called. */
  async function heldCache() {
    const dir = workDir();
    const path = join(dir, 'cache.json');
    let taken!: () => void;
    let release!: () => void;
    const isTaken = new Promise<void>((resolve) => (taken = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = TokenCache.open(path, 'http://127.0.0.1:9', 'client').locked(async () => {
      taken();
      await released;
    });
    await isTaken;
    return { path, release: async () => { release(); await holding; } };
  }

  test('the wait runs out: the message says what is locked, by whom (pid, host, since) and what to do; never a connection problem', async () => {
    const held = await heldCache();
    const clock = simulatedClock(Date.now());
    const notices: string[] = [];
    const waiter = TokenCache.open(held.path, 'http://127.0.0.1:9', 'client', { clock });
    const failure = await waiter.locked(async () => 'never', undefined, (text) => notices.push(text)).catch((error: Error) => error);
    await held.release();

    const who = `pid ${process.pid} on ${hostname()}, renewing the token since \\d{4}-[\\d-]+T[\\d:.]+Z`;
    expect(notices).toEqual([expect.stringMatching(new RegExp(`^the token cache ${held.path} is locked by ${who}: waiting for it \\(up to 45 s; ` +
      'a lock left by a run that was killed is taken over once 30 s old\\)$'))]);
    expect((failure as Error).message).toMatch(new RegExp(`^the token cache ${held.path} is still locked by ${who} after 45 s: .*Run it again later; ` +
      `remove ${held.path}\\.lock only if that run is certainly gone$`));
    expect(clock.slept.every((ms) => ms <= LOCK_TIMING.stepMs)).toBe(true);
    expect(existsSync(`${held.path}.lock`)).toBe(false); // released with its holder file
  });

  test('through the credentials check: exit 4 naming the token cache, not "cannot reach … a connection problem"', async () => {
    const held = await heldCache();
    const cache = TokenCache.open(held.path, 'http://127.0.0.1:9', DEMO_CLIENT.clientId, { clock: simulatedClock(Date.now()) });
    const control = new RunControl(0);
    const tokens = new TokenSource({} as AxiosInstance, { kind: 'client_credentials', ...DEMO_CLIENT }, async () => undefined, { cache });
    const deps = { tokens, control, http: {} as AxiosInstance, reachWaitMs: 30_000 } as unknown as RequestDeps & { http: AxiosInstance; reachWaitMs: number };
    const failure = await checkCredentials(deps, 'http://127.0.0.1:9', false, () => undefined).catch((error: unknown) => error);
    await held.release();

    expect(failure).toBeInstanceOf(CleanupError);
    expect((failure as CleanupError).exitCode).toBe(ExitCode.halted);
    expect((failure as CleanupError).message).toMatch(/^the token cache .* is still locked by pid \d+ .*; nothing was deleted$/);
    expect((failure as CleanupError).message).not.toMatch(/cannot reach|connection|base-url/);
  });

  test('the wait ends as soon as the run stops', async () => {
    const held = await heldCache();
    const stop = new AbortController();
    const clock = simulatedClock(Date.now());
    const waiter = TokenCache.open(held.path, 'http://127.0.0.1:9', 'client', { clock });
    const failure = waiter.locked(async () => 'never', stop.signal, () => stop.abort()).catch((error: Error) => error);
    expect(((await failure) as Error).message).toMatch(/the run stopped while waiting for the token cache/);
    expect(clock.slept).toEqual([]);
    await held.release();
  });

  test('a TokenSource whose cache is locked fails with kind "cache"', async () => {
    const held = await heldCache();
    const cache = TokenCache.open(held.path, 'http://127.0.0.1:9', DEMO_CLIENT.clientId, { clock: simulatedClock(Date.now()) });
    const tokens = new TokenSource({} as AxiosInstance, { kind: 'client_credentials', ...DEMO_CLIENT }, async () => undefined, { cache });
    const failure = await tokens.get().catch((error: unknown) => error);
    await held.release();
    expect(failure).toBeInstanceOf(TokenError);
    expect((failure as TokenError).kind).toBe('cache');
  });

  test('a lock removed under its holder is a notice, not a crash (proper-lockfile throws from a timer by default)', async () => {
    const path = join(workDir(), 'cache.json');
    const lock = new TokenCacheLock(path, { staleMs: 2000, updateMs: 1000, waitMs: 3000, stepMs: 50 });
    let lost!: (text: string) => void;
    const noticed = new Promise<string>((resolve) => (lost = resolve));
    const release = await lock.acquire(undefined, lost);
    rmSync(lock.path, { recursive: true });
    expect(await noticed).toMatch(/the token cache lock .* was taken from this run while it renewed the token/);
    await release();
  });
});
