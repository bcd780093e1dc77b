import { describe, expect, test } from '@jest/globals';
import { RefusalMemory } from '../src/engine/refusal-memory.js';
import { REFUSED_MS, RefusalWatch } from '../src/engine/refusal-watch.js';
import { rateBetween, simulate, type SimServer } from './helpers/throttle-sim.js';

/**
 * Issue 21, case 7: a server answering every request 429 must not be crawled at for an hour (before: one
 * request every 20 s, about an hour before --halt-after): a minute of nothing but 429s halts the run.
 */
describe('every answer a 429', () => {
  test.each([[1], [undefined]])('Retry-After %p s: the run halts one minute (REFUSED_MS, on the clock that stops during pauses) after the first 429, having sent fewer than 100 requests', (retryAfterS) => {
    const [run] = simulate({ noise: { chance: 1, retryAfterS } }, [{ orders: 300, concurrency: 8 }]);
    expect(REFUSED_MS).toBe(60_000);
    expect(run!.refused).toBeDefined();
    const paused = run!.decisions.reduce((total, d) => total + d.pauseMs, 0);
    expect(run!.refused!.at).toBeGreaterThanOrEqual(REFUSED_MS);
    expect(run!.refused!.at).toBeLessThanOrEqual(REFUSED_MS + paused + 1000); // checked at least once a second while requests wait
    expect(run!.refused!.reason).toMatch(/^every answer for 60 s was 429 Too Many Requests \(\d+ requests, at every pace tried\): the server is refusing this client, not pacing it$/);
    expect(run!.sent).toBeLessThan(100);
  });

  test('for 30 s, then answered again: no halt, and the pace comes back from the floor (before: one request every 20 s for the rest of the run)', () => {
    const [run] = simulate({ noise: { chance: 1, retryAfterS: 1, toMs: 30_000 } }, [{ orders: 300, concurrency: 8 }]);
    expect(run!.refused).toBeUndefined();
    expect(run!.done).toBe(300);
    expect(run!.finishedAt).toBeLessThan(60_000);
  });
});

