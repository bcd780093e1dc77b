import { safeSleep, steadyNow, type Sleep } from './backoff.js';
import { LimitSharing } from './limit-sharing.js';
import { RefusalWatch } from './refusal-watch.js';
import type { ThrottleDecision } from './throttle-decision.js';
import { FLOOR_RPS, ThrottleEstimator } from './throttle-estimator.js';

export interface RateControllerOptions {
  /** --rps: a hard cap, never exceeded. */
  cap?: number;
  now?: () => number;
  sleep?: Sleep;
  onDecision?: (decision: ThrottleDecision) => void;
  /**
   * The paced rate as it climbs between decisions, requests/s: at most once a second, when it moved by
   * PACE_STEP or more since the last one told (a decision tells its own `rateAfter`).
   */
  onPace?: (rps: number) => void;
  /** The server refuses this client (refusal-watch.ts: a minute of nothing but 429s): why, in a sentence. The run halts. */
  onRefused?: (reason: string) => void;
  /** --shard i/n: the n shards of a run, whose limit they may share (limit-sharing.ts); 1 or none: alone. */
  sharers?: number;
}

/** The pacing bucket holds this much time's worth of requests: a small burst. */
const BURST_SECONDS = 0.05;
/** The climbing rate is told at most this often, and only when it moved by this share. */
const PACE_EVERY_MS = 1000;
const PACE_STEP = 0.05;
/**
 * The rate climbs only while it holds requests back: for this long after a decision, or after a request
 * had to wait for the pace (which looks again at least this often, the rate climbing meanwhile). A pause,
 * orders all waiting out their own Retry-After, or a run sending less than it may: none of them tests a
 * higher rate, so the climb waits for them (TCP's congestion window validation, RFC 7661, likewise).
 */
const HOLDING_MS = 1000;

/**
 * The rate of one client: who may send now. Requests are paced at the rate the estimator reads from the
 * server's answers (ThrottleEstimator), with a small burst; --rps caps it; the floor
 * is one request every 20 s; when the estimator finds the client clearly over the limit, everyone waits
 * out the server's Retry-After. Time is injected.
 */
export class RateController {
  private readonly cap: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly estimator: ThrottleEstimator;
  private pausedUntil = 0;
  /** Paused time before the current pause, and when that began: the clock that stops while everyone waits. */
  private pausedBefore = 0;
  private pauseStart = 0;
  private tokens = 1;
  private refilledAt = Number.NaN;
  /** The climb clock (ms) as of `climbSettledAt`, and until when it runs: while the pace holds requests back. */
  private climbed = 0;
  private climbSettledAt = 0;
  private holdingUntil = Number.NEGATIVE_INFINITY;
  private readonly refusal = new RefusalWatch();
  private queue: Promise<void> = Promise.resolve();
  /** The rate last told (a decision's, or onPace's), and when onPace may look again. */
  private toldRate = Number.POSITIVE_INFINITY;
  private paceCheckAt = 0;
  /** Callers waiting in the queue. */
  private waiting = 0;
  /** Time during which every request waited out a Retry-After, ms. */
  throttledMs = 0;
  /** Decisions that lowered the rate. */
  cuts = 0;
  /** Answers, and those throttled (429), since the start. */
  answers = 0;
  throttledAnswers = 0;

  constructor(private readonly options: RateControllerOptions = {}) {
    this.cap = options.cap ?? Number.POSITIVE_INFINITY;
    // (The wall clock set back an hour held a paced run for that hour, its pacing bucket refilled by a negative amount.)
    this.now = options.now ?? steadyNow;
    this.sleep = options.sleep ?? safeSleep;
    this.estimator = new ThrottleEstimator(this.now(), (options.sharers ?? 1) > 1 ? new LimitSharing(options.sharers as number) : undefined);
  }

  /** The rate now allowed, requests/s (Infinity: not paced). */
  rateAt(now = this.now()): number {
    const rate = this.estimator.rateAt(this.climbTime(now));
    return rate === undefined ? this.cap : Math.min(this.cap, Math.max(FLOOR_RPS, rate));
  }

  get ceilingRps(): number | undefined {
    return this.estimator.ceilingRps;
  }

