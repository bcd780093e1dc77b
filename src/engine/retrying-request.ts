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
 * The longest Retry-After honoured. A server asking for more is not asking for a retry (maintenance,
 * or a broken header such as 999999999 s): that order fails at once, saying so, and --halt-after stops
 * a run where every order meets it. Without this, a wait past Node's timer limit fires every millisecond.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** A retryable answer whose Retry-After asks for longer than this tool waits: a final failure instead. */
function tooLongToWait(result: Unfinished): Unfinished | undefined {
  if (result.kind !== 'retry' || result.retryAfterMs === undefined || result.retryAfterMs <= MAX_RETRY_AFTER_MS) return undefined;
  return {
    kind: 'failed', httpStatus: result.httpStatus ?? 0, code: result.code,
    message: `${result.message}; the server asked to wait ${Math.round(result.retryAfterMs / 1000)} s before retrying (Retry-After), ` +
      `longer than the ${MAX_RETRY_AFTER_MS / 60_000} minutes this tool waits`,
  };
}

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
    else if (result.kind === 'retry' && result.httpStatus === 429 && !tooLongToWait(result)) limiter.throttled(result.retryAfterMs);
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
