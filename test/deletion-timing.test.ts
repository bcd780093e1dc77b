import { describe, expect, test } from '@jest/globals';
import { simOrderIds, simulateDeletion, type SimDelete } from './helpers/deletion-sim.js';

/**
 * Rates, outages, deadlines and Retry-After: the real deletion engine against a simulated API on
 * simulated time (test/helpers/deletion-sim), with the orders, limits and options of test/e2e/guards.
 * On a real clock a busy machine slows the client and bends every rate; here each bound is exact, and
 * holds whatever else the machine is doing. test/e2e/guards keeps one real-time run of each through the
 * built CLI, with the bounds a slower machine cannot break.
 */
const succeeded = (deletes: SimDelete[]) => deletes.filter((d) => d.result === 204);
const inWindow = (deletes: SimDelete[], from: number, ms: number) => deletes.filter((d) => d.at >= from && d.at < from + ms).length;

describe('the deletion phase on simulated time', () => {
  test('--rps 100 caps the request rate of all workers together, and reaches it', async () => {
    const run = await simulateDeletion({ orders: 120 }, { concurrency: 8, rps: 100 });

    expect(run.records.map((r) => r.outcome)).toEqual(Array(120).fill('deleted'));
    const times = run.deletes.map((d) => d.at);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(((120 - 8) / 100) * 1000 - 20); // a burst of at most 8, then 100/s
    for (const t of times) expect(inWindow(run.deletes, t, 500)).toBeLessThanOrEqual(50 + 8);
    expect(times.at(-1)! - times[0]!).toBeLessThanOrEqual((120 / 100) * 1000); // the cap is the pace, not slower
    expect(run.rate.throttledMs).toBe(0);
  });

  test('random 429s (noise) pause nobody: each throttled order waits out its own Retry-After, the others go on', async () => {
    const run = await simulateDeletion({ orders: 200, seed: 2, noise: { chance: 0.05, retryAfterS: 1 } }, { concurrency: 8 });

    const throttles = run.deletes.filter((d) => d.result === 429);
    expect(throttles.length).toBeGreaterThan(3);
    for (const t of throttles) {
      const again = run.deletes.find((d) => d.orderId === t.orderId && d.at > t.at);
      expect(again!.at - t.at).toBeGreaterThanOrEqual(1000); // the Retry-After, and up to a tenth more
      expect(again!.at - t.at).toBeLessThanOrEqual(1100 + 5);
    }
    // While the first throttled order waits its second, most others are deleted (200 orders take about 2 s).
    const first = throttles[0]!.at;
    expect(inWindow(succeeded(run.deletes), first, 990)).toBeGreaterThan(50);
    expect(run.decisions).toEqual([]);
    expect(run.records.map((r) => r.orderId).sort()).toEqual(simOrderIds(200));
    expect(run.records.every((r) => r.outcome === 'deleted')).toBe(true);
    expect({ throttled: run.rate.throttledAnswers, cuts: run.rate.cuts, ceiling: run.rate.ceilingRps, throttledMs: run.rate.throttledMs })
      .toEqual({ throttled: throttles.length, cuts: 0, ceiling: undefined, throttledMs: 0 });
  });

  test('a real limit (a token bucket of 100/s) is found: the rate is cut to what the server accepted, and few requests are throttled after', async () => {
    const run = await simulateDeletion({ orders: 500, limit: { kind: 'bucket', rate: 100 } }, { concurrency: 8 });

    const [first] = run.decisions;
    expect(first).toMatchObject({ kind: 'cut', rateBefore: Number.POSITIVE_INFINITY }); // "rate cut from unpaced to …"
    expect(first!.rateAfter).toBeGreaterThan(50);
    expect(first!.rateAfter).toBeLessThan(200); // the bucket's saved-up burst passes for rate at first
    expect(new Set(run.records.map((r) => r.orderId)).size).toBe(500);
    expect(run.records).toHaveLength(500);
    expect(run.rate.cuts).toBe(run.decisions.filter((d) => d.kind !== 'lift').length);
    expect(run.rate.ceilingRps).toBeGreaterThan(60);
    expect(run.rate.ceilingRps).toBeLessThan(200);
    const deletedAt = succeeded(run.deletes).map((d) => d.at);
    const delivered = (500 * 1000) / (deletedAt.at(-1)! - deletedAt[0]!);
    expect(delivered).toBeLessThan(130); // the burst, then 100/s: the limit held
    expect(delivered).toBeGreaterThan(95); // and was used
    expect(run.rate.throttledAnswers).toBe(run.limited);
    expect(run.limited / run.rate.answers).toBeLessThan(0.25);
  });

  test('an outage (every DELETE 503 for 2 s): the retry budget sends a probe a second instead of a storm, and the run recovers, losing nothing', async () => {
    const run = await simulateDeletion({ orders: 300, outage: { afterMs: 300, durationMs: 2000 } }, { concurrency: 8, retries: 10, rps: 200 });

    // Retries 5-50 ms apart would send hundreds in 2 s; the budget lets the failures it needs to judge come, then one a second.
    const failed = run.deletes.filter((d) => d.result === 503);
    expect(failed.length).toBeGreaterThan(8);
    expect(failed.length).toBeLessThan(60);
    // Judged down within the outage's first second; from then on, a probe a second.
    const outageStart = run.deletes[0]!.at + 300;
    expect(inWindow(failed, outageStart + 1000, 1000)).toBeLessThanOrEqual(2);
    expect(run.records.map((r) => r.orderId).sort()).toEqual(simOrderIds(300));
    expect(run.records.every((r) => r.outcome === 'deleted')).toBe(true);
    expect(run.budget.heldMs).toBeGreaterThan(1000);
  });

  test('--max-duration stops dispatching at the deadline: nothing is sent after it, what was in flight finishes and is recorded', async () => {
    const run = await simulateDeletion({ orders: 100, latencyMs: 100 }, { concurrency: 2, maxDurationMs: 2000 });

    expect(run.control.reason).toMatchObject({ kind: 'halt', exitCode: 4, message: expect.stringMatching(/--max-duration deadline \(2 s\)/) });
    // A request arrives half a round trip (at most 62.5 ms here) after it was sent.
    expect(run.deletes.every((d) => d.at <= 2000 + 62.5)).toBe(true);
    expect(run.endedAt).toBeLessThanOrEqual(2000 + 125); // the requests in flight finish: one round trip at most
    expect(run.records).toHaveLength(run.deletes.length);
    expect(run.remaining.size).toBe(100 - run.records.length);
    expect(run.records.length).toBeGreaterThan(30); // two at a time, 100 ms each, for 2 s
  });
});
