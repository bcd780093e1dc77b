import { describe, expect, test } from '@jest/globals';
import { FAST } from '../helpers/cli.js';
import { throttledRun as run } from '../helpers/throttled-run.js';
// Half the DELETEs refused at random (issue 21, case 7): see test/helpers/throttled-run.ts.

describe('429s that do not depend on the rate', () => {
  test('half the DELETEs answered 429 at random, without Retry-After: the pace does not collapse, and the run finishes (before: 112 of 300 in 240 s)', async () => {
    const { result, end, throttles } = await run(60, { faults: { seed: 5, throttle: 0.5 }, hostile: { retryAfterHeader: () => undefined } },
      [...FAST, '--retries', '25', '--max-duration', '60s']);

    expect(result.code).toBe(0);
    expect(end.summary).toMatchObject({ deleted: 60, failed: 0 });
    expect(throttles.filter((l) => l.kind === 'cut').length).toBeLessThanOrEqual(12);
    for (const l of throttles) expect(l.pauseMs).toBeLessThanOrEqual(1000); // no Retry-After: a second, when clearly over
  }, 90_000);
});
