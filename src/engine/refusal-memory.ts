/** A window judged after a restore that is over with this share throttled or more: the server still refuses. */
const STILL_REFUSING = 0.5;

/**
 * What the rate was before the server refused this client, for when it accepts again (the estimator's side
 * of a refusal; refusal-watch.ts halts one that lasts a minute).
 *
 * A window the server accepted nothing of measures nothing: each cut from one takes the rate further down,
 * to the floor (one request every 20 s), and from there the climb of a slow API took a run on a limit of
 * 100/s a quarter of an hour to finish what took two minutes, after 30 s of a gateway's 429s. So the
 * rate's curve before the first such cut is kept (`S`: the estimator's ceiling and climb; none: unpaced),
 * and the first accepted answer after one brings it back. The next window judged is the restore's trial:
 * over, with half its answers throttled or more (heavy random 429s, not the refusal's end; or a limit now
 * below half the old rate, which the slow climb then finds as before), the rate goes back to where the
 * refusal had left it, and the next restore waits for another window the server accepted nothing of;
 * otherwise the refusal is over, and a lower limit is cut to from what was accepted since the restore.
 */
export class RefusalMemory<S> {
  /** The curve before the refusal (state undefined: unpaced), while one is remembered. */
  private before: { state: S | undefined } | undefined;
  /** A window accepted nothing of since the last restore: the next accepted answer restores. */
  private armed = false;
  /** While a restore is on trial: the curve it replaced. */
  private replaced: S | undefined;

  /** A cut from a window with this share throttled, from the curve `state` (undefined: unpaced). */
  cut(share: number, state: S | undefined): void {
    if (share < 1) return;
    this.before ??= { state };
    this.armed = true;
  }

  /**
   * An answer not throttled, the curve `state` now (undefined: unpaced): the curve to restore, if any (`null`: unpaced).
   * A restore on trial is not restored again.
   */
  accepted(state: S | undefined): S | null | undefined {
    if (!this.armed || state === undefined || this.before === undefined) return undefined;
    this.armed = false;
    this.replaced = state;
    return this.before.state ?? null;
  }

  /** A window judged: over or not, with this share throttled. The curve to go back to when a restore's trial failed. */
  judged(over: boolean, share: number): S | undefined {
    const replaced = this.replaced;
    if (replaced === undefined) return undefined;
    this.replaced = undefined;
    if (over && share >= STILL_REFUSING) return replaced;
    this.before = undefined;
    return undefined;
  }
}
