import type { OrderRecord } from '../audit/journal.js';

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
  /** Orders finished per second of the run. */
  ratePerSecond: number;
}

export const emptySummary = (selected: number, skipped: number): RunSummary => ({
  selected, deleted: 0, alreadyAbsent: 0, failed: 0, skipped, wouldDelete: 0, pending: selected - skipped, retries: 0,
  throttledMs: 0, ratePerSecond: 0,
});

type Outcomes = Pick<RunSummary, 'deleted' | 'alreadyAbsent' | 'failed' | 'wouldDelete'>;

/** Orders that reached an outcome. */
export const finishedOrders = (s: Outcomes): number => s.deleted + s.alreadyAbsent + s.failed + s.wouldDelete;

/** Finished orders per second over `ms`, to one decimal. */
export const ratePerSecond = (s: Outcomes, ms: number): number => (ms > 0 ? Math.round((finishedOrders(s) * 10_000) / ms) / 10 : 0);

export function countOutcome(summary: RunSummary, record: OrderRecord): void {
  summary.pending--;
  if (record.outcome === 'deleted') summary.deleted++;
  else if (record.outcome === 'already_absent') summary.alreadyAbsent++;
  else if (record.outcome === 'failed') summary.failed++;
  else summary.wouldDelete++;
}

export interface SummaryContext {
  runId: string;
  status: string;
  durationMs: number;
  auditLog: string;
  duplicates: number;
  firstFailures: OrderRecord[];
  failuresNotShown: number;
}

/** The human summary printed on stderr at the end of a run. */
export function formatSummary(s: RunSummary, c: SummaryContext): string {
  const seconds = c.durationMs / 1000;
  const rows: Array<[string, string]> = [
    ['selected', `${s.selected}${c.duplicates ? ` (${c.duplicates} duplicate rows sent once)` : ''}`],
    ...(s.wouldDelete ? [['would delete', String(s.wouldDelete)] as [string, string]] : []),
    ['deleted', String(s.deleted)],
    ['already absent', String(s.alreadyAbsent)],
    ['failed', String(s.failed)],
    ['skipped', `${s.skipped}${s.skipped ? ' (finished by an earlier run)' : ''}`],
    ['pending', `${s.pending}${s.pending ? ' (not finished; resume to continue)' : ''}`],
    ['retries', String(s.retries)],
    ['throttled', `${(s.throttledMs / 1000).toFixed(1)} s`],
    ['duration', `${seconds.toFixed(1)} s`],
    ['rate', `${s.ratePerSecond.toFixed(1)} orders/s`],
    ['audit log', c.auditLog],
  ];
  const lines = [`Run ${c.runId} ${c.status}.`, ...rows.map(([k, v]) => `  ${k.padEnd(15)}${v}`)];
  if (c.firstFailures.length > 0) {
    lines.push('First failures:');
    for (const f of c.firstFailures) {
      lines.push(`  ${f.orderId}: ${f.httpStatus ? `HTTP ${f.httpStatus}` : 'no response'} ${f.error?.code ?? ''}: ${f.error?.message ?? ''}`);
    }
    if (c.failuresNotShown > 0) lines.push(`  … and ${c.failuresNotShown} more (see the audit log)`);
  }
  return lines.join('\n');
}
