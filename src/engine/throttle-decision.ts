/** A decision of the rate controller, as the audit log's `throttle` records keep it. */
export interface ThrottleDecision {
  /**
   * `cut`: over the limit, the rate cut to what the server accepted; `ceiling`: at the known ceiling and
   * throttled a little, a step back below it; `lift`: far above the old ceiling without throttling, the
   * ceiling forgotten; `noise`: cuts that did not lower the share throttled undone, that share learnt as
   * the baseline (the 429s are not about this client's rate).
   */
  kind: 'cut' | 'ceiling' | 'lift' | 'noise';
  /** The window the decision was made from: its length, its answers, the share of them throttled. */
  windowMs: number;
  answers: number;
  share: number;
  /** The throttled share normally seen (noise that says nothing of this client's rate). */
  baseline: number;
  /** Answers that were not throttled, per second: what the server accepted. */
  acceptedRate: number;
  rateBefore: number;
  rateAfter: number;
  /** The ceiling remembered after the decision, requests/s; null once lifted. */
  ceiling: number | null;
  /** How long every request waits now (the server's Retry-After), ms; 0 when nobody pauses. */
  pauseMs: number;
}

/** What the estimator decided; the controller adds the rates and the pause it applied. */
export type Judgement = Omit<ThrottleDecision, 'rateBefore' | 'rateAfter' | 'pauseMs'> & {
  /** Everyone waits this long from now, ms (clearly over). */
  pauseMs?: number;
};
