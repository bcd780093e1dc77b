import type { ThrottleFields } from '../common/records.js';

/**
 * A decision of the rate controller: the audit log's `throttle` record (common/records, the one source of
 * its shape: `cut`, `ceiling`, `lift`, `noise`, `restore`, `raise`), except that an unpaced rate is Infinity here, where the
 * record keeps null (JSON has no Infinity).
 */
export type ThrottleDecision = Omit<ThrottleFields, 'rateBefore' | 'rateAfter'> & { rateBefore: number; rateAfter: number };

/** What the estimator decided; the controller adds the rates and the pause it applied. */
export type Judgement = Omit<ThrottleDecision, 'rateBefore' | 'rateAfter' | 'pauseMs'> & {
  /** Everyone waits this long from now, ms (clearly over). */
  pauseMs?: number;
};
