import { jest } from '@jest/globals';

/** Runs `body` with Date.now on the real clock plus an offset `body` may set (the wall clock stepped), restored after. */
export async function withSteppedWallClock(body: (step: (offsetMs: number) => void) => Promise<void>): Promise<void> {
  const realNow = Date.now.bind(Date);
  let offset = 0;
  const wallClock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
  try {
    await body((offsetMs) => (offset = offsetMs));
  } finally {
    wallClock.mockRestore();
  }
}

/** `sent` if `promise` settles within `ms`, else `held`; the timer cleared either way. */
export async function sentWithin(promise: Promise<unknown>, ms: number): Promise<'sent' | 'held'> {
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<'held'>((resolve) => (timer = setTimeout(resolve, ms, 'held')));
  try {
    return await Promise.race([promise.then(() => 'sent' as const), held]);
  } finally {
    clearTimeout(timer);
  }
}
