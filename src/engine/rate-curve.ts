import type { LimitSharing } from './limit-sharing.js';

/** A decision goes down to this share of what the server accepted. */
const BETA = 0.9;
/** A newcomer's search: requests/s per s³ (CUBIC's constant). */
const SEARCH_C = 4;
/**
 * After a decision the rate climbs in a straight line (additive increase), by this many requests/s each
 * second: the same amount for every client however fast it goes. That, with cuts that take the same share
 * from each, is what brings clients sharing one limit to fair shares; a concave return to the old rate
 * (CUBIC's) gives back the same share to each and keeps them as unequal as they started. Below
 * SLOW_RPS the climb is scaled down, because a slow API answers too few requests to show an
 * overshoot quickly; below CAUTIOUS_BELOW_RPS, once the ceiling is confirmed (found again, no more than
 * CONFIRMED higher), scaled down more. (A client held small by others sharing the limit looks the same
 * from inside, so this caution is kept to the slowest rates.)
 */
const PROBE_RPS_PER_S = 4;
export const SLOW_RPS = 10;
const CAUTIOUS_BELOW_RPS = 8;
const CONFIRMED = 0.1;
/** A new ceiling below this share of the old one is ground lost to others: it is lowered by as much again. */
const LOSING_GROUND = 0.95;

/** A curve as kept: a ceiling, and the climb after it (requests/s each second). */
export interface KeptCurve {
  ceiling: number;
  slope: number;
}

/**
 * The rate's curve, which the estimator's decisions move: a ceiling (none: unpaced), and since the last
 * decision (the epoch) a climb from 0.9 of it, in a straight line, or a newcomer's fast convex search.
 */
export class RateCurve {
  ceiling: number | undefined;
  /** The ceiling the last decision measured (a climb back's target is no measure of what the server accepts now). */
  measured: number | undefined;
  /** When the current epoch (since the last decision) began, on the climb clock. */
  private epochStart = 0;
  private slope = PROBE_RPS_PER_S;
  searching = false;
  /**
   * A ceiling from the first contact with the limit is provisional: it was measured over a second or less,
   * where a bucket's saved-up burst passes for rate. Until the next decision, any excess over the baseline
   * steps back, and nothing is learnt as noise.
   */
  provisional = false;
  /** A climb back after a refusal (climbBack), until the next decision. */
  private back: { from: number; target: KeptCurve | undefined } | undefined;

  /** `sharing`: this run is one of the shards of a run, whose limit they may share (limit-sharing.ts). */
  constructor(private readonly sharing?: LimitSharing) {}

  /** The rate at `climb` (the climb clock), requests/s, before the cap and the floor; undefined: unpaced. */
  rateAt(climb: number): number | undefined {
    if (this.ceiling === undefined) return undefined;
    const t = (climb - this.epochStart) / 1000;
    if (this.back) {
      // Doubling each second from where the refusal left the rate; at 0.9 of the curve kept, that curve's climb.
      const { from, target } = this.back;
      const doubled = from * 2 ** t;
      if (!target) return doubled;
      const reach = BETA * target.ceiling;
      return doubled < reach ? doubled : reach + this.slope * (t - Math.max(0, Math.log2(reach / from)));
    }
    return BETA * this.ceiling + (this.searching ? SEARCH_C * t ** 3 : this.slope * t);
  }

  /** No ceiling: unpaced until the server throttles again. */
  forget(): void {
    this.back = undefined;
    this.ceiling = this.measured = undefined;
    this.searching = false;
    this.provisional = false;
  }

  /** A new epoch at `climb`: from 0.9 of `ceiling`, climbing. `measured`: from answers the server accepted (not the floor for want of any). */
  startEpoch(climb: number, ceiling: number, measured: boolean): void {
    // Losing ground (others sharing the limit take more of it): let go a little more (CUBIC's fast convergence).
    if (this.ceiling !== undefined && ceiling < LOSING_GROUND * this.ceiling) ceiling *= LOSING_GROUND;
    // The floor reached for want of any accepted answer confirms nothing: from there the climb stays the slow API's, not the crawl of a confirmed one.
    const confirmed = measured && this.ceiling !== undefined && ceiling <= this.ceiling * (1 + CONFIRMED);
    const slow = this.sharing ? 1 : Math.min(1, ceiling / CAUTIOUS_BELOW_RPS) ** 2;
    this.slope = PROBE_RPS_PER_S * Math.min(1, (this.sharing?.together(ceiling) ?? ceiling) / SLOW_RPS) * (confirmed ? slow : 1);
    this.back = undefined;
    this.searching = false;
    this.provisional = false;
    this.ceiling = this.measured = ceiling;
    this.epochStart = climb;
  }

  /**
   * After a refusal, at `climb`: doubling each second from `from` (the rate the refusal left) up to 0.9 of `target`, then
   * its climb; with no target (unpaced before the refusal), doubling until the next decision.
   */
  climbBack(climb: number, from: number, target: KeptCurve | undefined): void {
    this.back = { from, target };
    if (target) {
      this.ceiling = target.ceiling;
      this.slope = target.slope;
    }
    this.epochStart = climb;
    this.searching = false;
    this.provisional = false;
  }

  /** Whether a climb back to a curve has got back to it at `climb`. */
  reachedBack(climb: number): boolean {
    const back = this.back;
    return !!back?.target && back.from * 2 ** ((climb - this.epochStart) / 1000) >= BETA * back.target.ceiling;
  }

  /** The curve, to be resumed later (undefined: unpaced). */
  kept(): KeptCurve | undefined {
    return this.ceiling === undefined ? undefined : { ceiling: this.ceiling, slope: this.slope };
  }
}
