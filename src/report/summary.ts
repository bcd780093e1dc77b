import type { OrderRecord, RunStatus, RunSummary } from '../common/domain.js';

export interface SummaryContext {
  runId: string;
  status: RunStatus;
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
