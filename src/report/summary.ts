import type { RunStatus } from '../common/domain.js';
import type { OrderRecord, RunSummary } from '../common/records.js';

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

/**
 * `0 requests`, or `14 of 3012 requests (0.5%), rate cut 2 times, the server accepted about 98/s; everyone
 * waited 1.0 s; requests held 3.0 s (retry budget)`.
 */
function throttledText(s: RunSummary): string {
  const t = s.throttling;
  if (!t) return `${(s.throttledMs / 1000).toFixed(1)} s`;
  if (t.throttled === 0 && t.budgetHeldMs === 0) return `0 of ${t.requests} requests`;
  const parts = [`${t.throttled} of ${t.requests} requests (${((t.throttled * 100) / Math.max(1, t.requests)).toFixed(1)}%)`];
  if (t.cuts > 0) parts.push(`rate cut ${t.cuts} ${t.cuts === 1 ? 'time' : 'times'}${t.ceilingRps !== null ? `, the server accepted about ${Math.round(t.ceilingRps)}/s` : ''}`);
  else if (t.throttled > 0) parts.push('noise: the rate was not cut');
  const waits = [s.throttledMs > 0 ? `everyone waited ${(s.throttledMs / 1000).toFixed(1)} s` : '', t.budgetHeldMs > 0 ? `requests held ${(t.budgetHeldMs / 1000).toFixed(1)} s (retry budget)` : ''].filter(Boolean);
  return `${parts.join(', ')}${waits.length ? `; ${waits.join('; ')}` : ''}`;
}

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
    ...(c.dryRun ? [] : [['retries', String(s.retries)], ['throttled', throttledText(s)]] as Array<[string, string]>),
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
