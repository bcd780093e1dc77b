import { humanDuration } from '../common/durations.js';
import type { RunStatus } from '../common/domain.js';
import type { OrderRecord, RunSummary } from '../common/records.js';
import { throttlingOf, throttlingText, type Throttling } from './throttling-words.js';

/**
 * The counts a person reads about a run: the console's at the run's end, the report's over a run and
 * its resumes (each order by its latest outcome), the step summary's. One set of rows, so that their
 * words and units agree.
 */
export interface Counts {
  selected: number;
  /** Duplicate rows in the input, sent once. */
  duplicates?: number;
  /** Nothing but dry runs. */
  dryRun: boolean;
  wouldDelete: number;
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  /** Orders an earlier run of the same log finished (a resume's); a report counts each order once and has none. */
  skipped?: number;
  pending: number;
  /** Listed orders a dry run of a list stopped before checking: its resumes leave them out (report/run-report's notChecked). */
  notChecked?: number;
  retries: number;
  /** In the three figures of report/throttling-words. */
  throttling: Throttling;
  /** Working time; `spanMs`, for runs read back from their logs, from the first start to the last line. */
  durationMs: number;
  spanMs?: number;
  ratePerSecond: number;
}

/** A failure cause with its count and an example (`ORD-9: has invoices`), the largest first. */
export interface CauseLine {
  cause: string;
  orders: number;
  example: string;
}

export interface SummaryContext {
  runId: string;
  status: RunStatus;
  durationMs: number;
  auditLog: string;
  duplicates: number;
  dryRun: boolean;
  /** A dry run that checks each listed order (a list's): the orders it did not reach are not checked, and its resume leaves them out. */
  checksOrders: boolean;
  /** Failures by cause, with a count and an example each. */
  causes: ReadonlyMap<string, { count: number; example: OrderRecord }>;
}

const CAUSES_SHOWN = 5;

/** The rows, label and value. A dry run sends no DELETE: it has no deletions, retries, throttling or rate to tell. */
export function countRows(c: Counts): Array<[string, string]> {
  const sent = !c.dryRun;
  const duration = humanDuration(c.durationMs);
  return [
    ['selected', `${c.selected}${c.duplicates ? ` (${c.duplicates} duplicate rows sent once)` : ''}`],
    ...(c.dryRun || c.wouldDelete > 0 ? [['would delete', String(c.wouldDelete)] as [string, string]] : []),
    // A dry run that asked for each listed order: those not found, and those the check could not settle.
    ...(c.dryRun && c.alreadyAbsent > 0 ? [['not found', `${c.alreadyAbsent} (listed, but not in Exsited)`] as [string, string]] : []),
    ...(c.dryRun && c.failed > 0 ? [['failed', `${c.failed} (not checked)`] as [string, string]] : []),
    ...(sent ? [['deleted', String(c.deleted)], ['already absent', String(c.alreadyAbsent)], ['failed', String(c.failed)]] as Array<[string, string]> : []),
    ...(c.skipped === undefined ? [] : [['skipped', `${c.skipped}${c.skipped ? ' (finished by an earlier run)' : ''}`] as [string, string]]),
    ['pending', `${c.pending}${c.pending ? ` (${c.dryRun ? 'not checked: the dry run stopped before them' : 'not finished; resume to continue'})` : ''}`],
    ...(c.notChecked ? [['not checked', `${c.notChecked} (the dry run stopped before them: its resumes leave them out, a new dry run checks them)`] as [string, string]] : []),
    ...(sent ? [['retries', String(c.retries)], ['throttling', throttlingText(c.throttling)]] as Array<[string, string]> : []),
    ['duration', c.spanMs === undefined ? duration : `${duration} working, ${humanDuration(c.spanMs)} from first start to last line`],
    ...(sent ? [['rate', `${c.ratePerSecond.toFixed(1)} orders/s`]] as Array<[string, string]> : []),
  ];
}

/** The rows as the console and the text report print them, aligned; `extra` rows after the counts. */
export function formatCounts(c: Counts, extra: Array<[string, string]> = []): string[] {
  return [...countRows(c), ...extra].map(([label, value]) => `  ${label.padEnd(15)}${value}`);
}

/** `Failures by cause:`, the largest five, and how many more; nothing when none failed. */
export function causeLines(causes: readonly CauseLine[]): string[] {
  if (causes.length === 0) return [];
  return [
    'Failures by cause:',
    ...causes.slice(0, CAUSES_SHOWN).map((c) => `  ${String(c.orders).padStart(6)}  ${c.cause}  (e.g. ${c.example})`),
    ...(causes.length > CAUSES_SHOWN ? [`  … and ${causes.length - CAUSES_SHOWN} more causes (report --html lists them all)`] : []),
  ];
}

/** The human summary printed on stderr at the end of a run. */
export function formatSummary(s: RunSummary, c: SummaryContext): string {
  const causes = [...c.causes].sort((a, b) => b[1].count - a[1].count)
    .map(([cause, { count, example }]) => ({ cause, orders: count, example: `${example.orderId}: ${example.error?.message ?? ''}` }));
  return [
    `Run ${c.runId} ${c.status}${c.dryRun ? ' (dry run: nothing was deleted)' : ''}.`,
    ...formatCounts({ ...s, ...notCheckedOf(s, c), throttling: throttlingOf(s), duplicates: c.duplicates, dryRun: c.dryRun, durationMs: c.durationMs }, [['audit log', c.auditLog]]),
    ...causeLines(causes),
  ].join('\n');
}

/** A list's dry run's pending orders are not checked, and its resume never takes them: told apart from a resume's work. */
const notCheckedOf = (s: RunSummary, c: SummaryContext) => (c.dryRun && c.checksOrders ? { pending: 0, notChecked: s.pending } : {});
