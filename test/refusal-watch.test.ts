import { describe, expect, test } from '@jest/globals';
import { REFUSED_MS, RefusalWatch } from '../src/engine/refusal-watch.js';
import { simulate } from './helpers/throttle-sim.js';

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
    expect(run!.refused!.reason).toMatch(/^every answer for 60 s was 429 Too Many Requests \(\d+ requests, at every pace tried\): the server is refusing this client, not pacing it; resume later$/);
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
