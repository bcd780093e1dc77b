import type { OrderRecord, RunStatus, RunSummary } from '../common/domain.js';

export interface SummaryContext {
  runId: string;
  status: RunStatus;
  durationMs: number;
  auditLog: string;
  duplicates: number;
  dryRun: boolean;
  /** Failures by cause, with a count and an example each. */
  causes: ReadonlyMap<string, { count: number; example: OrderRecord }>;
}

const CAUSES_SHOWN = 5;

/** The human summary printed on stderr at the end of a run. */
export function formatSummary(s: RunSummary, c: SummaryContext): string {
  const rows: Array<[string, string]> = [
    ['selected', `${s.selected}${c.duplicates ? ` (${c.duplicates} duplicate rows sent once)` : ''}`],
    ...(c.dryRun ? [['would delete', String(s.wouldDelete)] as [string, string]] : []),
    ...(c.dryRun ? [] : [
      ['deleted', String(s.deleted)], ['already absent', String(s.alreadyAbsent)], ['failed', String(s.failed)],
    ] as Array<[string, string]>),
    ['skipped', `${s.skipped}${s.skipped ? ' (finished by an earlier run)' : ''}`],
    ['pending', `${s.pending}${s.pending ? ' (not finished; resume to continue)' : ''}`],
    ...(c.dryRun ? [] : [['retries', String(s.retries)], ['throttled', `${(s.throttledMs / 1000).toFixed(1)} s`]] as Array<[string, string]>),
    ['duration', `${(c.durationMs / 1000).toFixed(1)} s`],
    ...(c.dryRun ? [] : [['rate', `${s.ratePerSecond.toFixed(1)} orders/s`]] as Array<[string, string]>),
    ['audit log', c.auditLog],
  ];
  const lines = [`Run ${c.runId} ${c.status}${c.dryRun ? ' (dry run: nothing was deleted)' : ''}.`, ...rows.map(([k, v]) => `  ${k.padEnd(15)}${v}`)];
  if (c.causes.size > 0) {
    lines.push('Failures by cause:');
    const causes = [...c.causes].sort((a, b) => b[1].count - a[1].count);
    for (const [cause, { count, example }] of causes.slice(0, CAUSES_SHOWN)) {
      lines.push(`  ${String(count).padStart(6)}  ${cause}  (e.g. ${example.orderId}: ${example.error?.message ?? ''})`);
    }
    if (causes.length > CAUSES_SHOWN) lines.push(`  … and ${causes.length - CAUSES_SHOWN} more causes (see the audit log, or the report)`);
  }
  return lines.join('\n');
}