describe('RefusalWatch', () => {
  test('halts at exactly REFUSED_MS of nothing but 429s, with at least 10 of them; once', () => {
    const watch = new RefusalWatch();
    for (let t = 0; t < REFUSED_MS; t += 10_000) watch.answered(true, t);
    expect(watch.refused(REFUSED_MS - 1)).toBeUndefined();
    expect(watch.refused(REFUSED_MS)).toBeUndefined(); // six answers: too few to say
    for (let i = 0; i < 4; i++) watch.answered(true, REFUSED_MS);
    expect(watch.refused(REFUSED_MS)).toMatch(/^every answer for 60 s was 429 Too Many Requests \(10 requests/);
    expect(watch.refused(REFUSED_MS + 1000)).toBeUndefined();
  });

  test('any other answer starts the count again', () => {
    const watch = new RefusalWatch();
    for (let t = 0; t < 50_000; t += 1000) watch.answered(true, t);
    watch.answered(false, 50_000);
    for (let t = 51_000; t < 100_000; t += 1000) watch.answered(true, t);
    expect(watch.refused(100_000)).toBeUndefined(); // 49 s since the first 429 after the accepted answer
    expect(watch.refused(111_000)).toMatch(/^every answer for 60 s/);
  });
});

/**
 * Cuts from windows the server accepted nothing of measured nothing, yet took the rate to the floor, and a lone run climbed
 * back from there as from a slow API's limit: after 30 s of a gateway's 429s, a run on a bucket of 100/s took 870 s to finish
 * what takes 119 s. With an accepted answer it climbs back to the curve from before the refusal (RefusalMemory), doubling
 * each second; never above that curve, and ever more rarely against a server that keeps refusing (red team).
 */
describe('a refusal that ends: the rate climbs back to where it was', () => {
  const refusal = { chance: 1, fromMs: 10_000, toMs: 40_000 };
  test.each([
    ['a bucket of 100/s, Retry-After 1 s', 160, { limit: { kind: 'bucket', rate: 100 }, noise: { ...refusal, retryAfterS: 1 } }, 12_000, 100],
    ['a bucket of 100/s, no Retry-After', 160, { limit: { kind: 'bucket', rate: 100 }, noise: refusal }, 12_000, 100],
    ['a bucket of 20/s', 190, { limit: { kind: 'bucket', rate: 20 }, noise: { ...refusal, retryAfterS: 1 } }, 3_000, 20],
    ['a window of 50 a second', 165, { limit: { kind: 'window', rate: 50 }, noise: refusal }, 6_000, 50],
  ] as const)('%s, refused from 10 s to 40 s: done within %d s, 0.9 of the limit from 50 s on (before: 730–990 s)', (_name, withinS, server, orders, limit) => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ ...server, seed } as SimServer, [{ orders, concurrency: 16, latencyMs: 20 }], 1_800_000);
      expect(run!.refused).toBeUndefined();
      expect(run!.finishedAt).toBeLessThan(withinS * 1000);
      expect(rateBetween(run!, 50_000, 100_000)).toBeGreaterThanOrEqual(0.9 * limit);
      const restores = run!.decisions.filter((d) => d.kind === 'restore');
      expect(restores).toHaveLength(1);
      expect(restores[0]!.ceiling).toBeGreaterThan(0.6 * limit); // back to the curve from before the refusal, not the floor's
      expect(restores[0]!.share).toBeGreaterThan(0.9); // recorded with the refusal's answers
    }
  });

  test('a slow API (2/s), refused from 20 s to 50 s: done within 200 s (before: 486–513 s; 151 s without the refusal)', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate: 2, burst: 2 }, noise: { ...refusal, fromMs: 20_000, toMs: 50_000, retryAfterS: 1 }, seed }, [{ orders: 300, concurrency: 4, latencyMs: 50 }], 1_800_000);
      expect(run!.finishedAt).toBeLessThan(200_000);
    }
  });

  test('refused from the start (unpaced before): doubling each second until the server throttles, the limit found as at any start: 0.9 of it from 45 s to 60 s (before: 0.72 from 40 s)', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate: 100 }, noise: { chance: 1, retryAfterS: 1, toMs: 30_000 }, seed }, [{ orders: 6000, concurrency: 16, latencyMs: 20 }], 1_800_000);
      expect(run!.decisions.find((d) => d.kind === 'restore')).toMatchObject({ ceiling: null });
      expect(rateBetween(run!, 45_000, 60_000)).toBeGreaterThanOrEqual(90);
    }
  });

  test('a server that accepts one request in fifty is refusing, not pacing: halted within 90 s, fewer than 150 requests (red team: a climb back at each accepted answer, 14,692 requests in 10 min, never halted)', () => {
    for (const every of [40, 50]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate: 100 }, noise: { chance: 1, every, retryAfterS: 1 }, seed: 1 }, [{ orders: 3000, concurrency: 16, latencyMs: 20 }], 600_000);
      expect(run!.refused?.at).toBeLessThan(90_000);
      expect(run!.sent).toBeLessThan(150);
    }
  });

  test('a slow API from the start (0.1–0.2/s, a burst of 5): no more 429s than 1.3 times the climb from the floor paid (red team: 1,915 and 2,872 requests where 208 and 244 went)', () => {
    const before: Record<number, number> = { 0.1: 144, 0.2: 120 };
    for (const rate of [0.1, 0.2]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate, burst: 5 }, seed: 1 }, [{ orders: 5000, concurrency: 16, latencyMs: 20 }], 600_000);
      expect(run!.throttled).toBeLessThanOrEqual(1.3 * before[rate]!);
    }
  });

  test('shards are not restored: their windows accept nothing as often for the other shards\' load', () => {
    const runs = simulate({ limit: { kind: 'bucket', rate: 100 }, noise: { ...refusal, retryAfterS: 1 }, seed: 1 }, [0, 1, 2, 3].map((i) => ({ orders: 3000, concurrency: 8, latencyMs: 20, startMs: i * 50, sharers: 4 })), 1_800_000);
    expect(runs.flatMap((run) => run.decisions).filter((d) => d.kind === 'restore')).toEqual([]);
  });
});

