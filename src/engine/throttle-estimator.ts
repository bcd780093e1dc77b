import { AcceptedRate } from './accepted-rate.js';
import type { LimitSharing } from './limit-sharing.js';
import { NoiseTest } from './noise-test.js';
import { newWindow, type Window } from './estimator-window.js';
import { RateCurve, SLOW_RPS, type KeptCurve } from './rate-curve.js';
import { RefusalMemory } from './refusal-memory.js';
import type { Judgement, ThrottleDecision } from './throttle-decision.js';
import { median, SIGNIFICANT, surprise } from './throttle-stats.js';

/** Where an answer stands on the controller's clocks, and the rate in force when it came. */
export interface AnswerTime {
  /** Wall-clock time, ms. */
  now: number;
  /** Time on the clock that stops while everyone waits out a Retry-After, ms. */
  active: number;
  /** Time on the clock the rate climbs on (only while the pace holds requests back), ms. */
  climb: number;
  /** The rate allowed now, requests/s. */
  rateBefore: number;
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
const NOISE_TOLERATED = 0.05;
/**
 * A window whose answers came slower than this share of the ceiling, or of the pace, was not probing it:
 * the run ran short of orders, or its orders were all waiting out their own Retry-After.
 */
const APP_LIMITED = 0.8;
/** Beyond the known ceiling, this much above the baseline is enough to step back. */
const LOW_MARGIN = 0.02;
/** A first cut from fewer accepted answers than this does not know the limit: it searches upward, fast. */
const RELIABLE_ACCEPTED = 10;
/**
 * Nor from fewer than this many accepted in the run's first second: a token bucket with a small burst
 * (10 against 100/s) is spent in the first milliseconds, and what it accepted then is a tenth of its rate.
 */
const RELIABLE_ACCEPTED_EARLY = 30;
/** The server accepting this many times the old ceiling without throttling: the limit is gone, or was noise. */
const LIFT_FACTOR = 4;
/**
 * Windows in a row sent beyond a ceiling under SLOW_RPS and throttled no more than the baseline, the server accepting this many
 * times the ceiling: the ceiling is stale, and goes up to what the server accepted (a quarter beyond fired at steady slow buckets
 * with a burst of 1, whose ceilings sit a quarter or so below the limit: red team).
 */
const RAISE_WINDOWS = 2;
const RAISE_FACTOR = 1.5;
/** How fast the baseline follows the throttled share of windows that decided nothing, below this share of the ceiling. */
const BASELINE_WEIGHT = 0.2;
const BASELINE_BELOW = 0.95;
const DEFAULT_PAUSE_MS = 1000;
/**
 * Everyone waits out the server's Retry-After at the first contact, and again when clearly over if it is
 * this short: a second's wait together is how clients sharing a limit back off together. A longer one is
 * waited once, by the orders it was given to: pausing everyone for it again would hold orders that have
 * just waited out their own (the wait would add up, 40 s and 40 s again).
 */
const PAUSE_AGAIN_MS = 2000;

/**
 * What the limit is, read from the server's answers rather than from single events: the decisions that
 * move the rate's curve (rate-curve.ts: a ceiling, and the climb since the last decision).
 *
 * Answers are judged a window at a time (at least 1 s and 20 answers), and only answers to requests sent
 * after the last decision, so that one episode is judged once. Over the limit — a share throttled well
 * above the baseline of noise — the rate goes down once to 0.9 of what the server accepted (not a blind
 * halving), which is remembered as the ceiling; beyond the ceiling a smaller excess is enough. Only when
 * clearly over (half the latest answers throttled) does everyone wait out the server's Retry-After, never
 * past the latest moment it asked for: a long one only at the first contact, after which each throttled
 * order waits its own (PAUSE_AGAIN_MS). After a decision the rate climbs back in a straight line; a ceiling found lower
 * than the last is lowered a little more, so clients sharing one limit settle on fair shares quickly.
 * Throttling at or below the ceiling that is not "over" is noise: it becomes the baseline and never cuts;
 * and when cutting does not lower the share throttled (NoiseTest), the cuts are undone and that share
 * becomes the baseline. A window sent well below the pace is cut from by the pace, not by what it had
 * the server accept. A client whose first cut came
 * from a handful of accepted answers (a newcomer to a limit others already use up, or a run whose first
 * moments spent a bucket's small burst) searches upward fast instead. A lone run that the server refused
 * (accepting nothing) climbs back to its curve from before when it accepts again (RefusalMemory); one whose
 * slow ceiling proves stale (windows beyond it accepted as below it) has it raised to what was accepted.
 */
export class ThrottleEstimator {
  private readonly curve: RateCurve;
  /** Tickets handed out, one per request sent; answers to tickets up to `judgedUpTo` were taken into account by a decision. */
  private issued = 0;
  private judgedUpTo = 0;
  /** When the first request was sent. */
  private firstSentAt = 0;
  private baseline = 0;
  private window: Window;
  private readonly accepted = new AcceptedRate();
  /** The windows over the limit lately: whether cutting lowers the share throttled. */
  private readonly noise = new NoiseTest();
  /**
   * The rate before the server refused this client (accepting nothing), for when it accepts again. Not a shard's: its windows
   * accepted nothing as often for the other shards' load, and shards climb back as they would together anyway.
   */
  private readonly refusal: RefusalMemory<KeptCurve> | undefined;
  /** Windows in a row sent beyond the ceiling, throttled no more than the baseline. */
  private cleanBeyond = 0;

