/**
 * The run's domain: what happens to an order, what a run records of it, and how a run ends. Shared by
 * the engine that produces these, the audit journal that keeps them, and the reports that read them.
 */

/**
 * The version of the audit log's record format, carried by run.start for every line of its run
 * (audit/records). 1: logs written before it was recorded; 2: this format.
 */
export const AUDIT_RECORD_VERSION = 2;

/** An order's outcome: what its one `order` line per run records. */
export type Outcome = 'deleted' | 'already_absent' | 'failed' | 'would_delete';
export const OUTCOMES: readonly Outcome[] = ['deleted', 'already_absent', 'failed', 'would_delete'];

/** Outcomes in which the goal holds (the order is gone): a resume never sends such an order again. */
export const GOAL_REACHED: ReadonlySet<Outcome> = new Set<Outcome>(['deleted', 'already_absent']);

export interface OrderRecord {
  orderId: string;
  outcome: Outcome;
  httpStatus: number | null;
  /** Requests sent for this order in this run. */
  attempts: number;
  durationMs: number;
  error?: { code: string; message: string };
}

export interface RetryRecord {
  orderId: string;
  /** The attempt that failed. */
  attempt: number;
  httpStatus?: number;
  errorCode?: string;
  /** The wait before the next attempt. */
  delayMs: number;
}

/** How a run ended: its `run.end` status. */
export type RunStatus = 'completed' | 'failed' | 'interrupted' | 'halted' | 'crashed';
export const RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'interrupted', 'halted', 'crashed'];

/**
 * Statuses after which a run waits for a person, rather than for an automatic resume (--auto-resume):
 * it finished on its own (`completed`, `failed`: failed orders or a refused guard), or a bug stopped it
 * (`crashed`: resuming would meet the bug again).
 */
export const WAITS_FOR_A_PERSON: ReadonlySet<RunStatus> = new Set<RunStatus>(['completed', 'failed', 'crashed']);

/** The rate controller's and the retry budget's figures for a run. */
export interface ThrottlingSummary {
  /** Requests answered, and those answered 429. */
  requests: number;
  throttled: number;
  /** Decisions that lowered the rate (`throttle` lines). */
  cuts: number;
  /** The rate the server was found to accept (requests/s), if it throttled; the pace at the end (null: not paced). */
  ceilingRps: number | null;
  finalRps: number | null;
  /** Time new orders waited because the retry budget was spent. */
  budgetHeldMs: number;
}

/** The counts of one run, as its summary, run.end and the summary files give them. */
export interface RunSummary {
  /** Distinct valid IDs in the input. */
  selected: number;
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  /** Finished by an earlier run of the same log, so not sent again. */
  skipped: number;
  wouldDelete: number;
  /** Not finished because the run stopped early; a resume picks them up. */
  pending: number;
  retries: number;
  /** Time every worker was paused by the server's 429s. */
  throttledMs: number;
  /** How the run's pace went: absent in logs written before it was recorded, and in dry runs. */
  throttling?: ThrottlingSummary;
  /** Access tokens this run obtained from the token endpoint, and those it took from the token cache. */
  tokens?: { obtained: number; shared: number };
  /** Orders finished per second of the run. */
  ratePerSecond: number;
}

/**
 * What made an order fail, in a few words: `HTTP 409 ORDER_LOCKED`, `HTTP 503` (the code left out when
 * it only repeats the status), `no response (ECONNRESET)`. The halt policy, the summary and the reports
 * group failures by it.
 */
export function failureCause(record: Pick<OrderRecord, 'httpStatus' | 'error'>): string {
  const code = record.error?.code ?? '';
  if (record.httpStatus === null) return `no response${code ? ` (${code})` : ''}`;
  return code && code !== `HTTP_${record.httpStatus}` ? `HTTP ${record.httpStatus} ${code}` : `HTTP ${record.httpStatus}`;
}

/** Why a request was retried, in the same words as failureCause: `HTTP 429`, `no response (ETIMEDOUT)`. */
export function retryCause(record: Pick<RetryRecord, 'httpStatus' | 'errorCode'>): string {
  if (record.httpStatus !== undefined) return `HTTP ${record.httpStatus}`;
  return `no response${record.errorCode ? ` (${record.errorCode})` : ''}`;
}
