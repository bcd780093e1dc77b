import pRetry, { AbortError } from 'p-retry';
import type { RetryRecord } from '../audit/journal.js';
import type { TokenSource } from '../exsited/auth.js';
import type { AttemptResult, Unfinished } from '../exsited/orders.js';
import type { Backoff } from './backoff.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RunControl } from './run-control.js';

export interface RequestDeps {
  tokens: TokenSource;
  backoff: Backoff;
  limiter: RateLimiter;
  control: RunControl;
}

export type RetryInfo = Omit<RetryRecord, 'orderId'>;

export type Retried<T> =
  | { ok: true; value: T; httpStatus: number; attempts: number }
  | { ok: false; failure: Unfinished; attempts: number };

/** An attempt that did not succeed; p-retry decides whether another one follows. */
class AttemptFailed extends Error {
  constructor(readonly result: Unfinished) {
    super(result.message);
  }
}

/** The run is stopping: no further attempt. */
class Stopped extends Error {}

/**
 * Sends one API request until it succeeds, fails for good or runs out of retries: transport errors,
 * 408, 429 and 5xx are retried with full-jitter backoff (never sooner than Retry-After); a 401 renews
 * the token and resends at once (the first time without using up a retry); other 4xx fail at once.
 * Every request waits for the shared rate limit and feeds its answer back to it. Returns undefined
 * when the run stopped first; throws TokenError when authentication is lost for good.
 */
export async function sendWithRetry<T>(
  send: (accessToken: string, signal: AbortSignal) => Promise<AttemptResult<T>>,
  deps: RequestDeps,
  onRetry: (retry: RetryInfo) => void,
): Promise<Retried<T> | undefined> {
  const { tokens, backoff, limiter, control } = deps;
  let attempts = 0;
  let renewed = false;

  const once = async (): Promise<AttemptResult<T>> => {
    let token: string;
    try {
      await limiter.acquire(control.stopping);
      token = await tokens.get(control.aborting);
    } catch (error) {
      throw new AbortError(control.stopping.aborted ? new Stopped() : (error as Error));
    }
    attempts++;
    const result = await send(token, control.aborting);
    if (result.kind === 'unauthorized') tokens.refused(token);
    else if (result.kind === 'retry' && result.httpStatus === 429) limiter.throttled(result.retryAfterMs);
    else if (result.kind === 'done') limiter.succeeded();
    return result;
  };

  try {
    const done = await pRetry(async () => {
      if (control.stopping.aborted) throw new AbortError(new Stopped());
      let result = await once();
      if (result.kind === 'unauthorized' && !renewed && !control.stopping.aborted) {
        // As Exsited's SDKs do: renew and resend at once, the first time, without using up a retry.
        renewed = true;
        onRetry({ attempt: attempts, httpStatus: 401, delayMs: 0 });
        result = await once();
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
        onRetry({ attempt: attempts, ...(result.httpStatus === null ? { errorCode: result.code } : { httpStatus: result.httpStatus }), delayMs });
        try {
          if (delayMs > 0) await backoff.sleep(delayMs, control.stopping);
        } catch {
          throw new Stopped();
        }
        return true;
      },
    });
    return { ok: true, value: done.value, httpStatus: done.httpStatus, attempts };
  } catch (error) {
    if (error instanceof AttemptFailed) return { ok: false, failure: error.result, attempts };
    if (error instanceof Stopped) return undefined;
    throw error;
  }
}
