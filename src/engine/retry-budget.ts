import { safeSleep, type Sleep } from './backoff.js';

export interface RetryBudgetOptions {
  now?: () => number;
  sleep?: Sleep;
}

/** The span over which answers are counted, ms. */
const WINDOW_MS = 5000;
/** Over budget: at least this many answers in the window asked for a retry, and at least this share of them. */
const MIN_RETRYABLE = 10;
const MAX_SHARE = 0.5;
/** While over budget, one new order a second still goes ahead: it is how the end of an outage is seen. */
const PROBE_EVERY_MS = 1000;
const POLL_MS = 100;

/**
 * The retry budget (Google SRE's, per client): when more than half of the answers over the last 5 s asked
 * for a retry (429, 5xx, a timeout, a reset — at least 10 of them), new orders wait instead of joining a
 * retry storm; orders already under way go on retrying on their own schedule, so nothing is lost or
 * skipped. One new order a second goes ahead as a probe, and once the failures stop the window empties
 * and dispatch opens again within 5 s. Time is injected.
 */
export class RetryBudget {
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** Answers in the window: when, and whether they asked for a retry. */
  private answers: Array<{ at: number; retryable: boolean }> = [];
  private head = 0;
  private retryable = 0;
  private lastProbe = Number.NEGATIVE_INFINITY;
  private heldSince: number | undefined;
  /** Time new orders were held back, ms. */
  heldMs = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? safeSleep;
  }

  /** An answer: `retryable` when it asked for a retry (whether or not one follows). */
  answered(retryable: boolean, now = this.now()): void {
    this.answers.push({ at: now, retryable });
    if (retryable) this.retryable++;
  }

  /** Whether the budget is spent right now: new orders wait. */
  spent(now = this.now()): boolean {
    while (this.head < this.answers.length && this.answers[this.head]!.at <= now - WINDOW_MS) {
      if (this.answers[this.head++]!.retryable) this.retryable--;
    }
    if (this.head > 1024 && this.head * 2 > this.answers.length) {
      this.answers = this.answers.slice(this.head);
      this.head = 0;
    }
    return this.retryable >= MIN_RETRYABLE && this.retryable >= MAX_SHARE * (this.answers.length - this.head);
  }

  /** Waits until a new order may start; rejects when `signal` aborts. */
  async admit(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      if (!this.spent(now) || now - this.lastProbe >= PROBE_EVERY_MS) {
        if (this.spent(now)) this.lastProbe = now;
        if (this.heldSince !== undefined) this.heldMs += now - this.heldSince;
        this.heldSince = undefined;
        return;
      }
      this.heldSince ??= now;
      await this.sleep(Math.min(POLL_MS, this.lastProbe + PROBE_EVERY_MS - now), signal);
    }
  }
}