describe('RefusalMemory', () => {
  test('the curve before the first window accepted nothing of, with the refusal\'s answers, once per window accepted nothing of', () => {
    const memory = new RefusalMemory<string>();
    expect(memory.accepted(0)).toBeUndefined(); // nothing refused yet
    memory.cut(0.95, 'A', 0); // some accepted: a limit, not a refusal
    expect(memory.accepted(0)).toBeUndefined();
    memory.cut(1, 'A', 1000);
    memory.answered(true);
    memory.cut(1, 'B', 2000); // further down: the first is kept
    memory.answered(true);
    memory.answered(false);
    expect(memory.accepted(3000)).toEqual({ target: 'A', since: 1000, answers: 3, throttled: 2 });
    expect(memory.accepted(3000)).toBeUndefined(); // climbing back: not again until another window accepted nothing of
  });

  test('a climb back cut before it got back: the next waits 10 s, then 20 s, 40 s, even when the cut found a limit (a quota spent again); one that got back clears the wait', () => {
    const memory = new RefusalMemory<string>();
    memory.cut(1, 'A', 0);
    expect(memory.accepted(1000)?.target).toBe('A');
    memory.cut(1, 'C', 2000); // met the refusal again
    expect(memory.accepted(11_999)).toBeUndefined();
    expect(memory.accepted(12_000)?.target).toBe('A');
    memory.cut(1, 'C', 13_000); // again: 20 s
    expect(memory.accepted(32_999)).toBeUndefined();
    expect(memory.accepted(33_000)?.target).toBe('A');
    memory.cut(0.4, 'D', 34_000); // cut again before it got back, by a limit this time: the refusal is over, the wait is 40 s
    memory.cut(1, 'E', 35_000); // a new refusal, from the curve before it
    expect(memory.accepted(73_999)).toBeUndefined();
    expect(memory.accepted(74_000)?.target).toBe('E');
    memory.reached(76_000); // got back
    memory.cut(0.5, 'F', 90_000); // a limit measured: the refusal is over
    memory.cut(1, 'G', 100_000); // refused again within a minute of getting back: that climb did not hold (a quota): 80 s
    expect(memory.accepted(179_999)).toBeUndefined();
    expect(memory.accepted(180_000)?.target).toBe('G');
    memory.reached(181_000);
    memory.cut(0.5, 'H', 200_000);
    memory.cut(1, 'I', 241_001); // a minute and more after getting back: that one held, and the next need not wait
    expect(memory.accepted(241_002)?.target).toBe('I');
  });

  test('a quota of 30 per 10 s (an honest Retry-After): done within 720 s at under 0.6 requests answered 429 per order (red team: the first climb back, at every window, 1.7 and orders out of attempts on a real fake; the climb from the floor, 0.3 in 708 s)', () => {
    for (const seed of [1, 2]) {
      const [run] = simulate({ limit: { kind: 'window', rate: 30, windowS: 10 }, seed }, [{ orders: 2000, concurrency: 8, latencyMs: 50 }], 900_000);
      expect(run!.finishedAt).toBeLessThan(720_000);
      expect(run!.throttled / run!.done).toBeLessThan(0.6);
    }
  });

  test('unpaced before the refusal: the target is null', () => {
    const memory = new RefusalMemory<string>();
    memory.cut(1, undefined, 0);
    memory.cut(1, 'B', 1);
    expect(memory.accepted(2)?.target).toBeNull();
  });
});
