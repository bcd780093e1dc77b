import { describe, expect, test } from '@jest/globals';
import { humanDuration, MAX_TIMER_MS } from '../src/common/durations.js';
import { safeSleep } from '../src/engine/backoff.js';
import { duration } from '../src/config/values.js';

describe('humanDuration: every duration a person reads', () => {
  test.each([
    [0, '0 s'], [0.4, '0 s'], [-5, '0 s'], [1, '1 ms'], [37, '37 ms'], [999, '999 ms'], [999.6, '1 s'],
    [1000, '1 s'], [1500, '1.5 s'], [10_500, '10.5 s'], [12_345, '12.3 s'], [59_900, '59.9 s'], [59_949, '59.9 s'], [59_950, '1 min'],
    [60_000, '1 min'], [61_000, '1 min 1 s'], [130_000, '2 min 10 s'], [3_599_000, '59 min 59 s'], [3_599_500, '1 h'],
    [3_600_000, '1 h'], [4_800_000, '1 h 20 min'], [86_399_000, '1 d'], [86_400_000, '1 d'], [90_000_000, '1 d 1 h'], [26 * 86_400_000, '26 d'],
  ])('%s ms reads %s', (ms, shown) => {
    expect(humanDuration(ms)).toBe(shown);
  });
});

describe("Node's timer limit, one constant", () => {
  test('a duration flag takes waits up to the limit the sleeps are capped at, and refuses one past it', () => {
    expect(duration().parse(`${MAX_TIMER_MS}ms`, 'flag')).toEqual({ value: MAX_TIMER_MS });
    expect(duration().parse(`${MAX_TIMER_MS + 1}ms`, 'flag')).toMatchObject({ problem: expect.stringContaining('at most 24 days') });
  });

  test('a sleep past the limit waits (capped) rather than firing at once', async () => {
    const stop = new AbortController();
    let woke = false;
    const sleeping = safeSleep(MAX_TIMER_MS * 2, stop.signal).then(() => (woke = true), () => 'aborted');
    // A delay past the limit is taken as 1 ms: it would fire before this 5 ms timer, whatever the machine's load.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(woke).toBe(false);
    stop.abort();
    expect(await sleeping).toBe('aborted');
  });
});
