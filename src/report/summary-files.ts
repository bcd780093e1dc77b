import { appendFileSync, writeFileSync } from 'node:fs';
import type { RunSummary } from './summary.js';

export interface RunOutcome {
  runId: string;
  status: string;
  exitCode: number;
  durationMs: number;
  auditLog: string;
  summary: RunSummary;
  reason?: string;
}

/** --summary-json: the run's outcome for scripts, written whole at the end. */
export function writeSummaryJson(path: string, outcome: RunOutcome): void {
  writeFileSync(path, `${JSON.stringify(outcome, null, 2)}\n`);
}

/** $GITHUB_STEP_SUMMARY: a markdown table appended to the job's summary page. */
export function appendStepSummary(path: string, o: RunOutcome): void {
  const s = o.summary;
  const rows: Array<[string, string | number]> = [
    ['status', `${o.status} (exit ${o.exitCode})`], ['selected', s.selected], ['deleted', s.deleted], ['already absent', s.alreadyAbsent],
    ['failed', s.failed], ['skipped (earlier runs)', s.skipped], ['pending', s.pending], ['retries', s.retries],
    ['throttled', `${(s.throttledMs / 1000).toFixed(1)} s`], ['duration', `${(o.durationMs / 1000).toFixed(1)} s`], ['audit log', `\`${o.auditLog}\``],
  ];
  const table = rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n');
  appendFileSync(path, `### Exsited order cleanup, run ${o.runId}\n\n| | |\n|---|---|\n${table}\n${o.reason ? `\n${o.reason}\n` : ''}\n`);
}
