import { describe, expect, test } from '@jest/globals';
import { dispatch } from '../src/engine/dispatch.js';

/** Tasks that finish only when the test says so. */
function gate() {
  const waiting: Array<() => void> = [];
  return {
    task: () => new Promise<void>((resolve) => waiting.push(resolve)),
    releaseOne: () => waiting.shift()?.(),
    get waiting() {
      return waiting.length;
    },
  };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('dispatch', () => {
  test('never runs more than `concurrency` workers, and pulls items only as slots free up', async () => {
    const g = gate();
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    let running = 0;
    let maxRunning = 0;
    const done = dispatch(items(), 3, async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await g.task();
      running--;
    }, new AbortController().signal);
    await tick();
    expect(g.waiting).toBe(3);
    expect(pulled).toBeLessThanOrEqual(7); // 3 running + 3 queued + the one waiting for room
    for (let i = 0; i < 100; i++) {
      g.releaseOne();
      await tick();
    }
    await done;
    expect(maxRunning).toBe(3);
    expect(pulled).toBe(100);
  });

  test('stops pulling when told to stop; started work finishes', async () => {
    const g = gate();
    const stop = new AbortController();
    const started: number[] = [];
    const done = dispatch(Array.from({ length: 50 }, (_, i) => i), 2, async (i) => {
      started.push(i);
      await g.task();
    }, stop.signal);
    await tick();
    stop.abort();
    g.releaseOne();
    g.releaseOne();
    await done;
    expect(started).toEqual([0, 1]);
  });

  test('a worker that throws stops the dispatch; the error surfaces after the others settle', async () => {
    const settled: number[] = [];
    const result = dispatch([1, 2, 3, 4, 5, 6], 2, async (i) => {
      if (i === 2) throw new Error('boom');
      await tick();
      settled.push(i);
    }, new AbortController().signal);
    await expect(result).rejects.toThrow('boom');
    expect(settled).toContain(1);
    expect(settled.length).toBeLessThan(5);
  });

  test('zero items is fine', async () => {
    await expect(dispatch([], 4, async () => undefined, new AbortController().signal)).resolves.toBeUndefined();
  });
});
