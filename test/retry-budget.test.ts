import { describe, expect, test } from '@jest/globals';
import { RetryBudget } from '../src/engine/retry-budget.js';
import { sentWithin, withSteppedWallClock } from './helpers/wall-clock.js';

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

  test('past half of the answers over 5 s (at least 10) failing, requests wait, one a second going ahead as a probe', async () => {
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

  test('spent, it stays spent while only failures come back, however long; the first good answer opens the way', () => {
    const { b, clock } = budget();
    for (let i = 0; i < 30; i++) b.answered(true);
    clock.now = 60_000; // the window emptied, but nothing came back good: still down
    expect(b.spent()).toBe(true);
    b.answered(true); // a probe fails
    expect(b.spent()).toBe(true);
    b.answered(false); // a probe succeeds
    expect(b.spent()).toBe(false);
  });

  test('tells when the service is found failing and when it answers again, once each, with the figures that told', () => {
    const clock = { now: 0 };
    const changes: unknown[] = [];
    const b = new RetryBudget({ now: () => clock.now, onChange: (change) => changes.push(change) });
    for (let i = 0; i < 12; i++) b.answered(true);
    expect(changes).toEqual([{ state: 'failing', failures: 10, answers: 10 }]);
    clock.now = 7500;
    b.answered(true);
    expect(b.spent()).toBe(true);
    b.answered(false);
    expect(changes).toEqual([{ state: 'failing', failures: 10, answers: 10 }, { state: 'answering', failures: 0, answers: 1, failingMs: 7500 }]);
  });

  test('15 failures among the latest 20 spend it at once, however many good answers came before', () => {
    const { b } = budget();
    for (let i = 0; i < 2000; i++) b.answered(false);
    for (let i = 0; i < 14; i++) b.answered(true);
    expect(b.spent()).toBe(false);
    b.answered(true);
    expect(b.spent()).toBe(true);
  });

  test('failures among good answers (under half of them) are within the budget', () => {
    const { b } = budget();
    for (let i = 0; i < 20; i++) {
      b.answered(false);
      b.answered(i % 2 === 0);
      b.answered(i % 2 === 1);
    }
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

describe('the retry budget\'s own clock', () => {
  test('the wall clock set back an hour while the service fails holds no probe for the hour (second red team): the engine\'s clock never steps back', async () => {
    await withSteppedWallClock(async (step) => {
      const budget = new RetryBudget();
      for (let i = 0; i < 30; i++) budget.answered(true);
      await budget.admit(); // the first probe
      budget.answered(true);
      step(-3_600_000);
      expect(await sentWithin(budget.admit(), 4000)).toBe('sent');
    });
  });
});
