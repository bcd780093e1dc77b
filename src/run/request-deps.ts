import pLimit from 'p-limit';
import { humanDuration } from '../common/durations.js';
import { ExitCode } from '../common/errors.js';
import type { RunOptions } from '../config/resolve.js';
import { Backoff } from '../engine/backoff.js';
import type { RunEvents } from '../engine/events.js';
import { RateController } from '../engine/rate-controller.js';
import { RetryBudget } from '../engine/retry-budget.js';
import { RetryPolicy } from '../engine/retry-policy.js';
import type { RunControl } from '../engine/run-control.js';
import { TokenSource } from '../exsited/auth.js';
import { PROXY_REFUSED } from '../exsited/responses.js';
import type { TokenCache } from '../exsited/token-cache.js';
import type { SelectionDeps } from '../planner/selection.js';
import { isUnusableAnswer } from '../common/domain.js';

/** The run's pace: how fast (the rate controller), how many at once (slots), and whether to wait for the service (the retry budget). */
export interface Pace {
  rate: RateController;
  budget: RetryBudget;
  slots: ReturnType<typeof pLimit>;
}

/** The pace of a run, its decisions told as run events (the journal records them). */
export function createPace(options: Pick<RunOptions, 'rps' | 'concurrency' | 'shard'>, events: RunEvents, control: RunControl): Pace {
  return {
    rate: new RateController({
      cap: options.rps, sharers: options.shard?.count, onDecision: (decision) => events.emit({ type: 'throttle', decision }), onPace: (rps) => events.emit({ type: 'pace', rps }),
      // A server answering nothing but 429 for a minute refuses this client: halted, resumable, rather than crawling.
      onRefused: (message) => control.stop({ kind: 'halt', exitCode: ExitCode.halted, cause: 'throttled', message }),
    }),
    budget: new RetryBudget({ onChange: (change) => events.emit({ type: 'service', change }) }),
    slots: pLimit(options.concurrency),
  };
}

export interface ApiSettings {
  options: RunOptions;
  baseUrl: URL;
  /** The base URL as recorded and printed. */
  host: string;
  tokenCache?: TokenCache;
  control: RunControl;
  events: RunEvents;
  pace: Pace;
}

/**
 * The API client and everything a request needs (token source, retry policies, the pace): made on first
 * use — a run refused for its input never loads the HTTP machinery (axios: ~150 ms) — and closed at the end.
 */
export class LazyApi {
  private made: SelectionDeps | undefined;
  private making: Promise<SelectionDeps> | undefined;

  constructor(private readonly settings: ApiSettings) {}

  make(): Promise<SelectionDeps> {
    this.making ??= this.create().then((deps) => (this.made = deps));
    return this.making;
  }

  /** The client, if it was made. */
  get current(): SelectionDeps | undefined {
    return this.made;
  }

  async destroy(): Promise<void> {
    if (!this.made) return;
    const { destroyAgents } = await import('../exsited/http.js');
    destroyAgents(this.made.http);
  }

  private async create(): Promise<SelectionDeps> {
    const { options, baseUrl, host, tokenCache, control, events, pace } = this.settings;
    const { createHttpClient, proxyFor } = await import('../exsited/http.js');
    const http = createHttpClient({ baseUrl, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
    // Through a proxy, a connection that fails is the proxy's (it named the API's host, which was never tried).
    const proxy = proxyFor(baseUrl);
    const connectingTo = proxy ? `the proxy ${proxy.host} (for ${baseUrl.host})` : baseUrl.host;
    const backoff = new Backoff({ retries: options.retries, baseMs: options.backoffBaseMs, capMs: options.backoffCapMs });
    // Token requests stop with the run, as every other call: nothing is sent after a stop, so no token is needed then (a Ctrl-C while
    // the token endpoint's Retry-After was waited out took the whole --grace-ms).
    const tokenRetries = new RetryPolicy(backoff, control.stopping);
    const warn = (text: string) => events.emit({ type: 'notice', level: 'warn', text });
    const tokens = new TokenSource(http, options.credentials, (attempt) => {
      let retry = 0;
      return tokenRetries.run(attempt, ({ httpStatus, errorCode, delayMs }) => warn(
        `${httpStatus ? `the token endpoint on ${host} answered ${httpStatus}` : errorCode === PROXY_REFUSED ? `the proxy refused a tunnel to ${baseUrl.host}`
          : isUnusableAnswer(errorCode ?? '') ? `the token endpoint on ${host} gave no usable answer (${errorCode})` : `cannot connect to ${connectingTo} (${errorCode})`}; ` +
        `retrying ${++retry}/${options.retries} in ${humanDuration(delayMs)}`));
    }, { cache: tokenCache, onNotice: warn });
    return { http, tokens, retry: new RetryPolicy(backoff, control.stopping), ...pace, control, events, reachWaitMs: options.reachWait };
  }
}
