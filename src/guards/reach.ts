import { setTimeout as sleep } from 'node:timers/promises';
import { humanDuration } from '../common/durations.js';
import { TokenError } from '../exsited/auth.js';

/** How long an API that cannot be reached at all is tried again before a run gives up, unstarted. */
const REACH_WINDOW_MS = 30_000;
const WAITS_MS = [1000, 2000, 4000, 8000];

export interface ReachDeps {
  tokens: { get(signal?: AbortSignal): Promise<unknown> };
  control: { aborting: AbortSignal; stopping: AbortSignal };
  /** Says each wait to the person. */
  say: (text: string) => void;
  /** The clock (tests on simulated time give their own). */
  now?: () => number;
  wait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/**
 * The run's first token, before anything is listed or deleted (issue 23, item 8). An API that cannot be
 * reached at all (a connection refused, a name not resolved, no answer: nothing reached it) is tried again —
 * each try its own retries — 1, 2, 4 and then every 8 s, for 30 s in all, each wait said, since a
 * network that blinks or a service restarting should not fail a nightly job. Then it gives up with a
 * TokenError of kind `unreachable`, which the callers turn into exit 5, "unreachable, nothing was sent".
 * An endpoint that answers (refusing the credentials, or with 5xx) is not waited for here: the retry policy
 * has had its say. A stop while waiting ends the wait with the run's stop (kind `unavailable`).
 */
export async function firstToken(deps: ReachDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const wait = deps.wait ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }));
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.tokens.get(deps.control.aborting);
      return;
    } catch (error) {
      if (!(error instanceof TokenError) || error.kind !== 'unreachable') throw error;
      const waitMs = WAITS_MS[Math.min(attempt, WAITS_MS.length - 1)] as number;
      const spent = now() - started;
      if (spent + waitMs > REACH_WINDOW_MS) {
        throw new TokenError(`${error.message}, tried for ${humanDuration(spent)}: nothing reached it, nothing was sent`, 'unreachable');
      }
      deps.say(`The API cannot be reached (${error.message}); trying again in ${humanDuration(waitMs)}, for up to ${humanDuration(REACH_WINDOW_MS)} in all.`);
      try {
        await wait(waitMs, deps.control.stopping); // a stop (Ctrl-C, SIGTERM) ends the wait at once: there is nothing in flight
      } catch {
        throw new TokenError('the run stopped while waiting for the API to be reachable', 'unavailable');
      }
    }
  }
}
