import type { ThrottleDecision } from './throttle-decision.js';

/** What each decision of the rate controller did, in words: the audit log's throttle lines, the HTML page's legend, marks and table. */
export const DECISION_WORDS: Readonly<Record<ThrottleDecision['kind'], string>> = {
  cut: 'rate cut',
  ceiling: 'rate stepped back below the ceiling',
  lift: 'limit lifted',
  noise: 'cuts undone (the 429s are not about the rate)',
  restore: 'climbing back (the server accepts again after refusing)',
  raise: 'ceiling raised (the server accepts beyond it)',
};

/** A paced rate for people: `36.5/s`, `0.05/s` (more figures below 1/s: the floor is no `0.1/s`), or `unpaced` (Infinity in the engine, null in a record). */
export const rateText = (rps: number | null): string =>
  (rps === null || !Number.isFinite(rps) ? 'unpaced' : `${Number(rps.toFixed(rps >= 1 ? 1 : rps >= 0.1 ? 2 : 3))}/s`);

/** A decision in a line: `rate cut from 120/s to 90.5/s`; noise says what was found, a climb back where it goes. */
export const decisionText = (d: { kind: ThrottleDecision['kind']; rateBefore: number | null; rateAfter: number | null; baseline?: number; ceiling?: number | null }): string => {
  if (d.kind === 'noise') {
    return `${DECISION_WORDS.noise}: cutting did not lower the share throttled (${Math.round((d.baseline ?? 0) * 100)}%, now the baseline); ` +
      `unpaced from ${rateText(d.rateBefore)}`;
  }
  if (d.kind === 'restore') {
    return `${DECISION_WORDS.restore} from ${rateText(d.rateAfter)}, doubling each second ` +
      `${d.ceiling ? `up to ${rateText(0.9 * d.ceiling)}, where it was before the refusal` : 'until the server throttles (it was unpaced before the refusal)'}`;
  }
  return `${DECISION_WORDS[d.kind]} from ${rateText(d.rateBefore)} to ${rateText(d.rateAfter)}`;
};
