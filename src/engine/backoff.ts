import { setTimeout as delay } from 'node:timers/promises';
import { MAX_TIMER_MS } from '../common/durations.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface BackoffOptions {
  /** Retries after the first attempt (so at most retries + 1 attempts). */
  retries: number;
  baseMs: number;
  capMs: number;
  /** Injected in tests; Math.random otherwise. */
  random?: () => number;
  sleep?: Sleep;
}

/**
 * The engine's clock: the wall clock's time at start, then monotonic. It never steps back: the wall clock set back an
 * hour held a paced run, or the retry budget's probe, for that hour (red team). Processes started together share its seconds.
 */
export const steadyNow = (): number => performance.timeOrigin + performance.now();

/** A sleep that never overflows Node's timers (the caller caps waits well below this; this is the floor under it). */
export const safeSleep: Sleep = (ms, signal) => delay(Math.min(Math.max(0, ms), MAX_TIMER_MS), undefined, { signal });

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export class Backoff {
  readonly retries: number;
  readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.retries = options.retries;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? safeSleep;
  }

  /**
   * The wait before retry number `retry` (1-based): uniform in [0, min(cap, base·2^(retry-1))]; or, when
   * the server said when to come back (`retryAfterMs`: Retry-After), that, and up to a tenth more so that
   * the orders it throttled together do not all come back in the same millisecond. Its own time is what
   * the server asked for: piling the backoff on top only lengthens the run's tail.
   */
  delayMs(retry: number, retryAfterMs = 0): number {
    if (retryAfterMs > 0) return retryAfterMs + Math.round(this.random() * 0.1 * retryAfterMs);
    const ceiling = Math.min(this.options.capMs, this.options.baseMs * 2 ** (retry - 1));
    return Math.round(this.random() * ceiling);
  }
}
