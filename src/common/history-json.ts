import * as z from 'zod';
import { runEntry } from './summary-json.js';

/**
 * The JSON shape of an audit folder's history, for people who chart elsewhere: `report <folder> --json`
 * prints it, made from the same model as the text listing and the page (report/history). Written once, as
 * a zod schema: the writer's type is inferred from it, and schemas/history-json.schema.json is made from it
 * (`npm run schemas`; a test keeps them equal and validates real outputs against the file). `schemaVersion`
 * changes when a field changes meaning or goes away; fields may be added within a version.
 */
const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const tone = z.enum(['ok', 'warn', 'bad']);

export const historyJsonSchema = z.object({
  schemaVersion: z.literal(1),
  /** The folder read, and when (ISO 8601). */
  folder: z.string(),
  builtAt: z.string(),
  /** --expect-every, ms: a run was expected this often; null: nothing was expected (no night can be missed). */
  expectEveryMs: z.number().positive().nullable(),
  /** Every run of every log, oldest first: a run's entry as in --summary-json's `runs`, and more. */
  runs: z.array(runEntry.extend({
    /** Its run.end's time, or its last line's (killed). */
    endedAt: z.string(),
    /** Its input: the file, or `filter <its path>`; and the distinct valid IDs it held. */
    input: z.string(),
    selected: count,
    /** Its failed orders by cause, the largest first (the first 20 causes apart, any further as `(other causes)`). */
    failedByCause: z.array(z.object({ cause: z.string(), orders: count }).strict()),
    /** Time every worker waited out the server's 429s; access tokens obtained and taken from the token cache (0: killed). */
    throttledMs: ms,
    tokens: z.object({ obtained: count, shared: count }).strict(),
    /** ok: completed, or going; warn: halted, interrupted or killed (status null); bad: failed or crashed. */
    tone,
    /** No run.end yet and its log's lock is there: going as the history was read (status null, not killed). */
    running: z.boolean(),
    /** The page that tells it, found in the folder (`run --html-report`, `report --html`); null: none. */
    page: z.string().nullable(),
  }).strict()),
  /** The runs by night (a period of --expect-every, or a UTC day), oldest first; `missed`: a period that passed with no run. */
  nights: z.array(z.object({
    label: z.string(), start: z.string(), end: z.string(), runs: count,
    deleted: count, alreadyAbsent: count, failed: count, wouldDelete: count, durationMs: ms, throttledMs: ms,
    state: z.enum(['ok', 'warn', 'bad', 'missed']),
  }).strict()),
  /** Logs that could not be read as audit logs, with why: their runs are not here. */
  skipped: z.array(z.object({ path: z.string(), problem: z.string() }).strict()),
  /** Lines of the logs that could not be read (torn by a kill, or edits). */
  unreadableLines: count,
}).strict();

export type HistoryJson = z.infer<typeof historyJsonSchema>;
