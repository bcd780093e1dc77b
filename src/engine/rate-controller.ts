import type { ThrottleFields } from '../common/records.js';
import { safeSleep, type Sleep } from './backoff.js';

/**
 * A decision of the controller: the audit log's `throttle` record (common/records), except that an
 * unpaced rate is Infinity here, where the record keeps null (JSON has no Infinity).
 */
export type ThrottleDecision = Omit<ThrottleFields, 'rateBefore' | 'rateAfter'> & { rateBefore: number; rateAfter: number };

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
}

/** The slowest pace the controller goes down to: one request every 20 s. */
export const FLOOR_RPS = 0.05;
/** A window is judged once it has lasted this long and holds this many answers (or MAX_WINDOW_MS and MIN_ANSWERS_LATE). */
const MIN_WINDOW_MS = 1000;
const MIN_ANSWERS = 20;
const MAX_WINDOW_MS = 20_000;
const MIN_ANSWERS_LATE = 5;
/** Throttled answers a window needs before it decides anything: one or two 429s are noise at any share. */
const MIN_THROTTLED = 3;
/** Clearly over — half of the latest 20 answers throttled — is judged at once, and pauses everyone. */
const CLEARLY_OVER = 0.5;
const RECENT_ANSWERS = 20;
/** Over the limit: this share throttled, and this much above the baseline. */
const HIGH_SHARE = 0.1;
const HIGH_MARGIN = 0.08;
/**
 * "Over" must also be unlikely as noise: at most e^-SIGNIFICANT (0.1%) likely if each answer were throttled
 * at the baseline, or at NOISE_TOLERATED while the baseline is still being learnt. A window of 150 answers
 * with 17 throttled (11%) happens under 5% noise; 25 (17%) does not.
 */
const SIGNIFICANT = 6.9;
const NOISE_TOLERATED = 0.05;
/** A window whose answers came slower than this share of the ceiling was not probing it: the run ran short of orders. */
const APP_LIMITED = 0.8;
/** Beyond the known ceiling, this much above the baseline is enough to step back. */
const LOW_MARGIN = 0.02;
/** A decision goes down to this share of what the server accepted. */
const BETA = 0.9;
/** A newcomer's search: requests/s per s³ (CUBIC's constant). */
const SEARCH_C = 4;
/** A first cut from fewer accepted answers than this does not know the limit: it searches upward, fast. */
const RELIABLE_ACCEPTED = 10;
/**
 * Nor from fewer than this many accepted in the run's first second: a token bucket with a small burst
 * (10 against 100/s) is spent in the first milliseconds, and what it accepted then is a tenth of its rate.
 */
const RELIABLE_ACCEPTED_EARLY = 30;
/**
 * After a decision the rate climbs in a straight line (additive increase), by this many requests/s each
 * second: the same amount for every client however fast it goes. That, with cuts that take the same share
 * from each, is what brings clients sharing one limit to fair shares; a concave return to the old rate
 * (CUBIC's) gives back the same share to each and keeps them as unequal as they started. Below
 * PROBE_FULL_RPS the climb is scaled down, because a slow API answers too few requests to show an
 * overshoot quickly; below CAUTIOUS_BELOW_RPS, once the ceiling is confirmed (found again, no more than
 * CONFIRMED higher), scaled down more. (A client held small by others sharing the limit looks the same
 * from inside, so this caution is kept to the slowest rates.)
 */
const PROBE_RPS_PER_S = 4;
const PROBE_FULL_RPS = 10;
const CAUTIOUS_BELOW_RPS = 8;
const CONFIRMED = 0.1;
/** The server accepting this many times the old ceiling without throttling: the limit is gone, or was noise. */
const LIFT_FACTOR = 4;
/** How fast the baseline follows the throttled share of windows that decided nothing, below this share of the ceiling. */
const BASELINE_WEIGHT = 0.2;
const BASELINE_BELOW = 0.95;
/** A new ceiling below this share of the old one is ground lost to others: it is lowered by as much again. */
const LOSING_GROUND = 0.95;
/** The pacing bucket holds this much time's worth of requests: a small burst. */
const BURST_SECONDS = 0.05;
const DEFAULT_PAUSE_MS = 1000;
/** The climbing rate is told at most this often, and only when it moved by this share. */
const PACE_EVERY_MS = 1000;
const PACE_STEP = 0.05;

