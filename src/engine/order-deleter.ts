import type { AxiosInstance } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import type { OrderRecord, RetryRecord } from '../audit/journal.js';
import type { TokenSource } from '../exsited/auth.js';
import { deleteOrder, type AttemptResult } from '../exsited/orders.js';
import type { Backoff } from './backoff.js';
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
  control: RunControl;
  onRetry: (record: RetryRecord) => void;
}

/**
 * Deletes one order with retries: transport errors, 408, 429 and 5xx are retried with full-jitter
 * backoff (never sooner than Retry-After); a 401 renews the token (the first one per order without using
 * up a retry); other 4xx fail at once. Returns the order's audit record, or undefined when the run
 * stopped before the order finished. Throws TokenError when authentication is lost for good.
 */
export async function deleteWithRetry(orderId: string, deps: OrderDeleterDeps): Promise<OrderRecord | undefined> {
  const { http, tokens, backoff, control } = deps;
  const startedAt = performance.now();
  let attempts = 0;
  let renewedFree = false;
  const record = (fields: Omit<OrderRecord, 'orderId' | 'attempts' | 'durationMs'>): OrderRecord => ({
    orderId, ...fields, attempts, durationMs: Math.round(performance.now() - startedAt),
  });

  try {
    const done = await pRetry(async () => {
      if (control.stopping.aborted) throw new AbortError(new Stopped());
      attempts++;
      let token: string;
      try {
        token = await tokens.get(control.aborting);
      } catch (error) {
        throw new AbortError(control.stopping.aborted ? new Stopped() : (error as Error));
      }
      const result = await deleteOrder(http, orderId, token, control.aborting);
      switch (result.kind) {
        case 'done':
          return result;
        case 'canceled':
          throw new AbortError(new Stopped());
        case 'unauthorized':
          tokens.refused(token);
          throw new AttemptFailed(result);
        case 'retry':
          throw new AttemptFailed(result);
        case 'failed':
          throw new AbortError(new AttemptFailed(result));
      }
    }, {
      retries: backoff.retries,
      minTimeout: 0,
      shouldConsumeRetry: ({ error }) => {
        if ((error as AttemptFailed).result?.kind !== 'unauthorized' || renewedFree) return true;
        renewedFree = true;
        return false;
      },
      shouldRetry: async ({ error, retriesConsumed }) => {
        if (!(error instanceof AttemptFailed)) return false;
        if (control.stopping.aborted) throw new Stopped();
        const { result } = error;
        const delayMs = result.kind === 'unauthorized'
          ? 0
          : backoff.delayMs(retriesConsumed + 1, result.kind === 'retry' ? result.retryAfterMs : 0);
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
