/**
 * How a run that is one of n shards (`--shard i/n`, n > 1) reads its limit: as one the n shards may share.
 *
 * Clients that share a limit and each read only their own answers still come to fair shares when they cut
 * at the same moments by the same rule: additive increase and multiplicative decrease, made together,
 * converge to fairness (Chiu and Jain). Alone (ThrottleEstimator's own rules), each client judges its own
 * windows, starting whenever its first request went, and cuts from what the server accepted of its own
 * requests: the shard that started first took the bucket's saved-up burst for its rate, and led for most of
 * the run. So a shard:
 * - judges its windows on whole seconds of the clock (`windowDue`): the throttling of one second is seen by
 *   every shard (processes on one machine share its clock; pods, NTP's), and all cut in that second;
 * - cuts to the same share of its own pace (`CUT_OF_PACE`), rather than to what the server accepted of its
 *   requests, which depends on whose requests the limit happened to refuse; to what was accepted only when
 *   that is lower (a search that overshot a slow API);
 * - at its first contact with the limit, searches upward from `LEVEL_START_RPS`, as every other shard does.
 * What it gives shards on one limit, what sharper rules gave and what it costs a shard alone on a limit of
 * its own: docs/performance.md, test/limit-sharing.test.ts.
 */
export class LimitSharing {
  private contacted = false;

  constructor(private readonly sharers: number) {}

  /** Whether the window from `start` ends at `now`: the first answer past a whole second, half a second and MIN_ANSWERS in. */
  windowDue(start: number, now: number, answers: number): boolean {
    return Math.floor(now / ALIGN_MS) > Math.floor(start / ALIGN_MS) && now - start >= ALIGN_MS / 2 && answers >= MIN_ANSWERS;
  }

  /** At the run's first contact with the limit, true once: its cut is a level start, searched upward from (not after a ceiling forgotten later). */
  levelStart(): boolean {
    const first = !this.contacted;
    this.contacted = true;
    return first;
  }

  /** The ceiling a cut sets: a level start; else a share of the pace, or what was accepted if lower. */
  cutTo(capacity: number, rateBefore: number, levelStart: boolean): number {
    return Math.min(capacity, levelStart ? LEVEL_START_RPS : CUT_OF_PACE * rateBefore);
  }

  /**
   * The rate the shards together send when this one's ceiling is `ceiling`, about: what the climb's pace goes by.
   * A lone client climbs slowly below 10/s (a slow API shows an overshoot late); a shard held small by the others
   * would then climb slower than they, and stay small: additive increase converges to fair shares only when it is
   * the same for all.
   */
  together(ceiling: number): number {
    return this.sharers * ceiling;
  }
}

const ALIGN_MS = 1000;
const MIN_ANSWERS = 20;
const CUT_OF_PACE = 0.9;
const LEVEL_START_RPS = 5;
