import type { TokenSource } from '../exsited/auth.js';
import type { AttemptResult, Unfinished } from '../exsited/orders.js';
import type { RateLimiter } from './rate-limiter.js';
import { tooLongToWait, type RetryInfo, type RetryPolicy } from './retry-policy.js';
import type { RunControl } from './run-control.js';

export interface RequestDeps {
  tokens: TokenSource;
  retry: RetryPolicy;
  limiter: RateLimiter;
  control: RunControl;
}

export type Sent<T> =
  | { ok: true; value: T; httpStatus: number; attempts: number }
  | { ok: false; failure: Unfinished; attempts: number };

/**
 * Sends one authenticated API request under the retry policy: each attempt waits for the shared rate
 * limit, takes the current token and feeds the answer back (a 429 to the limiter, a 401 to the token
 * source). A 401 renews the token and resends at once, the first time without using up a retry, as
 * Exsited's SDKs do. `attempts` counts the requests sent. Undefined when the run stopped first; throws
 * TokenError when authentication is lost for good.
 */
export async function sendWithRetry<T>(
  send: (accessToken: string, signal: AbortSignal) => Promise<AttemptResult<T>>,
  deps: RequestDeps,
  onRetry: (retry: RetryInfo) => void,
): Promise<Sent<T> | undefined> {
  const { tokens, limiter, control } = deps;
  let attempts = 0;
  let renewed = false;

  const once = async (): Promise<AttemptResult<T>> => {
    let token: string;
    try {
      await limiter.acquire(control.stopping);
      token = await tokens.get(control.aborting);
    } catch (error) {
      if (control.stopping.aborted) return { kind: 'canceled' };
      throw error;
    }
    attempts++;
    const result = await send(token, control.aborting);
    if (result.kind === 'unauthorized') tokens.refused(token);
    else if (result.kind === 'retry' && result.httpStatus === 429 && !tooLongToWait(result)) limiter.throttled(result.retryAfterMs);
    else if (result.kind === 'done') limiter.succeeded();
    return result;
  };

  const result = await deps.retry.run(async () => {
    let answer = await once();
    if (answer.kind === 'unauthorized' && !renewed && !control.stopping.aborted) {
      renewed = true;
      onRetry({ attempt: attempts, httpStatus: 401, delayMs: 0 });
      answer = await once();
    }
    return answer;
  }, (retry) => onRetry({ attempt: attempts, ...retry }));
  if (!result) return undefined;
  return { ...result, attempts };
}
