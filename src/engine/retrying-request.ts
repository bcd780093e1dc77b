import type { LimitFunction } from 'p-limit';
import type { TokenSource } from '../exsited/auth.js';
import type { AttemptResult, Unfinished } from '../exsited/orders.js';
import type { RateController } from './rate-controller.js';
import type { RetryBudget } from './retry-budget.js';
import { tooLongToWait, type RetryInfo, type RetryPolicy } from './retry-policy.js';
import type { RequestSignal, RunControl } from './run-control.js';

export interface RequestDeps {
  tokens: TokenSource;
  retry: RetryPolicy;
  /** The run's pace, read from the server's answers. */
  rate: RateController;
  /** The in-flight bound (--concurrency): a request holds a slot while it is sent, never while it waits to retry. */
  slots: LimitFunction;
  budget: RetryBudget;
  control: RunControl;
  /**
   * Whether the answers just received must be recorded before another request goes: a halt may be near
   * (--halt-after). A slot freed by an answer is taken at once, before that answer's order is recorded.
   */
  haltNear?: () => boolean;
}

export type Sent<T> =
  | { ok: true; value: T; httpStatus: number; attempts: number }
  | { ok: false; failure: Unfinished; attempts: number };

/**
 * Sends one authenticated API request under the retry policy: each attempt takes an in-flight slot, waits
 * for the retry budget and the run's pace, takes the current token, and feeds the answer back (to the rate
 * controller, the retry budget and the token source). Between attempts the slot is free for other orders;
 * a retry is never sent sooner than its own Retry-After. A 401 is resent at once, the first time without
 * using up a retry, as Exsited's SDKs do, with the token the token source then gives (renewed, or the same
 * one while a young token's refusals may still be a glitch). `attempts` counts the requests
 * sent. Undefined when the run stopped first; throws TokenError when authentication is lost for good.
 */
export async function sendWithRetry<T>(
  send: (accessToken: string, signal: RequestSignal) => Promise<AttemptResult<T>>,
  deps: RequestDeps,
  onRetry: (retry: RetryInfo) => void,
): Promise<Sent<T> | undefined> {
  const { tokens, rate, budget, control } = deps;
  let attempts = 0;
  let renewed = false;

  const once = () => deps.slots(async (): Promise<AttemptResult<T>> => {
    let ticket: number;
    let token: string;
    try {
      // One turn of the event loop lets the record, and the halt it causes, come first: no request follows a halt.
      if (deps.haltNear?.()) await new Promise(setImmediate);
      control.stopping.throwIfAborted();
      // The budget is asked last thing before sending: while the service is down, a probe a second, not a storm.
      await budget.admit(control.stopping);
      ticket = await rate.acquire(control.stopping);
      token = await tokens.get(control.stopping);
      // A renewal can take seconds (a contested token waits 1 s, then 2 s): a stop meanwhile sends nothing (red team: DELETEs after Ctrl-C).
      control.stopping.throwIfAborted();
    } catch (error) {
      if (control.stopping.aborted) return { kind: 'canceled' };
      throw error;
    }
    attempts++;
    const result = await send(token, control.inFlight);
    if (result.kind === 'canceled') return result;
    const throttled = result.kind === 'retry' && result.httpStatus === 429;
    rate.answered(ticket, throttled, throttled && !tooLongToWait(result) ? result.retryAfterMs : undefined);
    // 429s are the rate controller's to answer; the budget counts failures (5xx, resets, timeouts).
    budget.answered(result.kind === 'retry' && !throttled);
    if (result.kind === 'unauthorized') tokens.refused(token);
    else tokens.accepted(token);
    return result;
  });

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
