/** After a climb back that met the refusal again, the next one waits this long, doubled for each in a row that did. */
const RETRY_AFTER_FAILED_MS = 10_000;

/**
 * What the rate was before the server refused this client, for when it accepts again (the estimator's side
 * of a refusal; refusal-watch.ts halts one that lasts a minute).
 *
 * A window the server accepted nothing of measures nothing: each cut from one takes the rate further down,
 * to the floor (one request every 20 s), and from there the climb of a slow API took a run on a limit of
 * 100/s a quarter of an hour to finish what took two minutes, after 30 s of a gateway's 429s. So the
 * rate's curve before the first such cut is kept (`S`: the estimator's ceiling and climb; none: unpaced),
 * and an accepted answer after one starts a climb back to it (rate-curve.ts: doubling each second from
 * where the refusal left the rate, never above the curve kept). A climb back that meets the refusal again
 * (a window accepted nothing of) ends, and the next waits 10 s, then 20 s, 40 s…: a server that accepts one
 * request in fifty is refusing this client, not pacing it. A cut from a window the server accepted some of
 * measured a limit, and a window judged not over found none: the refusal is over, and what was kept is forgotten.
 */
export class RefusalMemory<S> {
  /** The curve before the refusal (state undefined: unpaced), and when the refusal began; while one is remembered. */
  private before: { state: S | undefined; since: number; answers: number; throttled: number } | undefined;
  /** A window accepted nothing of since the last climb back began: the next accepted answer may start one. */
  private armed = false;
  private climbing = false;
  /** Climbs back in a row that met the refusal again, and when the next may start (wall clock). */
  private failed = 0;
  private notBefore = Number.NEGATIVE_INFINITY;

  /** An answer while a refusal is remembered: counted for the record of the climb back. */
  answered(throttled: boolean): void {
    if (!this.before) return;
    this.before.answers++;
    if (throttled) this.before.throttled++;
  }

  /** A window judged that was not over the limit, or a cut from one the server accepted some of: no refusal (any more). */
  settled(): void {
    this.before = undefined;
    this.armed = this.climbing = false;
    this.failed = 0;
  }

  /** A cut at `now` from a window with this share throttled, from the curve `state` (undefined: unpaced). */
  cut(share: number, state: S | undefined, now: number): void {
    if (share < 1) {
      this.settled();
      return;
    }
    this.before ??= { state, since: now, answers: 0, throttled: 0 };
    if (this.climbing) {
      this.climbing = false;
      this.failed++;
      this.notBefore = now + RETRY_AFTER_FAILED_MS * 2 ** (this.failed - 1);
    }
    this.armed = true;
  }

  /**
   * An accepted answer to a request sent after the last decision, at `now`: the curve to climb back to (`null`: unpaced) and
   * the refusal's figures, or undefined.
   */
  accepted(now: number): { target: S | null; since: number; answers: number; throttled: number } | undefined {
    const before = this.before;
    if (!this.armed || !before || now < this.notBefore) return undefined;
    this.armed = false;
    this.climbing = true;
    return { target: before.state ?? null, since: before.since, answers: before.answers, throttled: before.throttled };
  }
}
