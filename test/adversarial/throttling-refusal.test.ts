import { describe, expect, test } from '@jest/globals';
import { runOnFake as run } from '../helpers/cli.js';
// Every DELETE refused (issue 21, case 15): see test/adversarial/throttling-noise.test.ts.

describe('429s that do not depend on the rate', () => {
  test('every DELETE answered 429 (Retry-After 1): orders fail at the pace the server answers and the run halts with the cause, rather than crawl (before: one request every 20 s for an hour)', async () => {
    // The minute of nothing but 429s that halts a run whose orders never fail is proven in simulated time (test/refusal-watch).
    const { result, end, lines } = await run(60, { faults: { seed: 5, throttle: 1, retryAfterS: 1 } }, ['--retries', '1', '--halt-after', '4', '--max-duration', '45s']);

    expect(result.code).toBe(4);
    expect(end).toMatchObject({ status: 'halted', exitCode: 4, reason: expect.stringMatching(/^4 orders in a row failed with HTTP 429/) });
    expect(result.log).toMatch(/--resume/);
    expect(end.summary).toMatchObject({ deleted: 0 });
    expect(lines.filter((l) => l.event === 'order' && l.outcome !== 'failed')).toEqual([]);
  }, 60_000);
});
