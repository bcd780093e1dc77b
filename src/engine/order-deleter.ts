import type { AxiosInstance } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import type { OrderRecord, RetryRecord } from '../audit/journal.js';
import type { TokenSource } from '../exsited/auth.js';
import { deleteOrder, type AttemptResult } from '../exsited/orders.js';
import type { Backoff } from './backoff.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RunControl } from './run-control.js';

type Unfinished = Exclude<AttemptResult, { kind: 'done' } | { kind: 'canceled' }>;

/** An attempt that did not finish the order; p-retry decides whether another one follows. */
class AttemptFailed extends Error {
  constructor(readonly result: Unfinished) {
    super(result.message);
  }
}

/** The run is stopping: the order is left pending, with no audit line, for the resume. */
class Stopped extends Error {}

export interface OrderDeleterDeps {
  http: AxiosInstance;
  tokens: TokenSource;
  backoff: Backoff;
  limiter: RateLimiter;
  control: RunControl;
  onRetry: (record: RetryRecord) => void;
}

/**
 * Deletes one order with retries: transport errors, 408, 429 and 5xx are retried with full-jitter
 * backoff (never sooner than Retry-After); a 401 renews the token and resends at once (the first time
 * per order without using up a retry); other 4xx fail at once. `attempts` counts the requests sent.
 * Returns the order's audit record, or undefined when the run stopped before the order finished.
 * Throws TokenError when authentication is lost for good.
 */
export async function deleteWithRetry(orderId: string, deps: OrderDeleterDeps): Promise<OrderRecord | undefined> {
  const { http, tokens, backoff, limiter, control } = deps;
  const startedAt = performance.now();
  let attempts = 0;
  let renewed = false;
  const record = (fields: Omit<OrderRecord, 'orderId' | 'attempts' | 'durationMs'>): OrderRecord => ({
    orderId, ...fields, attempts, durationMs: Math.round(performance.now() - startedAt),
  });

  /**
   * One DELETE, when the shared rate allows, with a token fit to use. Its answer feeds back: a 401 makes
   * the token source renew, a 429 throttles every worker, a success lets the rate climb.
   */
  const send = async () => {
    let token: string;
    try {
      await limiter.acquire(control.stopping);
      token = await tokens.get(control.aborting);
    } catch (error) {
      throw new AbortError(control.stopping.aborted ? new Stopped() : (error as Error));
    }
    attempts++;
    const result = await deleteOrder(http, orderId, token, control.aborting);
    if (result.kind === 'unauthorized') tokens.refused(token);
    else if (result.kind === 'retry' && result.httpStatus === 429) limiter.throttled(result.retryAfterMs);
    else if (result.kind === 'done') limiter.succeeded();
    return result;
  };

  try {
    const done = await pRetry(async () => {
      if (control.stopping.aborted) throw new AbortError(new Stopped());
      let result = await send();
      if (result.kind === 'unauthorized' && !renewed && !control.stopping.aborted) {
        // As Exsited's SDKs do: renew and resend at once, the first time, without using up a retry.
        renewed = true;
        deps.onRetry({ orderId, attempt: attempts, httpStatus: 401, delayMs: 0 });
        result = await send();
      }
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
        if (control.stopping.aborted) throw new Stopped();
        const { result } = error;
        const delayMs = backoff.delayMs(retriesConsumed + 1, result.kind === 'retry' ? result.retryAfterMs : 0);
        deps.onRetry({
          orderId,
          attempt: attempts,
          ...(result.httpStatus === null ? { errorCode: result.code } : { httpStatus: result.httpStatus }),
          delayMs,
        });
        try {
          if (delayMs > 0) await backoff.sleep(delayMs, control.stopping);
        } catch {
          throw new Stopped();
        }
        return true;
      },
    });
    return record({ outcome: done.outcome, httpStatus: done.httpStatus });
  } catch (error) {
    if (error instanceof AttemptFailed) {
      const { httpStatus, code, message } = error.result;
      return record({ outcome: 'failed', httpStatus, error: { code, message } });
    }
    if (error instanceof Stopped) return undefined;
    throw error;
  }
}
