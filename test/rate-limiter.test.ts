import { describe, expect, test } from '@jest/globals';
import { RateLimiter } from '../src/engine/rate-limiter.js';

/** A limiter on a fake clock: sleeping advances time at once. */
function limiter(rps: number | undefined, burst: number) {
  const clock = { now: 1_000_000 };
  const l = new RateLimiter({ rps, burst, now: () => clock.now, sleep: async (ms) => void (clock.now += ms) });
  return { l, clock };
}

describe('RateLimiter', () => {
  test('with --rps: the cap from the first request on', async () => {
    const { l, clock } = limiter(10, 3);
    const start = clock.now;
    const times: number[] = [];
    for (let i = 0; i < 13; i++) {
      await l.acquire();
      times.push(clock.now - start);
    }
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBeGreaterThanOrEqual(1200); // 12 more at 10 per second
    expect(times.at(-1)).toBeLessThanOrEqual(1210);
  });

  test('after a quiet spell, a burst of at most `burst`', async () => {
    const { l, clock } = limiter(10, 3);
    await l.acquire();
    clock.now += 60_000;
    const start = clock.now;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await l.acquire();
      times.push(clock.now - start);
    }
    expect(times.slice(0, 3)).toEqual([0, 0, 0]);
    expect(times[3]).toBeGreaterThanOrEqual(100);
  });

  test('without --rps nothing waits until the server throttles', async () => {
    const { l, clock } = limiter(undefined, 4);
    const start = clock.now;
    for (let i = 0; i < 1000; i++) await l.acquire();
    expect(clock.now).toBe(start);
    expect(l.currentRate).toBe(Number.POSITIVE_INFINITY);
  });

  test('a 429 pauses everyone for its Retry-After, counts the time once, and halves the rate once per episode', async () => {
    const { l, clock } = limiter(100, 4);
    l.throttled(2000);
    l.throttled(1500); // an answer to a request sent before the pause: no further decrease
    expect(l.currentRate).toBe(50);
    const start = clock.now;
    await l.acquire();
    expect(clock.now - start).toBeGreaterThanOrEqual(2000);
    expect(l.throttledMs).toBe(2000);
    l.throttled(undefined); // a new episode, with the default pause
    expect(l.currentRate).toBe(25);
    expect(l.throttledMs).toBe(3000);
    expect(l.throttles).toBe(3);
  });

  test('good answers climb back to the cap, never above', () => {
    const { l } = limiter(100, 4);
    l.throttled(0);
    for (let i = 0; i < 34; i++) l.succeeded();
    expect(l.currentRate).toBeGreaterThan(90);
    for (let i = 0; i < 100; i++) l.succeeded();
    expect(l.currentRate).toBe(100);
  });

  test('without --rps, the limit set by a 429 is lifted once the rate doubles again', () => {
    const { l, clock } = limiter(undefined, 4);
    for (let i = 0; i < 200; i++) {
      void l.acquire();
      clock.now += 5; // 200 requests a second
    }
    l.throttled(0);
    expect(l.currentRate).toBeGreaterThan(90);
    expect(l.currentRate).toBeLessThan(110);
    for (let i = 0; i < 200 && Number.isFinite(l.currentRate); i++) l.succeeded();
    expect(l.currentRate).toBe(Number.POSITIVE_INFINITY);
  });

  test('a stop aborts the wait', async () => {
    const { l } = limiter(1, 1);
    await l.acquire();
    const stop = new AbortController();
    stop.abort(new Error('stopping'));
    await expect(l.acquire(stop.signal)).rejects.toThrow('stopping');
  });
});