interface Window {
  start: number;
  answers: number;
  throttled: number;
  retryAfters: number[];
  /** The latest answers' throttled flags (at most RECENT_ANSWERS). */
  recent: boolean[];
  /** How many of `recent` are throttled. */
  recentThrottled: number;
}

/**
 * The rate of one client, read from the server's answers rather than from single events.
 *
 * Answers are judged a window at a time (at least 1 s and 20 answers), and only answers to requests sent
 * after the last decision, so that one episode is judged once. Over the limit — a share throttled well
 * above the baseline of noise — the rate goes down once to 0.9 of what the server accepted (not a blind
 * halving), which is remembered as the ceiling; beyond the ceiling a smaller excess is enough. Only when
 * clearly over (half the latest answers throttled) does everyone wait out the server's Retry-After. After
 * a decision the rate climbs back in a straight line; a ceiling found lower than the last is lowered a
 * little more, so clients sharing one limit settle on fair shares quickly. Throttling at or below the ceiling that is not "over"
 * is noise: it becomes the baseline and never cuts. A client whose first cut came from a handful of
 * accepted answers (a newcomer to a limit others already use up, or a run whose first moments spent a
 * bucket's small burst) searches upward fast instead. Requests
 * are paced at the rate with a small burst; --rps caps it; the floor is one request every 20 s. Time is
 * injected.
 */
