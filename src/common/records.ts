import * as z from 'zod';
import { OUTCOMES, RUN_STATUSES, STOP_CAUSES } from './domain.js';

/**
 * What each line of the audit log records: the one source of the records' shapes. The writers' types
 * (the engine's order and retry records, the throttle decision, the service change, run.start's fields,
 * the run's outcome and summary) are inferred from these schemas, and the reader (audit/records) checks
 * every line against them, adding the fields the journal gives every line — so a field added on one
 * side only fails to compile. Writers import types only, which cost nothing at run time: the schema
 * library is loaded where a log is read, not by every run.
 */
const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

const sourceFields = z.object({
  /** Where the IDs came from: a CSV or text file (or stdin, spooled), or a filter's selection (its manifest). */
  kind: z.enum(['csv', 'text', 'filter']),
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  count,
  /** How the file is read; logs written before it was recorded have the kind only. */
  format: z.enum(['csv', 'text']).optional(),
  /** The CSV header the IDs were read from. */
  column: z.string().optional(),
  idPattern: z.string().optional(),
  shard: z.string().optional(),
  stdin: z.boolean().optional(),
  rows: count.optional(),
  duplicates: count.optional(),
  otherShards: count.optional(),
  filter: z.object({
    path: z.string(),
    sha256: z.string(),
    match: z.unknown(),
    matchAll: z.boolean().optional(),
    /** `all`: the whole order listing; `accounts`: the orders of the accounts named. */
    scope: z.enum(['all', 'accounts']).optional(),
  }).optional(),
  listed: count.optional(),
  /** Orders the filter matched, before --shard took its part. */
  selected: count.optional(),
  /** The selection by status, account and age, as shown before confirming. */
  breakdown: z.record(z.string(), z.record(z.string(), count)).optional(),
  pages: count.optional(),
});

/** run.start: the run's identity, its input, its host and the options that shape it. */
const runStartFields = z.object({
  version: z.string(),
  baseUrl: z.string().min(1),
  source: sourceFields,
  options: z.record(z.string(), z.unknown()),
  resumeOf: z.string().min(1).optional(),
  skipped: count.optional(),
  /** Whose run it is (planner/job-identity), what --auto-resume compares: absent in logs written before it was recorded. */
  job: z.object({ id: z.string().min(1), spec: z.string().optional(), startedBy: z.enum(['person', 'unattended']) }).optional(),
  /** The working directory the run's relative paths (its input) are relative to; absent in logs written before it was recorded. */
  cwd: z.string().optional(),
  /**
   * When the run began, its log chosen and opened (ISO 8601): the run.start line is written later, once its input
   * is read, a filter's orders listed and consent given; the run's start for every report (red team: a summary's
   * `startedAt` 2 s after the start its `durationMs` counts from). Absent in logs written before it was recorded: the line's time.
   */
  openedAt: z.string().optional(),
  /** The time at the consent question between openedAt and this line, ms: not working time (absent: none, or a log written before it was recorded). */
  consentWaitMs: ms.optional(),
});

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
/** A listing and a consent question take less than this: an openedAt further back than it (and the time at the question) is an edit. */
const LONGEST_START_MS = 24 * 3600_000;

/**
 * When a run began, as every report tells it, and the time at its consent question (not working time): its
 * run.start's openedAt and consentWaitMs. The line's own time, and no wait, where openedAt is absent (an older
 * log), not an instant as the journal writes one, later than the line (a clock stepped back during the
 * listing: red team, an end in the future), or more than a day before it beyond the wait (red team: a 57-year
 * span). The wait is never more than the time between the two (red team: 0 s working for a run that deleted).
 */
export function runStartOf(line: { time: string; openedAt?: string; consentWaitMs?: number }): { startedAt: string; consentWaitMs: number } {
  const { openedAt, time } = line;
  const opened = openedAt !== undefined && ISO_INSTANT.test(openedAt) ? Date.parse(openedAt) : Number.NaN;
  const written = Date.parse(time);
  const wait = Math.max(0, line.consentWaitMs ?? 0);
  if (!Number.isFinite(opened) || !Number.isFinite(written) || opened > written || written - opened > LONGEST_START_MS + wait) return { startedAt: time, consentWaitMs: 0 };
  return { startedAt: openedAt as string, consentWaitMs: Math.min(wait, written - opened) };
}

