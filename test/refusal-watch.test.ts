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
 * what takes 119 s. The curve from before the refusal comes back with the first accepted answer (RefusalMemory).
 */
describe('a refusal that ends: the rate from before it back', () => {
  const refusal = { chance: 1, fromMs: 10_000, toMs: 40_000 };
  test.each([
    ['a bucket of 100/s, Retry-After 1 s', 160, { limit: { kind: 'bucket', rate: 100 }, noise: { ...refusal, retryAfterS: 1 } }, 12_000, 100],
    ['a bucket of 100/s, no Retry-After', 160, { limit: { kind: 'bucket', rate: 100 }, noise: refusal }, 12_000, 100],
    ['a bucket of 20/s', 190, { limit: { kind: 'bucket', rate: 20 }, noise: { ...refusal, retryAfterS: 1 } }, 3_000, 20],
    ['a window of 50 a second', 160, { limit: { kind: 'window', rate: 50 }, noise: refusal }, 6_000, 50],
  ] as const)('%s, refused from 10 s to 40 s: done within %d s, 0.9 of the limit from 45 s on (before: 730–990 s)', (_name, withinS, server, orders, limit) => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ ...server, seed } as SimServer, [{ orders, concurrency: 16, latencyMs: 20 }], 1_800_000);
      expect(run!.refused).toBeUndefined();
      expect(run!.finishedAt).toBeLessThan(withinS * 1000);
      expect(rateBetween(run!, 45_000, 100_000)).toBeGreaterThanOrEqual(0.9 * limit);
      const restores = run!.decisions.filter((d) => d.kind === 'restore');
      expect(restores).toHaveLength(1);
      expect(restores[0]!.rateAfter).toBeGreaterThan(0.6 * limit); // the rate before the refusal, not the floor
    }
  });

  test('a slow API (2/s), refused from 20 s to 50 s: done within 200 s (before: 486–513 s; 151 s without the refusal)', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate: 2, burst: 2 }, noise: { ...refusal, fromMs: 20_000, toMs: 50_000, retryAfterS: 1 }, seed }, [{ orders: 300, concurrency: 4, latencyMs: 50 }], 1_800_000);
      expect(run!.finishedAt).toBeLessThan(200_000);
    }
  });

  test('refused from the start (unpaced before): unpaced again when it accepts, the limit found as at any start: 0.95 of it from 40 s to 60 s (before: 0.72)', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ limit: { kind: 'bucket', rate: 100 }, noise: { chance: 1, retryAfterS: 1, toMs: 30_000 }, seed }, [{ orders: 6000, concurrency: 16, latencyMs: 20 }], 1_800_000);
      expect(run!.decisions.find((d) => d.kind === 'restore')).toMatchObject({ rateAfter: Number.POSITIVE_INFINITY, ceiling: null });
      expect(rateBetween(run!, 40_000, 60_000)).toBeGreaterThanOrEqual(95);
    }
  });

  test('shards are not restored: their windows accept nothing as often for the other shards\' load', () => {
    const runs = simulate({ limit: { kind: 'bucket', rate: 100 }, noise: { ...refusal, retryAfterS: 1 }, seed: 1 }, [0, 1, 2, 3].map((i) => ({ orders: 3000, concurrency: 8, latencyMs: 20, startMs: i * 50, sharers: 4 })), 1_800_000);
    expect(runs.flatMap((run) => run.decisions).filter((d) => d.kind === 'restore')).toEqual([]);
  });
});

describe('RefusalMemory', () => {
  test('the curve before the first window accepted nothing of comes back with the next accepted answer, once', () => {
    const memory = new RefusalMemory<string>();
    expect(memory.accepted('A')).toBeUndefined(); // nothing refused yet
    memory.cut(0.95, 'A'); // some accepted: a limit, not a refusal
    expect(memory.accepted('A')).toBeUndefined();
    memory.cut(1, 'A');
    memory.cut(1, 'B'); // further down: the first is kept
    expect(memory.accepted('C')).toBe('A');
    expect(memory.accepted('A')).toBeUndefined(); // on trial: not again
    expect(memory.judged(false, 0)).toBeUndefined(); // the trial passed: the refusal is over
    memory.cut(1, 'D');
    expect(memory.accepted('E')).toBe('D'); // a new refusal, from the curve before it
  });

  test('a trial over with half its answers throttled or more goes back to the curve it replaced, and waits for another window accepted nothing of', () => {
    const memory = new RefusalMemory<string>();
    memory.cut(1, 'A');
    expect(memory.accepted('C')).toBe('A');
    expect(memory.judged(true, 0.6)).toBe('C');
    expect(memory.accepted('C')).toBeUndefined();
    memory.cut(0.9, 'C');
    expect(memory.accepted('C')).toBeUndefined();
    memory.cut(1, 'C');
    expect(memory.accepted('C')).toBe('A'); // still the curve from before the refusal
    expect(memory.judged(true, 0.4)).toBeUndefined(); // a lower limit, not a refusal: measured by the cut that follows
    memory.cut(1, 'F');
    expect(memory.accepted('G')).toBe('F');
  });

  test('unpaced before the refusal: restored as unpaced (null)', () => {
    const memory = new RefusalMemory<string>();
    memory.cut(1, undefined);
    memory.cut(1, 'B');
    expect(memory.accepted('C')).toBeNull();
  });
});