export class RateController {
  private readonly cap: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private ceiling: number | undefined;
  /** When the current epoch (since the last decision) began. */
  private epochStart = 0;
  private probeSlope = PROBE_RPS_PER_S;
  private searching = false;
  /**
   * A ceiling from the first contact with the limit is provisional: it was measured over a second or less,
   * where a bucket's saved-up burst passes for rate. Until the next decision, any excess over the baseline
   * steps back, and nothing is learnt as noise.
   */
  private provisional = false;
  /** Tickets handed out, one per request sent; answers to tickets up to `judgedUpTo` were taken into account by a decision. */
  private issued = 0;
  private judgedUpTo = 0;
  /** When the first request was sent. */
  private firstSentAt = 0;
  private baseline = 0;
  private pausedUntil = 0;
  /** Paused time before the current pause, and when that began: the clock that stops while everyone waits. */
  private pausedBefore = 0;
  private pauseStart = 0;
  private tokens = 1;
  private refilledAt = Number.NaN;
  private window: Window;
  /** When answers not throttled came, on the clock that stops during pauses: what the server accepts. */
  private accepted: number[] = [];
  private acceptedHead = 0;
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
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? safeSleep;
    this.window = newWindow(this.now());
  }

  /** The rate now allowed, requests/s (Infinity: not paced). */
  rateAt(now = this.now()): number {
    if (this.ceiling === undefined) return this.cap;
    const c = this.ceiling;
    const t = (now - this.epochStart) / 1000;
    // A newcomer searches upward fast (convex); otherwise the rate climbs in a straight line from 0.9 of the ceiling.
    const rate = BETA * c + (this.searching ? SEARCH_C * t ** 3 : this.probeSlope * t);
    return Math.min(this.cap, Math.max(FLOOR_RPS, rate));
  }

  get ceilingRps(): number | undefined {
    return this.ceiling;
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
    const rate = this.rateAt(now);
    if (now >= this.paceCheckAt) this.tellPace(now, rate);
    if (rate !== Number.POSITIVE_INFINITY) {
      if (Number.isNaN(this.refilledAt)) this.refilledAt = now;
      const burst = Math.max(1, rate * BURST_SECONDS);
      this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * rate);
      this.refilledAt = now;
      if (this.tokens < 1) return { waitMs: Math.max(1, Math.ceil(((1 - this.tokens) / rate) * 1000)) };
      this.tokens -= 1;
    }
    if (this.issued === 0) this.firstSentAt = now;
    return { ticket: ++this.issued };
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
    if (ticket <= this.judgedUpTo) return;
    const w = this.window;
    w.answers++;
    if (throttled) {
      w.throttled++;
      if (retryAfterMs !== undefined) w.retryAfters.push(retryAfterMs);
    } else {
      this.accepted.push(this.activeTime(now));
    }
    w.recent.push(throttled);
    if (throttled) w.recentThrottled++;
    if (w.recent.length > RECENT_ANSWERS && w.recent.shift()) w.recentThrottled--;
    const { recentThrottled } = w;
    const elapsed = now - w.start;
    // Clearly over is judged on the latest answers alone: earlier good ones in the window would hide it.
    if (w.recent.length === RECENT_ANSWERS && recentThrottled >= CLEARLY_OVER * RECENT_ANSWERS) this.judge(now, RECENT_ANSWERS, recentThrottled);
    else if ((elapsed >= MIN_WINDOW_MS && w.answers >= MIN_ANSWERS) || (elapsed >= MAX_WINDOW_MS && w.answers >= MIN_ANSWERS_LATE)) this.judge(now, w.answers, w.throttled);
  }

  private judge(now: number, answers: number, throttled: number): void {
    const w = this.window;
    const share = throttled / answers;
    const accepted = this.acceptedLately(now);
    // What the server can take: what it accepted, allowing for the noise it throttles at any rate.
    const capacity = Math.max(FLOOR_RPS, accepted.rate / (1 - Math.min(0.5, this.baseline)));
    const rateBefore = this.rateAt(now);
    const decide = (kind: ThrottleDecision['kind'], pauseMs: number) => {
      this.judgedUpTo = this.issued;
      if (kind !== 'lift') this.cuts++;
      const rateAfter = this.rateAt(now);
      this.toldRate = rateAfter;
      this.paceCheckAt = now + PACE_EVERY_MS;
      this.options.onDecision?.({
        kind, windowMs: now - w.start, answers, share, baseline: this.baseline, acceptedRate: accepted.rate,
        rateBefore, rateAfter, ceiling: this.ceiling ?? null, pauseMs,
      });
    };
    const enough = throttled >= MIN_THROTTLED;
    const over = share >= Math.max(HIGH_SHARE, this.baseline + HIGH_MARGIN) && surprise(answers, throttled, Math.max(this.baseline, NOISE_TOLERATED)) >= SIGNIFICANT;
    // Probing beyond the ceiling: there, a small excess over the baseline is this client's doing.
    const beyond = this.ceiling !== undefined && !this.searching && (this.provisional || rateBefore > this.ceiling);
    if (enough && over) {
      const firstContact = this.ceiling === undefined;
      this.startEpoch(now, capacity);
      const early = now - this.firstSentAt < MIN_WINDOW_MS;
      this.searching = firstContact && accepted.count < (early ? RELIABLE_ACCEPTED_EARLY : RELIABLE_ACCEPTED);
      this.provisional = firstContact && !this.searching;
      decide('cut', share >= CLEARLY_OVER ? this.pause(now, median(w.retryAfters) ?? DEFAULT_PAUSE_MS) : 0);
    } else if (enough && beyond && share >= this.baseline + LOW_MARGIN && (this.provisional || (answers * 1000) / Math.max(1, now - w.start) >= APP_LIMITED * (this.ceiling as number))) {
      // (Only when it really sent beyond the ceiling: a run running out of orders sends less than it may, and
      // what the server accepted then says nothing of the limit.)
      this.startEpoch(now, capacity);
      decide('ceiling', 0);
    } else if (!beyond) {
      // Below the ceiling, throttling short of "over" is noise: the baseline follows it.
      if (!over && (this.ceiling === undefined || rateBefore <= BASELINE_BELOW * this.ceiling)) this.baseline += BASELINE_WEIGHT * (share - this.baseline);
    } else if (accepted.rate >= LIFT_FACTOR * (this.ceiling as number)) {
      // Far above the old ceiling, accepted without throttling: the limit is gone, or was never this client's.
      this.ceiling = undefined;
      decide('lift', 0);
    }
    this.window = newWindow(now);
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

  private tellPace(now: number, rate: number): void {
    this.paceCheckAt = now + PACE_EVERY_MS;
    if (rate === this.toldRate || Math.abs(rate - this.toldRate) < PACE_STEP * Math.min(rate, this.toldRate)) return;
    this.toldRate = rate;
    this.options.onPace?.(rate);
  }

  /** A new epoch: from 0.9 of `ceiling`, climbing. */
  private startEpoch(now: number, ceiling: number): void {
    // Losing ground (others sharing the limit take more of it): let go a little more (CUBIC's fast convergence).
    if (this.ceiling !== undefined && ceiling < LOSING_GROUND * this.ceiling) ceiling *= LOSING_GROUND;
    const confirmed = this.ceiling !== undefined && ceiling <= this.ceiling * (1 + CONFIRMED);
    this.probeSlope = PROBE_RPS_PER_S * Math.min(1, ceiling / PROBE_FULL_RPS) * (confirmed ? Math.min(1, ceiling / CAUTIOUS_BELOW_RPS) ** 2 : 1);
    this.searching = false;
    this.provisional = false;
    this.ceiling = ceiling;
    this.epochStart = now;
    this.tokens = Math.min(this.tokens, 1);
  }

  /**
   * What the server accepted lately, per second: answers not throttled over the last second, or over the
   * last MIN_ANSWERS of them if they took longer (a slow API accepts two or three a second, and a count
   * that small says little). Timed on the clock that stops during pauses, and never over less than a
   * second, because shorter spans mislead: a fixed window's quota is spent early in its second, and a
   * bucket's saved tokens go in a few milliseconds.
   */
  private acceptedLately(now: number): { rate: number; count: number } {
    const active = this.activeTime(now);
    while (this.accepted.length - this.acceptedHead > MIN_ANSWERS && (this.accepted[this.acceptedHead] as number) <= active - MIN_WINDOW_MS) this.acceptedHead++;
    if (this.acceptedHead > 4096) {
      this.accepted = this.accepted.slice(this.acceptedHead);
      this.acceptedHead = 0;
    }
    const count = this.accepted.length - this.acceptedHead;
    if (count === 0) return { rate: 0, count };
    return { rate: (count * 1000) / Math.max(MIN_WINDOW_MS, active - (this.accepted[this.acceptedHead] as number)), count };
  }

  /** Time on a clock that stops while everyone waits out a Retry-After, ms. */
  private activeTime(now: number): number {
    return now - this.pausedBefore - Math.max(0, Math.min(now, this.pausedUntil) - this.pauseStart);
  }
}

function newWindow(start: number): Window {
  return { start, answers: 0, throttled: 0, retryAfters: [], recent: [], recentThrottled: 0 };
}

/**
 * How surprising `k` throttled answers of `n` are if each is throttled with chance `p`: the Chernoff bound's
 * exponent, n·KL(k/n ‖ p); seeing this many or more has a chance of at most e^-surprise.
 */
function surprise(n: number, k: number, p: number): number {
  const q = k / n;
  if (q <= p) return 0;
  const kl = q * Math.log(q / p) + (q < 1 ? (1 - q) * Math.log((1 - q) / (1 - p)) : 0);
  return n * kl;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
