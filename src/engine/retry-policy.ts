import pRetry, { AbortError } from 'p-retry';
import { humanDuration } from '../common/durations.js';
import type { AttemptResult, Unfinished } from '../exsited/orders.js';
import type { Backoff } from './backoff.js';

/** What an order.retry line records of a retry, bar the order. */
export interface RetryInfo {
  attempt: number;
  httpStatus?: number;
  errorCode?: string;
  delayMs: number;
}

export type Retried<T> =
  | { ok: true; value: T; httpStatus: number }
  /** `failure.kind` tells a final answer (`failed`) from retries used up (`retry`, `unauthorized`). */
  | { ok: false; failure: Unfinished };

/**
 * The longest Retry-After honoured. A server asking for more is not asking for a retry (maintenance,
 * or a broken header such as 999999999 s): that call fails at once, saying so, and --halt-after stops a
 * run where every order meets it. Without this, a wait past Node's timer limit fires every millisecond.
 */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** An attempt that did not succeed; p-retry decides whether another one follows. */
class AttemptFailed extends Error {
  constructor(readonly result: Unfinished) {
    super(result.message);
  }
}

/** The run is stopping: no further attempt. */
class Stopped extends Error {}

/**
 * The retry policy of every API call — DELETE, listing, and the token endpoint alike: transport errors,
 * 408, 429 and 5xx (and a 401 the caller could not cure) are tried again after the server's Retry-After
 * (and up to a tenth more), or without one after a full-jitter backoff; a Retry-After over MAX_RETRY_AFTER_MS, and any other answer, is final.
 * `stop` ends the retrying (and a wait in progress); the result is then undefined.
 */
export class RetryPolicy {
  /** Calls waiting out a backoff or a Retry-After right now. */
  waiting = 0;

  constructor(
    private readonly backoff: Backoff,
    private readonly stop: AbortSignal,
  ) {}

  async run<T>(attempt: () => Promise<AttemptResult<T>>, onRetry: (retry: Omit<RetryInfo, 'attempt'>) => void = () => undefined): Promise<Retried<T> | undefined> {
    // The first attempt is made here, and an answer that needs no other returns at once: nearly every call
    // is one of those, and p-retry's set-up per call (its options copied and checked, its closures) held a
    // run at zero latency to about 14% fewer orders a second. Any other answer goes through p-retry as its
    // first attempt, counted as before.
    const first = this.stop.aborted ? undefined : await attempt();
    if (first?.kind === 'done') return { ok: true, value: first.value, httpStatus: first.httpStatus };
    return this.retrying(attempt, onRetry, first);
  }

  private async retrying<T>(
    attempt: () => Promise<AttemptResult<T>>, onRetry: (retry: Omit<RetryInfo, 'attempt'>) => void, first: AttemptResult<T> | undefined,
  ): Promise<Retried<T> | undefined> {
    const { backoff, stop } = this;
    try {
      const done = await pRetry(async (attemptNumber) => {
        const made = attemptNumber === 1 ? first : undefined;
        if (!made && stop.aborted) throw new AbortError(new Stopped());
        const result = made ?? await attempt();
        const absurd = result.kind === 'retry' ? tooLongToWait(result) : undefined;
        if (absurd) throw new AbortError(new AttemptFailed(absurd));
        switch (result.kind) {
          case 'done':
            return result;
          case 'canceled':
            throw new AbortError(new Stopped());
          case 'unauthorized':
          case 'retry':
            throw new AttemptFailed(result);
          case 'failed':
            throw new AbortError(new AttemptFailed(result));
        }
      }, {
        retries: backoff.retries,
        minTimeout: 0,
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!(error instanceof AttemptFailed)) return false;
          if (stop.aborted) throw new Stopped();
          const { result } = error;
          const delayMs = backoff.delayMs(retriesConsumed + 1, result.kind === 'retry' ? result.retryAfterMs : 0);
          onRetry({ ...(result.httpStatus === null ? { errorCode: result.code } : { httpStatus: result.httpStatus }), delayMs });
          this.waiting++;
          try {
            if (delayMs > 0) await backoff.sleep(delayMs, stop);
          } catch {
            throw new Stopped();
          } finally {
            this.waiting--;
          }
          return true;
        },
      });
      return { ok: true, value: done.value, httpStatus: done.httpStatus };
    } catch (error) {
      if (error instanceof AttemptFailed) return { ok: false, failure: error.result };
      if (error instanceof Stopped) return undefined;
      throw error;
    }
  }
}

/** A retryable answer whose Retry-After asks for longer than this tool waits: a final failure instead. */
export function tooLongToWait(result: Unfinished): Unfinished | undefined {
  if (result.kind !== 'retry' || result.retryAfterMs === undefined || result.retryAfterMs <= MAX_RETRY_AFTER_MS) return undefined;
  return {
    kind: 'failed', httpStatus: result.httpStatus ?? 0, code: result.code,
    message: `${result.message}; the server asked to wait ${humanDuration(result.retryAfterMs)} before retrying (Retry-After), ` +
      `longer than the ${MAX_RETRY_AFTER_MS / 60_000} minutes this tool waits`,
  };
}