  /** `sharing`: this run is one of the shards of a run, whose limit they may share (limit-sharing.ts). */
  constructor(now: number, private readonly sharing?: LimitSharing) {
    this.window = newWindow(now, 0);
    this.curve = new RateCurve(sharing);
    this.refusal = sharing ? undefined : new RefusalMemory<KeptCurve>();
  }

  /** What the server accepted, as the last decision measured it (not where a climb back goes); undefined: unpaced. */
  get ceilingRps(): number | undefined {
    return this.curve.measured;
  }

  /** The rate by the curve at `climb` (the climb clock), requests/s, before the cap and the floor; undefined: unpaced. */
  rateAt(climb: number): number | undefined {
    return this.curve.rateAt(climb);
  }

  /** A request goes at `now`: its ticket. */
  sent(now: number): number {
    if (this.issued === 0) {
      this.firstSentAt = now;
      this.window = newWindow(now, now); // the first window starts with the first request (nothing is paused before it)
    }
    return ++this.issued;
  }

  /** The answer to the request sent with `ticket`: a judgement when its window decided something. */
  answered(ticket: number, throttled: boolean, retryAfterMs: number | undefined, at: AnswerTime): Judgement | undefined {
    if (ticket <= this.judgedUpTo) return undefined;
    this.refusal?.answered(throttled);
    const back = throttled ? undefined : this.refusal?.accepted(at.now);
    if (back) return this.restore(at, back);
    const w = this.window;
    w.answers++;
    w.minPace = Math.min(w.minPace, at.rateBefore);
    if (throttled) {
      w.throttled++;
      if (retryAfterMs !== undefined) {
        w.retryAfters.push(retryAfterMs);
        w.latestDeadline = Math.max(w.latestDeadline, at.now + retryAfterMs);
      }
    } else {
      this.accepted.accepted(at.active);
    }
    w.recent.push(throttled);
    if (throttled) w.recentThrottled++;
    if (w.recent.length > RECENT_ANSWERS && w.recent.shift()) w.recentThrottled--;
    const { recentThrottled } = w;
    const elapsed = at.now - w.start;
    // Clearly over is judged on the latest answers alone: earlier good ones in the window would hide it. It
    // is looked at after every answer, so it must be RECENT_ANSWERS times less likely as noise.
    if (w.recent.length === RECENT_ANSWERS && recentThrottled >= CLEARLY_OVER * RECENT_ANSWERS && this.over(RECENT_ANSWERS, recentThrottled, SIGNIFICANT + Math.log(RECENT_ANSWERS))) {
      return this.judge(at, RECENT_ANSWERS, recentThrottled);
    }
    const due = this.sharing ? this.sharing.windowDue(w.start, at.now, w.answers) : elapsed >= MIN_WINDOW_MS && w.answers >= MIN_ANSWERS;
    if (due || (elapsed >= MAX_WINDOW_MS && w.answers >= MIN_ANSWERS_LATE)) return this.judge(at, w.answers, w.throttled);
    return undefined;
  }

