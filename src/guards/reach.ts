import { setTimeout as sleep } from 'node:timers/promises';
import { humanDuration } from '../common/durations.js';
import { TokenError } from '../exsited/auth.js';
import { isUnusableAnswer } from '../common/domain.js';

const WAITS_MS = [1000, 2000, 4000, 8000];

/**
 * Connection failures that a little time may mend (a service restarting, a network or DNS that blinks):
 * waited for. Others — a certificate that does not verify, a proxy refusing the tunnel — will not mend in
 * 30 s: the run gives up at once.
 */
const PASSING = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EPIPE']);

/**
 * Answers of a service that is not there yet (a gateway in front of one restarting): waited for as a connection that
 * fails is, since nothing has been sent. Any other answer is the server's word, not waited for.
 */
export const RESTARTING: ReadonlySet<string> = new Set(['HTTP_502', 'HTTP_503', 'HTTP_504']);

/** Connection failures after which the request may have arrived: no answer, rather than nothing sent. */
const NO_ANSWER = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ECONNRESET', 'EPIPE']);

/** A connection that reached nothing, and that time may mend (refused, a name not resolved, no route): the request was never sent. */
export const nothingReached = (code: string) => PASSING.has(code) && !NO_ANSWER.has(code);

export interface ReachDeps {
  /** --reach-wait: how long to keep trying (default 30 s). */
  reachWaitMs: number;
  tokens: { get(signal?: AbortSignal): Promise<unknown> };
  control: { aborting: AbortSignal; stopping: AbortSignal };
  /** Says each wait to the person. */
  say: (text: string) => void;
  /** The clock (tests on simulated time give their own). */
  now?: () => number;
  wait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
  /** When the run's first contact began: its steps (a first token, then a filter's first page) share one --reach-wait (red team: twice it). */
  since?: number;
  /** The same API answered an earlier step (the token): nothing reaching it now is a service gone, not a wrong address. */
  answeredBefore?: boolean;
  /** Said of a service that served this run before (a filter's later page): "stopped serving", not "not serving yet". */
  stopped?: boolean;
}

/**
 * The run's first token, before anything is listed or deleted (issue 23, item 8). An API that cannot be
 * reached at all (a connection refused, a name not resolved, no answer: nothing reached it) is tried again —
 * each try its own retries — 1, 2, 4 and then every 8 s, for --reach-wait (30 s) in all, each wait said,
 * since a network that blinks or a service restarting should not fail a nightly job; a failure that time
 * will not mend (a certificate, a proxy's refusal) is not waited for. Then it gives up with a
 * TokenError of kind `unreachable`, which the callers turn into exit 5, "unreachable, nothing was sent".
 * A gateway's 502, 503 or 504 (a service restarting behind it) is waited for the same way, and then given up
 * as the server's (kind `server`: exit 4, run it again later). Any other answer (refusing the credentials, a 500)
 * is not waited for here: the retry policy has had its say. A stop while waiting ends the wait with the run's
 * stop (kind `unavailable`).
 */
export async function firstToken(deps: ReachDeps): Promise<void> {
  await untilReached(deps, () => deps.tokens.get(deps.control.stopping));
}

/** `attempt` (the run's first contact with the API), tried again as firstToken says while it throws a TokenError of kind `unreachable`. */
export async function untilReached<T>(deps: Omit<ReachDeps, 'tokens'>, attempt: () => Promise<T>): Promise<T> {
  const now = deps.now ?? Date.now;
  const wait = deps.wait ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }));
  const started = deps.since ?? now();
  let answered = deps.answeredBefore ?? false; // a try answered (502, 503, 504), or an earlier step, before one that reached nothing
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TokenError) || (error.kind !== 'unreachable' && error.kind !== 'server')) throw error;
      // A stop while the try was in flight: its answer is not waited for again, nor said as if it were (red team: "trying again in 1 s", then "Stopped").
      if (deps.control.stopping.aborted) throw new TokenError('the run stopped while waiting for the API to be reachable', 'unavailable');
      // Never sooner than the server asked (its Retry-After, when the retries let it through).
      const waitMs = Math.max(WAITS_MS[Math.min(tries, WAITS_MS.length - 1)] as number, error.about.retryAfterMs ?? 0);
      const spent = now() - started;
      const asked = (error.about.retryAfterMs ?? 0) > (WAITS_MS.at(-1) as number) ? ` (it asked to wait ${humanDuration(error.about.retryAfterMs as number)})` : '';
      if (error.kind === 'server') {
        if (!RESTARTING.has(error.code ?? '')) throw error;
        answered = true;
        if (spent + waitMs > deps.reachWaitMs) throw new TokenError(`${error.message}, tried for ${humanDuration(spent)}${asked}`, 'server', error.code, error.about);
        deps.say(`The API ${deps.stopped ? 'stopped serving' : 'is not serving yet'} (${error.message}); trying again in ${humanDuration(waitMs)}, for up to ${humanDuration(deps.reachWaitMs)} in all.`);
        await waitOrStop(wait, waitMs, deps);
        continue;
      }
      // A request that timed out may have reached the API: it had no answer. Nothing was deleted either way (no DELETE is sent before this).
      const code = error.code ?? '';
      const what = isUnusableAnswer(code) ? 'its answer could not be used, nothing was deleted'
        : NO_ANSWER.has(code) ? 'no answer came, nothing was deleted' : answered ? 'it answered before, then nothing reached it; nothing was deleted' : 'nothing reached it, nothing was sent';
      if (!PASSING.has(code)) throw new TokenError(`${error.message}: ${what}`, 'unreachable', error.code, error.about);
      if (spent + waitMs > deps.reachWaitMs) {
        throw new TokenError(`${error.message}, tried for ${humanDuration(spent)}: ${what}`, 'unreachable', error.code, error.about);
      }
      deps.say(`The API cannot be reached${deps.stopped ? ' any more' : ''} (${error.message}); trying again in ${humanDuration(waitMs)}, for up to ${humanDuration(deps.reachWaitMs)} in all.`);
      await waitOrStop(wait, waitMs, deps);
    }
  }
}

/** A stop (Ctrl-C, SIGTERM) ends the wait at once: there is nothing in flight. */
async function waitOrStop(wait: (ms: number, signal: AbortSignal) => Promise<unknown>, waitMs: number, deps: Pick<ReachDeps, 'control'>): Promise<void> {
  try {
    await wait(waitMs, deps.control.stopping);
  } catch {
    throw new TokenError('the run stopped while waiting for the API to be reachable', 'unavailable');
  }
}
