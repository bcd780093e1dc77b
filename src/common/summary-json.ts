import { z } from 'zod';
import { RUN_STATUSES } from './domain.js';
import { runSummary } from './records.js';

/**
 * --summary-json, one run's outcome for scripts, written when a run ends and when one is refused or
 * stopped before it started (`started: false`). Written here once, as a zod schema: the writer's type is
 * inferred from it (report/summary-files.ts imports the type only: a run never loads zod for it), and the
 * JSON Schema in schemas/summary-json.schema.json is made from it (`npm run schemas`; a test keeps them
 * equal, and validates real outputs of every status against the file). `schemaVersion` changes when a
 * field changes meaning or goes away; fields may be added within a version.
 */
export const summaryJsonSchema = z.object({
  schemaVersion: z.literal(1),
  /** Null for a run that never started (nothing was recorded). */
  runId: z.string().nullable(),
  /** run.end's status, or before a run started: `refused` (exit 2, 3), `unreachable` (5), `interrupted`, `halted`, `crashed`. */
  status: z.enum([...RUN_STATUSES, 'refused', 'unreachable']),
  exitCode: z.number().int(),
  /** The API's base URL (scheme, host, port, path), when known. */
  host: z.string().nullable(),
  dryRun: z.boolean(),
  /** Whether the run started (was recorded in its audit log): false, nothing was sent for deletion. */
  started: z.boolean(),
  startedAt: z.string().optional(),
  endedAt: z.string(),
  durationMs: z.number().nonnegative(),
  /** The audit log; null when none was written. */
  auditLog: z.string().nullable(),
  input: z.object({
    kind: z.string().optional(), path: z.string().optional(), sha256: z.string().optional(), count: z.number().optional(), filter: z.string().optional(),
  }).optional(),
  summary: runSummary,
  /** Why the run stopped early or was refused. */
  reason: z.string().optional(),
  /** --html-report's path, when one was asked for. */
  htmlReport: z.string().optional(),
}).strict();

export type SummaryJson = z.infer<typeof summaryJsonSchema>;
