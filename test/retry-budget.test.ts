import { describe, expect, test } from '@jest/globals';
import { RetryBudget } from '../src/engine/retry-budget.js';

function budget() {
  const clock = { now: 0 };
  const b = new RetryBudget({ now: () => clock.now, sleep: async (ms) => void (clock.now += ms) });
  return { b, clock };
}

describe('RetryBudget', () => {
  test('a few retryable answers among many are within the budget; new orders are not held', async () => {
    const { b, clock } = budget();
    for (let i = 0; i < 100; i++) b.answered(i % 3 === 0); // a third ask for a retry
    expect(b.spent()).toBe(false);
    await b.admit();
    expect(clock.now).toBe(0);
  });

  test('past half of the answers over 5 s (at least 10), new orders wait, one a second going ahead as a probe', async () => {
    const { b, clock } = budget();
    for (let i = 0; i < 9; i++) b.answered(true);
    expect(b.spent()).toBe(false); // nine are too few to judge
    b.answered(true);
    expect(b.spent()).toBe(true);
    const admitted: number[] = [];
    for (let i = 0; i < 4; i++) {
      await b.admit();
      admitted.push(clock.now);
    }
    expect(admitted).toEqual([0, 1000, 2000, 3000]);
    expect(b.heldMs).toBe(3000);
  });

  test('once the failures stop, the window empties and dispatch opens within 5 s', async () => {
    const { b, clock } = budget();
    for (let i = 0; i < 30; i++) b.answered(true);
    clock.now = 4999;
    expect(b.spent()).toBe(true);
    clock.now = 5000;
    expect(b.spent()).toBe(false);
  });

  test('good answers keep the share under half', () => {
    const { b, clock } = budget();
    for (let i = 0; i < 20; i++) b.answered(true);
    expect(b.spent()).toBe(true);
    clock.now = 100;
    for (let i = 0; i < 21; i++) b.answered(false);
    expect(b.spent()).toBe(false);
  });

  test('a stopping run stops waiting', async () => {
    const { b } = budget();
    for (let i = 0; i < 10; i++) b.answered(true);
    await b.admit(); // the probe
    const stop = new AbortController();
    stop.abort();
    await expect(b.admit(stop.signal)).rejects.toThrow();
  });
});
