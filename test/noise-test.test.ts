import { describe, expect, test } from '@jest/globals';
import { NoiseTest } from '../src/engine/noise-test.js';
import { simulate, type ClientResult } from './helpers/throttle-sim.js';

/**
 * Issue 21, case 7: throttling that does not depend on the rate (random 429s) must not collapse the pace.
 * Simulated time (test/helpers/throttle-sim): the real controller, concurrency 8, 20 ms latency; without a
 * Retry-After an order waits the engine's full-jitter backoff. Before the noise test, 50% random 429s took
 * 2,058 simulated seconds for 2,000 orders (a clean run takes 5), and 30% never finished within the hour.
 */
const doneBy = (run: ClientResult, share: number) => run.doneAt[Math.ceil(share * run.doneAt.length) - 1] as number;

describe('random 429s, whatever their share and Retry-After: cutting stops once it does not lower the share', () => {
  test.each([
    [0.2, undefined], [0.3, undefined], [0.5, undefined], [0.7, undefined],
    [0.3, 1], [0.5, 1], [0.7, 1],
  ])('%p of DELETEs answered 429 (Retry-After %p s), 2,000 orders: 90%% done within 35 s (70 s at 20%%, the noise test\'s own threshold; clean: 5 s), the cuts undone once, none after', (chance, retryAfterS) => {
    for (const seed of [1, 2, 3]) {
      const [clean] = simulate({}, [{ orders: 2000, concurrency: 8 }]);
      const [run] = simulate({ noise: { chance, retryAfterS }, seed }, [{ orders: 2000, concurrency: 8 }]);
      expect(clean!.finishedAt).toBeLessThan(5100);
      expect(doneBy(run!, 0.9)).toBeLessThan(chance <= 0.2 ? 70_000 : 35_000);
      const kinds = run!.decisions.map((d) => d.kind);
      expect(kinds.filter((k) => k === 'noise')).toHaveLength(1);
      expect(kinds.at(-1)).toBe('noise'); // nothing cut after it
      expect(run!.decisions.at(-1)).toMatchObject({ rateAfter: Number.POSITIVE_INFINITY, ceiling: null });
      expect(run!.decisions.at(-1)!.baseline).toBeGreaterThanOrEqual(chance - 0.05);
    }
  });

  test('the issue\'s run: 50% answered 429 without Retry-After, 300 orders: 90% done within 30 s, all within 60 s (before: 112 in 240 s)', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ noise: { chance: 0.5 }, seed }, [{ orders: 300, concurrency: 8 }]);
      expect(doneBy(run!, 0.9)).toBeLessThan(30_000);
      expect(run!.finishedAt).toBeLessThan(60_000); // the tail: the unluckiest orders' own backoffs (up to 30 s each)
      expect(run!.decisions.filter((d) => d.kind === 'cut').length).toBeLessThanOrEqual(10);
    }
  });
});

describe('NoiseTest', () => {
  /** Windows of 40 answers at these rates, throttled at these shares, one a second from `from`. */
  function feed(test: NoiseTest, windows: Array<[rate: number, share: number]>, from = 0) {
    let verdict: number | undefined;
    windows.forEach(([rate, share], i) => {
      verdict ??= test.judged({ rate, answers: 40, throttled: Math.round(40 * share), ms: 1000 }, from + (i + 1) * 1000, 0.1);
    });
    return verdict;
  }

  test('the same share at rates from 80/s down to 10/s, ten seconds after the first cut: noise, and its share as an upper estimate', () => {
    const t = new NoiseTest();
    t.cut(0);
    const verdict = feed(t, [[80, 0.5], [40, 0.5], [20, 0.45], [10, 0.55], [12, 0.5], [14, 0.5], [16, 0.5], [18, 0.5], [20, 0.5], [22, 0.5]]);
    expect(verdict).toBeGreaterThan(0.5);
    expect(verdict).toBeLessThan(0.6);
  });

  test('a share that falls with the rate, as a limit\'s does (1 − L/r, L = 20/s): not noise', () => {
    const t = new NoiseTest();
    t.cut(0);
    expect(feed(t, [[80, 0.75], [40, 0.5], [30, 0.33], [25, 0.2], [22, 0.1], [80, 0.75], [40, 0.5], [30, 0.33], [25, 0.2], [22, 0.1], [80, 0.75]])).toBeUndefined();
  });

  test('not before NOISE_SPAN_MS after the first cut (newcomers on a shared limit squeeze for a few seconds), nor without a cut, nor from windows shorter than a second', () => {
    const steady: Array<[number, number]> = [[80, 0.5], [40, 0.5], [20, 0.5], [10, 0.5], [15, 0.5], [20, 0.5], [10, 0.5], [15, 0.5], [20, 0.5], [10, 0.5], [15, 0.5]];
    expect(feed(new NoiseTest(), steady)).toBeUndefined(); // no cut
    const late = new NoiseTest();
    late.cut(5000);
    expect(feed(late, steady.slice(0, 10))).toBeUndefined(); // the last window at 10 s: only 5 s after the cut
    const short = new NoiseTest();
    short.cut(0);
    let verdict: number | undefined;
    steady.forEach(([rate, share], i) => (verdict ??= short.judged({ rate, answers: 40, throttled: 40 * share, ms: 900 }, (i + 1) * 1000, 0.1)));
    expect(verdict).toBeUndefined();
  });

  test('every answer throttled at every rate: no verdict (a limit of zero and a refusal look alike; the refusal rule decides)', () => {
    const t = new NoiseTest();
    t.cut(0);
    expect(feed(t, [[80, 1], [40, 1], [20, 1], [10, 1], [5, 1], [2, 1], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1]])).toBeUndefined();
  });
});
