import { describe, expect, test } from '@jest/globals';
import { PushQueue } from '../src/report/push-queue.js';

/** A push that ends when the test says so (or when it is aborted), recording the state it sent. */
function controlledPushes(state: () => number) {
  const sent: number[] = [];
  const pending: Array<{ finish: () => void; signal: AbortSignal }> = [];
  const push = (signal: AbortSignal) => new Promise<void>((resolve, reject) => {
    sent.push(state());
    pending.push({ finish: resolve, signal });
    signal.addEventListener('abort', () => reject(signal.reason));
  });
  const finishNext = async () => {
    pending.shift()?.finish();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { push, sent, pending, finishNext };
}

describe('PushQueue: one in flight, one waiting, the latest state wins', () => {
  test('requests while one is in flight collapse into one push of the state at its start', async () => {
    let state = 0;
    const { push, sent, finishNext } = controlledPushes(() => state);
    const queue = new PushQueue(push);
    queue.request();
    for (state = 1; state <= 50; state++) queue.request();
    state = 99;
    expect(sent).toEqual([0]);
    await finishNext();
    expect(sent).toEqual([0, 99]);
    await finishNext();
    expect(sent).toEqual([0, 99]); // nothing was waiting any more
    expect(await queue.drain(1000)).toBe(true);
  });

  test('a failed push does not stop the next one', async () => {
    let calls = 0;
    const queue = new PushQueue(async () => {
      if (++calls === 1) throw new Error('refused');
    });
    queue.request();
    queue.request();
    expect(await queue.drain(1000)).toBe(true);
    expect(calls).toBe(2);
  });

  test('drain waits for the one in flight and the one waiting, within its bound in all; then aborts and takes no more', async () => {
    const { push, sent, pending } = controlledPushes(() => sent.length);
    const queue = new PushQueue(push);
    queue.request();
    queue.request();
    const started = Date.now();
    expect(await queue.drain(50)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sent).toEqual([0]); // the one waiting never started: the one in flight never ended
    expect(pending[0]!.signal.aborted).toBe(true);
    queue.request();
    expect(sent).toEqual([0]);
  });

  test('drain with nothing in flight ends at once', async () => {
    expect(await new PushQueue(async () => undefined).drain(10_000)).toBe(true);
  });
});