/** An order's one line per run: how it ended. */
const orderFields = z.object({
  orderId: z.string().min(1),
  outcome: z.enum(OUTCOMES),
  httpStatus: z.number().int().nullable(),
  /** Requests sent for this order in this run. */
  attempts: count,
  durationMs: ms,
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

const retryFields = z.object({
  orderId: z.string().min(1),
  /** The attempt that failed. */
  attempt: count,
  httpStatus: z.number().int().optional(),
  errorCode: z.string().optional(),
  /** The wait before the next attempt. */
  delayMs: ms,
});

/** A decision of the rate controller (rates in requests/s; null: unpaced). */
const throttleFields = z.object({
  /**
   * `cut`: over the limit, the rate cut to what the server accepted; `ceiling`: at the known ceiling and
   * throttled a little, a step back below it; `lift`: far above the old ceiling without throttling, the
   * ceiling forgotten; `noise`: cutting did not lower the share throttled, the cuts undone; `restore`: the
   * server accepts again after cuts it forced by accepting nothing, the rate climbing back to the ceiling
   * before them (`ceiling`; null: unpaced); `raise`: a slow ceiling found stale, raised to what was accepted.
   */
  kind: z.enum(['cut', 'ceiling', 'lift', 'noise', 'restore', 'raise']),
  /** The window the decision was made from: its length, its answers, the share of them throttled. */
  windowMs: ms,
  answers: count,
  share: z.number().min(0).max(1),
  /** The throttled share normally seen (noise that says nothing of this client's rate). */
  baseline: z.number().min(0).max(1),
  /** Answers that were not throttled, per second: what the server accepted. */
  acceptedRate: z.number().nonnegative(),
  rateBefore: z.number().nullable(),
  rateAfter: z.number().nullable(),
  /** The ceiling remembered after the decision, requests/s; null once lifted. */
  ceiling: z.number().nullable(),
  /** How long every request waits now (the server's Retry-After), ms; 0 when nobody pauses. */
  pauseMs: ms,
});

/** The paced rate as it moved between decisions, requests/s (null: unpaced). */
const paceFields = z.object({ rps: z.number().nonnegative().nullable() });

/** The retry budget's judgement: the service failing (every request waits, a probe a second), or answering again. */
const serviceFields = z.object({
  state: z.enum(['failing', 'answering']),
  /** Failures among the answers judged: over the window (or the latest 20) when failing. */
  failures: count,
  answers: count,
  /** On answering again: how long the service was judged failing, ms. */
  failingMs: ms.optional(),
});

/** The rate controller's and the retry budget's figures for a run. */
const throttlingSummary = z.object({
  /** Requests answered, and those answered 429. */
  requests: count,
  throttled: count,
  /** Decisions that lowered the rate (`throttle` lines). */
  cuts: count,
  /** The rate the server was found to accept (requests/s), if it throttled; the pace at the end (null: not paced). */
  ceilingRps: z.number().nullable(),
  finalRps: z.number().nullable(),
  /** Time new orders waited because the retry budget was spent. */
  budgetHeldMs: ms,
});

/** The counts of one run, as its summary, run.end and the summary files give them. */
const runSummary = z.object({
  /** Distinct valid IDs in the input. */
  selected: count,
  deleted: count,
  alreadyAbsent: count,
  failed: count,
  /** Finished by an earlier run of the same log, so not sent again. */
  skipped: count,
  wouldDelete: count,
  /** Not finished because the run stopped early; a resume picks them up. */
  pending: count,
  retries: count,
  /** Time every worker was paused by the server's 429s. */
  throttledMs: ms,
  /** How the run's pace went: absent in logs written before it was recorded, and in dry runs. */
  throttling: throttlingSummary.optional(),
  /** Access tokens this run obtained from the token endpoint, and those it took from the token cache. */
  tokens: z.object({ obtained: count, shared: count }).optional(),
  /** Orders finished per second of the run. */
  ratePerSecond: z.number().nonnegative(),
});

/** run.end: how the run ended. */
const runEndFields = z.object({
  status: z.enum(RUN_STATUSES),
  exitCode: z.number().int(),
  durationMs: ms,
  summary: runSummary,
  /** Why it stopped early (a guard, a halt, a signal, a bug). */
  reason: z.string().optional(),
  /** The same in a fixed set of words (common/domain's STOP_CAUSES); absent in logs written before it was recorded. */
  stopCause: z.enum(STOP_CAUSES).optional(),
  /** The process's peak memory and CPU time. */
  resources: z.object({ maxRssMb: count, cpuMs: count }),
  /** Whether this run was a dry run (absent in logs written before it was recorded: the run.start says). */
  dryRun: z.boolean().optional(),
});

/**
 * run.stop: the run was told to stop (a signal, a halt, the deadline) and drains; written at once, so that
 * a run killed before its run.end (a second Ctrl-C) still says who stopped it.
 */
const runStopFields = z.object({
  kind: z.enum(['signal', 'halt']),
  signal: z.enum(['SIGINT', 'SIGTERM', 'SIGHUP']).optional(),
  reason: z.string(),
});

/** Each event's fields as its writer gives them; the journal adds level, time, runId, event and msg (and run.start's recordVersion). */
export const RECORD_FIELDS = {
  'run.start': runStartFields,
  order: orderFields,
  'order.retry': retryFields,
  throttle: throttleFields,
  pace: paceFields,
  service: serviceFields,
  'run.stop': runStopFields,
  'run.end': runEndFields,
} as const;
export type RecordEvent = keyof typeof RECORD_FIELDS;
export type RecordFields<E extends RecordEvent> = z.infer<(typeof RECORD_FIELDS)[E]>;

export type SourceRecord = z.infer<typeof sourceFields>;
export type RunStartFields = RecordFields<'run.start'>;
export type OrderRecord = RecordFields<'order'>;
export type RetryRecord = RecordFields<'order.retry'>;
export type ThrottleFields = RecordFields<'throttle'>;
export type ServiceChange = RecordFields<'service'>;
export type RunEndFields = RecordFields<'run.end'>;
export type RunStopFields = RecordFields<'run.stop'>;
export type RunSummary = z.infer<typeof runSummary>;

