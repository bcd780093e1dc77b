import { safeSleep, type Sleep } from './backoff.js';

export interface RateLimiterOptions {
  /** The cap in requests per second (--rps); undefined: no cap until the server throttles. */
  rps?: number;
  /** Bucket size: the largest burst (the concurrency). */
  burst: number;
  /** How long to pause after a 429 without a usable Retry-After. */
  defaultPauseMs?: number;
  now?: () => number;
  sleep?: Sleep;
}

const MIN_RATE = 1;
/**
 * Each good answer raises the rate 2%; each throttling episode halves it. The two balance when about one
 * answer in 30 is a 429 (1.02^35 ≈ 2): more 429s than that and the rate keeps falling, fewer and it
 * climbs back, to --rps or, without it, until the limit is lifted.
 */
const INCREASE_PER_SUCCESS = 1.02;
const DECREASE_FACTOR = 0.5;
const SAMPLE_MS = 1000;

/**
 * One rate for all workers: a token bucket (at most `burst` requests at once, refilled at the current
 * rate), adapted to throttling. A 429 pauses every worker until its Retry-After has passed and halves
 * the rate (once per throttling episode: 429s answering requests sent before the pause do not count
 * again, as TCP counts one loss per window); good answers raise it slowly, back up to --rps, or without
 * --rps until it is twice the rate that was throttled, where the limit is lifted again.
 */
export class RateLimiter {
  private readonly cap: number;
  private rate: number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private decreaseGuardUntil = 0;
  private liftAbove = Number.POSITIVE_INFINITY;
  private queue: Promise<void> = Promise.resolve();
  private sampleStart: number;
  private sampleCount = 0;
  private observedRps: number | undefined;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** Time during which every worker was paused by a 429, in ms. */
  throttledMs = 0;
  throttles = 0;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? safeSleep;
    this.cap = options.rps ?? Number.POSITIVE_INFINITY;
    this.rate = this.cap;
    // One token, refilled from the first request on: a bucket that filled up while the input was read
    // would let the first burst run above the cap.
    this.tokens = 1;
    this.refilledAt = Number.NaN;
    this.sampleStart = this.now();
  }

  /** Whether every worker is paused by the server's throttling right now. */
  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /** The rate now allowed, in requests per second (Infinity: no limit). */
  get currentRate(): number {
    return this.rate;
  }

  /** Waits for the right to send one request; rejects when `signal` aborts. Callers are served in order. */
  acquire(signal?: AbortSignal): Promise<void> {
    this.sample();
    if (this.rate === Number.POSITIVE_INFINITY && this.now() >= this.pausedUntil) return Promise.resolve();
    const turn = this.queue.then(() => this.waitForToken(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The server answered 429: pause everyone for `retryAfterMs`, and halve the rate once per episode. */
  throttled(retryAfterMs: number | undefined): void {
    const now = this.now();
    this.throttles++;
    const until = now + (retryAfterMs ?? this.options.defaultPauseMs ?? 1000);
    if (until > this.pausedUntil) {
      this.throttledMs += until - Math.max(now, this.pausedUntil);
      this.pausedUntil = until;
    }
    if (now < this.decreaseGuardUntil) return; // answers to requests sent before the pause began
    const base = Number.isFinite(this.rate) ? this.rate : Math.max(MIN_RATE, this.recentRps(now));
    if (!Number.isFinite(this.rate)) this.liftAbove = base * 2;
    this.rate = Math.max(MIN_RATE, base * DECREASE_FACTOR);
    this.tokens = Math.min(this.tokens, 1);
    this.decreaseGuardUntil = this.pausedUntil;
  }

  /** A good answer: climb back slowly. */
  succeeded(): void {
    if (!Number.isFinite(this.rate)) return;
    this.rate = Math.min(this.cap, this.rate * INCREASE_PER_SUCCESS);
    if (this.rate > this.liftAbove) {
      this.rate = Number.POSITIVE_INFINITY;
      this.liftAbove = Number.POSITIVE_INFINITY;
    }
  }

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now, signal);
        continue;
      }
      if (!Number.isFinite(this.rate)) return;
      if (Number.isNaN(this.refilledAt)) this.refilledAt = now;
      this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000)), signal);
    }
  }

  /** The request rate lately: where a throttled, uncapped run starts from. */
  private recentRps(now: number): number {
    const elapsed = now - this.sampleStart;
    if (this.observedRps !== undefined && elapsed < SAMPLE_MS / 2) return this.observedRps;
    if (elapsed >= 50) return (this.sampleCount * 1000) / elapsed;
    return this.observedRps ?? this.options.burst * 10; // no sample yet: assume 100 ms answers
  }

  /** Requests per second over the last full sample window. */
  private sample(): void {
    this.sampleCount++;
    const now = this.now();
    if (now - this.sampleStart >= SAMPLE_MS) {
      this.observedRps = (this.sampleCount * 1000) / (now - this.sampleStart);
      this.sampleStart = now;
      this.sampleCount = 0;
    }
  }
}
