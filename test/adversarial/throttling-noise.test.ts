import { describe, expect, test } from '@jest/globals';
import { FAST, runOnFake as run } from '../helpers/cli.js';
/**
 * Issue 21, cases 7 and 15 (this file, throttling-refusal and throttling-pause): a server whose 429s are not
 * about this client's rate, through the built CLI. The rules' exact figures (how soon the noise is found,
 * the minute of refusal, where a pause ends) are proven in simulated time (test/noise-test,
 * test/refusal-watch, test/rate-controller-pauses); these files, what a run does with them. Bounds are
 * outcomes (exit code, records), with --max-duration as the only clock, set far beyond what a run three
 * times slower needs and far below what the defects took. One file per behaviour: each waits on real time,
 * and apart they wait side by side. Here: half the DELETEs refused at random (case 7).
 */

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