  /** Whether every request is waiting out a Retry-After right now. */
  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /**
   * The right to send one request at `now`: a ticket (pass it back to `answered`), or how long to wait first.
   * The synchronous core of `acquire`, which a simulation calls directly.
   */
  reserve(now: number): { ticket: number } | { waitMs: number } {
    if (now < this.pausedUntil) return { waitMs: this.pausedUntil - now };
    this.checkRefusal(now);
    const rate = this.rateAt(now);
    if (now >= this.paceCheckAt) this.tellPace(now, rate);
    if (rate !== Number.POSITIVE_INFINITY) {
      if (Number.isNaN(this.refilledAt)) this.refilledAt = now;
      const burst = Math.max(1, rate * BURST_SECONDS);
      this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * rate);
      this.refilledAt = now;
      if (this.tokens < 1) {
        this.hold(now);
        return { waitMs: Math.min(HOLDING_MS, Math.max(1, Math.ceil(((1 - this.tokens) / rate) * 1000))) };
      }
      this.tokens -= 1;
    }
    return { ticket: this.estimator.sent(now) };
  }

  /** Waits for the right to send one request; returns its ticket (pass it back to `answered`). Callers are served in order. */
  acquire(signal?: AbortSignal): Promise<number> {
    // Unpaced and nobody waiting: the ticket at once, without joining the queue (the common case, kept cheap).
    if (this.waiting === 0 && !signal?.aborted) {
      const reservation = this.reserve(this.now());
      if ('ticket' in reservation) return Promise.resolve(reservation.ticket);
    }
    this.waiting++;
    const turn = this.queue.then(async () => {
      for (;;) {
        signal?.throwIfAborted();
        const reservation = this.reserve(this.now());
        if ('ticket' in reservation) return reservation.ticket;
        await this.sleep(reservation.waitMs, signal);
      }
    });
    this.queue = turn.then(() => undefined, () => undefined).finally(() => this.waiting--);
    return turn;
  }

  /** The answer to the request sent with `ticket`: throttled (429) or not (any other answer, or none). */
  answered(ticket: number, throttled: boolean, retryAfterMs?: number, now = this.now()): void {
    this.answers++;
    if (throttled) this.throttledAnswers++;
    const active = this.activeTime(now);
    this.refusal.answered(throttled, active);
    this.checkRefusal(now);
    const rateBefore = this.rateAt(now);
    const judgement = this.estimator.answered(ticket, throttled, retryAfterMs, { now, active, climb: this.climbTime(now), rateBefore });
    if (!judgement) return;
    const { kind, windowMs, answers, share, baseline, acceptedRate, ceiling } = judgement;
    if (kind === 'cut' || kind === 'ceiling') {
      this.cuts++;
      this.tokens = Math.min(this.tokens, 1);
      this.hold(now);
    }
    const pauseMs = judgement.pauseMs === undefined ? 0 : this.pause(now, judgement.pauseMs);
    const rateAfter = this.rateAt(now);
    this.toldRate = rateAfter;
    this.paceCheckAt = now + PACE_EVERY_MS;
    this.options.onDecision?.({ kind, windowMs, answers, share, baseline, acceptedRate, rateBefore, rateAfter, ceiling, pauseMs });
  }

  /** Everyone waits `pauseMs` from `now` (extending a pause already running); returns it. */
  private pause(now: number, pauseMs: number): number {
    if (now + pauseMs > this.pausedUntil) {
      this.throttledMs += now + pauseMs - Math.max(now, this.pausedUntil);
      if (now >= this.pausedUntil) {
        this.pausedBefore += this.pausedUntil - this.pauseStart;
        this.pauseStart = now;
      }
      this.pausedUntil = now + pauseMs;
    }
    return pauseMs;
  }

  /** A request waits for the pace at `now`: the climb runs for a while. */
  private hold(now: number): void {
    this.climbed = this.climbTime(now);
    this.climbSettledAt = now;
    this.holdingUntil = now + HOLDING_MS;
  }

  /** Time on the clock the climb runs on (only while the pace holds requests back), ms. */
  private climbTime(now: number): number {
    return this.climbed + Math.max(0, Math.min(now, this.holdingUntil) - this.climbSettledAt);
  }

  /** Checked as answers come and as requests wait for the pace, so that the halt comes on time at the slowest pace too. */
  private checkRefusal(now: number): void {
    const reason = this.refusal.refused(this.activeTime(now));
    if (reason) this.options.onRefused?.(reason);
  }

  private tellPace(now: number, rate: number): void {
    this.paceCheckAt = now + PACE_EVERY_MS;
    if (rate === this.toldRate || Math.abs(rate - this.toldRate) < PACE_STEP * Math.min(rate, this.toldRate)) return;
    this.toldRate = rate;
    this.options.onPace?.(rate);
  }

  /** Time on a clock that stops while everyone waits out a Retry-After, ms. */
  private activeTime(now: number): number {
    return now - this.pausedBefore - Math.max(0, Math.min(now, this.pausedUntil) - this.pauseStart);
  }
}
