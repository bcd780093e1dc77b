import type { ServiceChange } from '../common/records.js';
import { safeSleep, steadyNow, type Sleep } from './backoff.js';

export interface RetryBudgetOptions {
  now?: () => number;
  sleep?: Sleep;
  /** The service is found failing (`down`), or answers again: with the failures and answers that told. */
  onChange?: (change: ServiceChange) => void;
}

/** The span over which answers are counted, ms. */
const WINDOW_MS = 5000;
/** Over budget: at least this many answers in the window asked for a retry, and at least this share of them. */
const MIN_RETRYABLE = 10;
const MAX_SHARE = 0.5;
/** While over budget, one request a second still goes ahead: it is how the end of an outage is seen. */
const PROBE_EVERY_MS = 1000;
/** Or at once: 15 of the latest 20 answers failures (a fast client fills 5 s with good answers before an outage). */
const RECENT = 20;
const RECENT_FAILING = 15;
const POLL_MS = 100;
const RESOLVED = Promise.resolve();

/**
 * The retry budget (after Google SRE's and gRPC's retry throttling, per client): when more than half of the
 * answers over the last 5 s, or 15 of the latest 20, were failures that ask for a retry (5xx, a timeout, a
 * reset — at least 10 of them; 429s are the rate controller's), the service is down rather than busy: new
 * orders and retries alike wait, and one request a second goes ahead as a probe. Nothing is lost or skipped — a waiting retry
 * does not use up an attempt — and the first answer that is not a failure opens the way again. Time is
 * injected.
 */
export class RetryBudget {
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** Answers in the window: when, and whether they asked for a retry. */
  private answers: Array<{ at: number; retryable: boolean }> = [];
  private head = 0;
  private retryable = 0;
  private lastProbe = Number.NEGATIVE_INFINITY;
  /** Spent, and no answer but failures since: the service is down until a probe comes back good. */
  private down = false;
  private recent: boolean[] = [];
  private recentFailing = 0;
  private heldSince: number | undefined;
  private downSince = 0;
  /** Time requests were held back, ms (overlapping waits counted once). */
  heldMs = 0;

  constructor(private readonly options: RetryBudgetOptions = {}) {
    this.now = options.now ?? steadyNow;
    this.sleep = options.sleep ?? safeSleep;
  }

  /** An answer: `retryable` when it was a failure that asks for a retry (whether or not one follows). */
  answered(retryable: boolean, now = this.now()): void {
    if (!retryable && this.down) {
      // The service answers again: judge it afresh from here.
      this.down = false;
      this.options.onChange?.({ state: 'answering', failures: 0, answers: 1, failingMs: now - this.downSince });
      this.answers = [];
      this.head = 0;
      this.retryable = 0;
      this.recent.length = 0;
      this.recentFailing = 0;
    }
    this.answers.push({ at: now, retryable });
    if (retryable) this.retryable++;
    this.recent.push(retryable);
    if (retryable) this.recentFailing++;
    if (this.recent.length > RECENT && this.recent.shift()) this.recentFailing--;
    if (this.recentFailing >= RECENT_FAILING) this.goDown(now, this.recentFailing, this.recent.length);
    this.spent(now);
  }

  /** Whether the budget is spent right now: requests wait. */
  spent(now = this.now()): boolean {
    while (this.head < this.answers.length && this.answers[this.head]!.at <= now - WINDOW_MS) {
      if (this.answers[this.head++]!.retryable) this.retryable--;
    }
    if (this.head > 1024 && this.head * 2 > this.answers.length) {
      this.answers = this.answers.slice(this.head);
      this.head = 0;
    }
    if (this.retryable >= MIN_RETRYABLE && this.retryable >= MAX_SHARE * (this.answers.length - this.head)) this.goDown(now, this.retryable, this.answers.length - this.head);
    return this.down;
  }

  private goDown(now: number, failures: number, answers: number): void {
    if (this.down) return;
    this.down = true;
    this.downSince = now;
    this.options.onChange?.({ state: 'failing', failures, answers });
  }

  /** Waits until a request (a new order's, or a retry) may go; rejects when `signal` aborts. */
  admit(signal?: AbortSignal): Promise<void> {
    // Not spent (answered() keeps `down` up to date): at once, the common case kept cheap.
    if (!this.down && !signal?.aborted) return RESOLVED;
    return this.wait(signal);
  }

  private async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      const spent = this.spent(now);
      if (!spent || now - this.lastProbe >= PROBE_EVERY_MS) {
        if (spent) this.lastProbe = now;
        if (this.heldSince !== undefined) this.heldMs += now - this.heldSince;
        this.heldSince = undefined;
        return;
      }
      this.heldSince ??= now;
      await this.sleep(Math.min(POLL_MS, this.lastProbe + PROBE_EVERY_MS - now), signal);
    }
  }
}