  private judge(at: AnswerTime, answers: number, throttled: number): Judgement | undefined {
    const { now, rateBefore } = at;
    const w = this.window;
    this.window = newWindow(now, at.active);
    const share = throttled / answers;
    const sendRate = (w.answers * 1000) / Math.max(1, at.active - w.activeStart);
    const accepted = this.accepted.lately(at.active);
    // Sent well below the pace (orders waiting out their own Retry-After, or running out), a window did not
    // measure what the server can take, only what was sent: its cut goes by the pace and the share
    // throttled, and it is no sample of noise.
    const appLimited = Number.isFinite(w.minPace) && sendRate < APP_LIMITED * w.minPace;
    // What the server can take: what it accepted, allowing for the noise it throttles at any rate.
    const capacity = Math.max(FLOOR_RPS, (appLimited ? (1 - share) * w.minPace : accepted.rate) / (1 - Math.min(0.5, this.baseline)));
    // And what was accepted over a stretch where little was sent says nothing to the next window: counted afresh.
    if (appLimited) this.accepted.forget();
    const decide = (kind: ThrottleDecision['kind'], pauseMs?: number): Judgement => {
      this.judgedUpTo = this.issued;
      return {
        kind, windowMs: now - w.start, answers, share, baseline: this.baseline, acceptedRate: accepted.rate,
        ceiling: this.curve.ceiling ?? null, ...(pauseMs === undefined ? {} : { pauseMs }),
      };
    };
    const enough = throttled >= MIN_THROTTLED;
    const over = this.over(answers, throttled);
    if (this.curve.reachedBack(at.climb)) this.refusal?.reached(now);
    if (!(enough && over)) this.refusal?.settled(); // accepted as a limit does, or better: no refusal (any more)
    // Probing beyond the ceiling: there, a small excess over the baseline is this client's doing.
    const { ceiling } = this.curve;
    const beyond = ceiling !== undefined && !this.curve.searching && (this.curve.provisional || rateBefore > ceiling);
    // (A window sent below the pace sent what it sent at the pace, in bursts: that is its rate.)
    const noise = this.noise.judged({ rate: appLimited ? w.minPace : sendRate, answers: w.answers, throttled: w.throttled, ms: at.active - w.activeStart }, now, Math.max(HIGH_SHARE, this.baseline + HIGH_MARGIN));
    if (noise !== undefined) {
      // Cutting did not lower the share: the 429s are not about the rate; the cuts undone, the share learnt. A shard keeps its pace (its
      // share is the others' load as much as noise: unpaced, one sent 19,206 requests in a refusal's minute; a lone run, 131).
      if (this.sharing) this.noise.reset();
      else this.forget();
      this.baseline = Math.max(this.baseline, noise);
      return decide('noise');
    }
    if (enough && over) {
      const firstContact = ceiling === undefined;
      const levelStart = firstContact && !!this.sharing?.levelStart();
      this.refusal?.cut(share, this.curve.kept(), now);
      // (A window sent below the pace and throttled whole says nothing of what the server accepts: its floor confirms nothing.)
      this.startEpoch(at.climb, this.sharing ? this.sharing.cutTo(capacity, rateBefore, levelStart) : capacity, appLimited ? share < 1 : accepted.count > 0);
      const early = now - this.firstSentAt < MIN_WINDOW_MS;
      this.curve.searching = firstContact && (levelStart || accepted.count < (early ? RELIABLE_ACCEPTED_EARLY : RELIABLE_ACCEPTED));
      this.curve.provisional = firstContact && !this.curve.searching;
      this.noise.cut(now);
      // Everyone waits the server's Retry-After, counted from the answers that carried it: never past the latest moment it asked for.
      const pauseMs = w.retryAfters.length === 0 ? DEFAULT_PAUSE_MS : Math.min(median(w.retryAfters) as number, Math.max(0, w.latestDeadline - now));
      return decide('cut', share >= CLEARLY_OVER && (firstContact || pauseMs <= PAUSE_AGAIN_MS) ? pauseMs : undefined);
    }
    if (enough && beyond && share >= this.baseline + LOW_MARGIN && (this.curve.provisional || (answers * 1000) / Math.max(1, now - w.start) >= APP_LIMITED * (ceiling as number))) {
      // (Only when it really sent beyond the ceiling: a run running out of orders sends less than it may, and
      // what the server accepted then says nothing of the limit.)
      this.startEpoch(at.climb, this.sharing ? this.sharing.cutTo(capacity, rateBefore, false) : capacity, true);
      return decide('ceiling');
    }
    const clean = beyond && !this.sharing && (ceiling as number) < SLOW_RPS && !appLimited && (!enough || share < this.baseline + LOW_MARGIN);
    this.cleanBeyond = clean ? this.cleanBeyond + 1 : 0;
    if (!beyond) {
      // Below the ceiling, throttling short of "over" is noise: the baseline follows it.
      if (!over && (ceiling === undefined || rateBefore <= BASELINE_BELOW * ceiling)) this.baseline += BASELINE_WEIGHT * (share - this.baseline);
    } else if (accepted.rate >= LIFT_FACTOR * (ceiling as number)) {
      // Far above the old ceiling, accepted without throttling: the limit is gone, or was never this client's.
      this.forget();
      return decide('lift');
    } else if (this.cleanBeyond >= RAISE_WINDOWS && accepted.rate >= RAISE_FACTOR * (ceiling as number)) {
      // Beyond a slow ceiling, accepted as below it, again and again: the ceiling is stale (a limit raised, or one measured in a
      // storm of 429s), and the climb from it a slow API's crawl. It goes up to what the server accepted, and climbs at that pace's.
      // (Not a shard's: shards climb as they would together, at no slow API's caution.)
      this.startEpoch(at.climb, accepted.rate, true);
      return decide('raise');
    }
    return undefined;
  }

