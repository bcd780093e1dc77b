import { humanDuration } from '../common/durations.js';
import { oneLine } from '../common/text.js';
import { formatNextSteps, nextSteps, type NextStep } from './next-step.js';
import { causesOf, type RunReport } from './run-report.js';
import { storyText } from './run-story.js';
import { causeLines, formatCounts } from './summary.js';

/** The report for people. `command`: how the tool was started, for the next step. */
export function formatRunReport(r: RunReport, command: string): string {
  const lines = [
    `${r.auditLogs.length === 1 ? `Audit log ${r.auditLogs[0]}` : `Audit logs ${r.auditLogs.join(', ')}`}: ${r.runs.length} run${r.runs.length === 1 ? '' : 's'}` +
      `: ${storyText(r)}${r.unfinished ? ' — unfinished: resume it to continue' : ''}`,
    `  host   ${r.host}`,
    `  input  ${r.input.filter ? `filter ${r.input.filter}, its selection in ${r.input.path}` : `${r.input.kind} ${r.input.path}`} (sha256 ${r.input.sha256.slice(0, 12)}…)`,
    ...r.runs.flatMap((run) => [`  ${run.startedAt}  ${run.runId}  ${run.status ?? 'no run.end (killed)'}${run.exitCode === null ? '' : `, exit ${run.exitCode}`}` +
      `, ${humanDuration(run.durationMs)}${run.dryRun ? ', dry run' : ''}`, ...(run.reason ? [`      stopped: ${run.reason}`] : [])]),
    'Orders, each by its latest outcome:',
    ...formatCounts({ ...r, dryRun: r.runs.every((run) => run.dryRun), durationMs: r.activeMs }),
    ...causeLines(causesOf(r.failedOrders)),
    ...absentLines(r.absentOrders, r.runs.every((run) => run.dryRun)),
  ];
  if (r.unreadableLines > 0) lines.push(`${r.unreadableLines} unreadable line(s) skipped (writes torn by a kill, or edits)`);
  if (r.earlierRuns > 0) lines.push(`${r.earlierRuns} earlier, unrelated run(s) in this log are not part of this report`);
  // Each line one line: what the logs hold (a host, a reason, a server's message, an edited field) never forges another.
  const told = lines.map(oneLine);
  const steps = reportNextSteps(r, command);
  if (steps.length > 0) told.push(formatNextSteps(steps));
  return told.join('\n');
}

/** The listed orders that were not there, named (the first 20 here; report --json and the page list them all). */
function absentLines(absent: string[], dryRun: boolean): string[] {
  if (absent.length === 0) return [];
  const shown = absent.slice(0, 20);
  return [`${dryRun ? 'Not found' : 'Already absent'} (${absent.length}, listed but not there): ${shown.join(', ')}` +
    `${absent.length > shown.length ? `, … and ${absent.length - shown.length} more (report --json and --html list them all)` : ''}`];
}

/** The next step of the latest run, from its log: what its console said as it ended (the failed orders of every log reported). */
export function reportNextSteps(r: RunReport, command: string): NextStep[] {
  const last = r.runs.at(-1);
  return nextSteps({
    ...r.resume, command, auditLog: r.auditLogs.at(-1) as string, reportedLogs: r.auditLogs, status: last?.status ?? null, exitCode: last?.exitCode ?? null,
    dryRun: last?.dryRun ?? r.dryRun, resumed: last?.resume === true, wouldDelete: r.wouldDelete, failed: r.failed, failedChecksLeftOut: r.failedChecksLeftOut, pending: r.pending,
  });
}

