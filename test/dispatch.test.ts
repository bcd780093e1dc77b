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
  test('never runs more than `max` workers, and pulls items only as room frees up', async () => {
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
    const done = dispatch(items(), { max: 3 }, async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await g.task();
      running--;
    }, new AbortController().signal);
    await tick();
    expect(g.waiting).toBe(3);
    expect(pulled).toBeLessThanOrEqual(4); // 3 running + the one waiting for room
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
    const done = dispatch(Array.from({ length: 50 }, (_, i) => i), { max: 2 }, async (i) => {
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
    const result = dispatch([1, 2, 3, 4, 5, 6], { max: 2 }, async (i) => {
      if (i === 2) throw new Error('boom');
      await tick();
      settled.push(i);
    }, new AbortController().signal);
    await expect(result).rejects.toThrow('boom');
    expect(settled).toContain(1);
    expect(settled.length).toBeLessThan(5);
  });

  test('`ready` holds new items back while it says no, and is asked again as time passes (an item waiting to retry settles nothing)', async () => {
    const g = gate();
    let busy = 2;
    const started: number[] = [];
    let onStart: () => void = () => undefined;
    /** Resolves once `count` items have started: waits for the items, never for time. */
    const untilStarted = (count: number) => new Promise<void>((resolve) => {
      onStart = () => void (started.length >= count && resolve());
      onStart();
    });
    const done = dispatch(Array.from({ length: 6 }, (_, i) => i), { max: 10, ready: (running) => running - (2 - busy) < 2 }, async (i) => {
      started.push(i);
      onStart();
      await g.task();
    }, new AbortController().signal);
    await tick();
    expect(started).toEqual([0, 1]);
    busy = 0; // both now wait to retry: room for two more, without anything settling
    await untilStarted(4);
    expect(started).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 6; i++) {
      await untilStarted(Math.min(6, 4 + i)); // each item released has made room for the next
      g.releaseOne();
    }
    await done;
    expect(started).toHaveLength(6);
  });

  test('zero items is fine', async () => {
    await expect(dispatch([], { max: 4 }, async () => undefined, new AbortController().signal)).resolves.toBeUndefined();
  });
});