  /**
   * The server accepts again after refusing: the rate climbs back to the curve from before the refusal (RefusalMemory,
   * RateCurve.climbBack). Recorded with the refusal's answers since its first cut.
   */
  private restore(at: AnswerTime, back: NonNullable<ReturnType<RefusalMemory<KeptCurve>['accepted']>>): Judgement {
    this.judgedUpTo = this.issued;
    this.window = newWindow(at.now, at.active);
    this.curve.climbBack(at.climb, Math.max(FLOOR_RPS, Number.isFinite(at.rateBefore) ? at.rateBefore : FLOOR_RPS), back.target ?? undefined);
    const answers = back.answers;
    const windowMs = at.now - back.since;
    return {
      kind: 'restore', windowMs, answers, share: answers === 0 ? 1 : back.throttled / answers, baseline: this.baseline,
      acceptedRate: ((answers - back.throttled) * 1000) / Math.max(1000, windowMs), ceiling: back.target?.ceiling ?? null,
    };
  }

  /** Throttled this much, and unlikely as noise at the baseline. */
  private over(answers: number, throttled: number, significant = SIGNIFICANT): boolean {
    const share = throttled / answers;
    return share >= Math.max(HIGH_SHARE, this.baseline + HIGH_MARGIN) && surprise(answers, throttled, Math.max(this.baseline, NOISE_TOLERATED)) >= significant;
  }

  /** No ceiling: unpaced until the server throttles again. */
  private forget(): void {
    this.curve.forget();
    this.noise.reset();
  }

  /** A new epoch: from 0.9 of `ceiling`, climbing. `measured`: from answers the server accepted (not the floor for want of any). */
  private startEpoch(climb: number, ceiling: number, measured: boolean): void {
    this.cleanBeyond = 0;
    this.curve.startEpoch(climb, ceiling, measured);
  }
}
