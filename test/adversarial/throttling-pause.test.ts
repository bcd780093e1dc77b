import { describe, expect, test } from '@jest/globals';
import { runOnFake as run } from '../helpers/cli.js';
// A long Retry-After (issue 21, case 7): see test/adversarial/throttling-noise.test.ts.

describe('a long Retry-After, as an HTTP date or as seconds', () => {
  const inSeconds = (s: number) => (now: number) => new Date(now + s * 1000).toUTCString();
  // As seconds, the same rule on simulated time (test/rate-controller-pauses).
  test.each([
    ['an HTTP date 4 s ahead', inSeconds(4)],
  ])('%s, on 60%% of DELETEs: everyone waits once, and after the pause the pace is where the cut left it (before: a pause per cut, then "paced at 260/s")', async (_name, retryAfterHeader) => {
    const { result, lines, throttles } = await run(300, { faults: { seed: 5, throttle: 0.6 }, hostile: { retryAfterHeader } }, ['--max-duration', '9s']);

    expect([0, 1, 4]).toContain(result.code); // the deadline may end it: the records are what is asked of it
    const paused = throttles.filter((l) => l.pauseMs > 0);
    expect(paused).toHaveLength(1);
    expect(paused[0]!.pauseMs).toBeLessThanOrEqual(4000);
    const after = lines.slice(lines.indexOf(paused[0]!) + 1);
    const firstPace = after.find((l) => l.event === 'pace' && l.rps !== null);
    expect(firstPace).toBeDefined();
    expect(firstPace!.rps).toBeLessThan(paused[0]!.rateAfter + 40); // before: + 4·4³ (the climb through the pause)
    for (const l of after) {
      if (l.event === 'pace' && l.rps !== null) expect(l.rps).toBeLessThan(1000);
    }
  }, 60_000);
});
