import * as z from 'zod';
import { RUN_STATUSES, STOP_CAUSES } from './domain.js';

/**
 * The one JSON shape of a run's story, for scripts: `--summary-json` (written when a run ends, and when one
 * is refused or stopped before it started: `started: false`) and `report --json` print the same, built from
 * the same model (report/run-story.ts). Written here once, as a zod schema: the writer's type is inferred
 * from it (the run imports the type only: it never loads zod for it), and the JSON Schema in
 * schemas/summary-json.schema.json is made from it (`npm run schemas`; a test keeps them equal, and
 * validates real outputs of every status against the file). `schemaVersion` changes when a field changes
 * meaning or goes away; fields may be added within a version. Version 2: the chain's counts as `counts`
 * (each order by its latest outcome), its `runs`, throttling in three figures, one shape for both.
 */
const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const status = z.enum([...RUN_STATUSES, 'refused', 'unreachable']);

const outcomeCounts = { deleted: count, alreadyAbsent: count, failed: count, wouldDelete: count };

/** A run (a resume is one) and what it did itself: an entry of `runs` here and a row of the history (common/history-json). */
export const runEntry = z.object({
  runId: z.string(), auditLog: z.string(), mode: z.enum(['dry_run', 'deleting']), resume: z.boolean(), startedAt: z.string(),
  status: z.enum(RUN_STATUSES).nullable(), exitCode: z.number().int().nullable(), durationMs: ms, stopCause: z.enum(STOP_CAUSES).optional(), reason: z.string().optional(),
  counts: z.object({ ...outcomeCounts, retries: count }).strict(),
});

export const summaryJsonSchema = z.object({
  schemaVersion: z.literal(2),
  /**
   * How it ended: the last run's status, or before a run started `refused` (exit 2, 3), `unreachable` (5),
   * `interrupted`, `halted`, `crashed`; null when the last run has no run.end (killed).
   */
  status: status.nullable(),
  exitCode: z.number().int().nullable(),
  /** Why, in a fixed set of words (docs/reports.md): `none`, `failed_orders`, `deadline`, `credentials`, `signal`, `refused`… */
  stopCause: z.enum(STOP_CAUSES).optional(),
  /** Why the last run stopped early or was refused. */
  reason: z.string().optional(),
  /** Whether a run started (was recorded in an audit log): false, nothing was sent for deletion. */
  started: z.boolean(),
  /** True only when every run was a dry run: a dry run and its resume deleted. */
  dryRun: z.boolean(),
  /** What the runs did, in a sentence: `a dry run of 60, then 60 deleted in 1 resume`. */
  story: z.string(),
  /** The API's base URL (scheme, host, port, path), when known. */
  host: z.string().nullable(),
  /** Where the orders came from (the first run's). */
  input: z.object({ kind: z.string(), path: z.string(), sha256: z.string(), count: count, filter: z.string().optional(), criteria: z.string().optional() }).optional(),
  /** The latest run's ID and audit log; null when none was written. */
  runId: z.string().nullable(),
  auditLog: z.string().nullable(),
  /** Every audit log told, oldest first (an --auto-resume night: the resumed run's and the new one's). */
  auditLogs: z.array(z.string()),
  startedAt: z.string().optional(),
  endedAt: z.string(),
  /** Time the runs worked, added up; `spanMs` from the first start to the last line. */
  durationMs: ms,
  spanMs: ms,
  /**
   * Each order once, by its latest outcome; `pending`: selected, not finished (a resume's work); `notChecked`:
   * listed orders a dry run of a list stopped before checking, which its resumes leave out (a new dry run checks them).
   */
  counts: z.object({ selected: count, ...outcomeCounts, pending: count, notChecked: count, retries: count, ratePerSecond: z.number().nonnegative() }).strict(),
  /** Throttling in three figures (docs/usage.md, "Throttling, in three figures"), and the retry budget's hold apart. */
  throttling: z.object({
    requests: count, answered429: count, waitedMs: ms, acceptedRps: z.number().nonnegative().nullable(), cuts: count, heldMs: ms,
  }).strict(),
  tokens: z.object({ obtained: count, shared: count }).strict(),
  /** Each run (a resume is one), oldest first, with what it did itself. */
  runs: z.array(runEntry.strict()),
  /** The failures by cause, the largest first, with an example each. */
  failureCauses: z.array(z.object({ cause: z.string(), orders: count, example: z.string() }).strict()),
  /** The orders whose latest outcome is failed, and those listed but not there: the first 50,000 of each, and how many more (the audit log and `report --failed-csv` have every one). */
  failedOrders: z.array(z.object({ orderId: z.string(), httpStatus: z.number().int().nullable(), code: z.string(), message: z.string() }).strict()),
  failedOrdersOmitted: count.optional(),
  absentOrders: z.array(z.string()),
  absentOrdersOmitted: count.optional(),
  /** The last run stopped early or was killed: a resume would continue it. */
  unfinished: z.boolean(),
  /** Lines of the logs that could not be read; unrelated runs earlier in them, not part of this story. */
  unreadableLines: count,
  earlierRuns: count,
  /** --html-report's path, when one was asked for. */
  htmlReport: z.string().optional(),
}).strict();

export type SummaryJson = z.infer<typeof summaryJsonSchema>;
