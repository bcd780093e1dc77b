/** After a climb back that did not hold, the next one waits this long, doubled for each in a row that did not. */
const RETRY_AFTER_FAILED_MS = 10_000;
/** A climb back holds when no refusal follows within this long of its getting back (a quota of N a window refuses again soon). */
const HOLD_MS = 60_000;

/**
 * What the rate was before the server refused this client, for when it accepts again (the estimator's side
 * of a refusal; refusal-watch.ts halts one that lasts a minute).
 *
 * A window the server accepted nothing of measures nothing: each cut from one takes the rate further down,
 * to the floor (one request every 20 s), and from there the climb of a slow API took a run on a limit of
 * 100/s a quarter of an hour to finish what took two minutes, after 30 s of a gateway's 429s. So the
 * rate's curve before the first such cut is kept (`S`: the estimator's ceiling and climb; none: unpaced),
 * and an accepted answer after one starts a climb back to it (rate-curve.ts: doubling each second from
 * where the refusal left the rate, never above the curve kept). A climb back that does not hold — cut before
 * it gets there (the refusal again, a lower limit), or refused again within a minute of getting there (a quota
 * of N a window, spent again) — makes the next wait 10 s, then 20 s, 40 s…: a server that accepts one request in
 * fifty is refusing this client, not pacing it, and a quota is not climbed at again each window (red team:
 * orders failed, out of attempts, at four times the 429s). A cut from a
 * window the server accepted some of measured a limit, and a window judged not over found none: the refusal
 * is over, and what was kept is forgotten.
 */
export class RefusalMemory<S> {
  /** The curve before the refusal (state undefined: unpaced), and when the refusal began; while one is remembered. */
  private before: { state: S | undefined; since: number; answers: number; throttled: number } | undefined;
  /** A window accepted nothing of since the last climb back began: the next accepted answer may start one. */
  private armed = false;
  /** A climb back under way: to a curve, or (unpaced before the refusal) until the server throttles. */
  private climbing: 'curve' | 'unpaced' | undefined;
  /** Climbs back in a row that did not hold, and when the next may start (wall clock). */
  private failed = 0;
  private notBefore = Number.NEGATIVE_INFINITY;
  /** When the last climb back got back (wall clock), until the next refusal. */
  private gotBackAt: number | undefined;

  /** An answer while a refusal is remembered: counted for the record of the climb back. */
  answered(throttled: boolean): void {
    if (!this.before) return;
    this.before.answers++;
    if (throttled) this.before.throttled++;
  }

  /** A window judged that was not over the limit: no refusal (any more). A climb back under way goes on to its end. */
  settled(): void {
    this.before = undefined;
    this.armed = false;
  }

  /** At `now`, the climb back got to the curve it climbed to: it holds if no refusal follows within HOLD_MS. */
  reached(now: number): void {
    if (this.climbing !== 'curve') return;
    this.climbing = undefined;
    this.gotBackAt = now;
  }

  /** A cut at `now` from a window with this share throttled, from the curve `state` (undefined: unpaced). */
  cut(share: number, state: S | undefined, now: number): void {
    if (this.climbing) {
      // Cut before it got back (a quota spent again, a lower limit, the refusal again): the next climb back waits. One from unpaced
      // ends at the limit it finds (a window with some accepted): that is its end, not a failure.
      const found = this.climbing === 'unpaced' && share < 1;
      this.climbing = undefined;
      if (found) this.gotBackAt = now;
      else this.failedAt(now);
    }
    if (share < 1) {
      this.settled(); // a limit measured: no refusal
      return;
    }
    if (!this.before && this.gotBackAt !== undefined) {
      // A refusal again: soon after the last climb back got back, that one did not hold (a quota of N a window); later, it did.
      if (now - this.gotBackAt < HOLD_MS) this.failedAt(now);
      else this.failed = 0;
      this.gotBackAt = undefined;
    }
    this.before ??= { state, since: now, answers: 0, throttled: 0 };
    this.armed = true;
  }

  private failedAt(now: number): void {
    this.failed++;
    this.notBefore = now + RETRY_AFTER_FAILED_MS * 2 ** (this.failed - 1);
  }

  /**
   * An accepted answer to a request sent after the last decision, at `now`: the curve to climb back to (`null`: unpaced) and
   * the refusal's figures, or undefined.
   */
  accepted(now: number): { target: S | null; since: number; answers: number; throttled: number } | undefined {
    const before = this.before;
    if (!this.armed || !before || now < this.notBefore) return undefined;
    this.armed = false;
    this.climbing = before.state === undefined ? 'unpaced' : 'curve';
    return { target: before.state ?? null, since: before.since, answers: before.answers, throttled: before.throttled };
  }
}
