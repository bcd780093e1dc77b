import type { LogEntry } from '../audit/latest-log.js';
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

/** `report <folder>`: its logs, newest first, so that a person can tell them apart. */
export function formatLogList(dir: string, logs: LogEntry[]): string {
  if (logs.length === 0) return `${dir}: no audit logs (*.ndjson) here`;
  const lines = [`${logs.length} audit log${logs.length === 1 ? '' : 's'} in ${dir}, newest first:`];
  for (const log of logs) {
    const source = log.start?.source;
    const what = source ? (source.kind === 'filter' ? `filter ${String((source.filter as { path?: unknown } | undefined)?.path ?? '')}` : source.path) : '?';
    // A dry run and its resume: told by the deletions (the counts are the last run's), never as a dry run.
    const startedDry = log.start?.options.dryRun === true;
    const lastDry = log.end?.dryRun ?? startedDry;
    const dry = lastDry ? ', dry run' : startedDry ? ', a dry run, then its resume' : '';
    const s = log.end?.summary as { selected?: number; deleted?: number; failed?: number; wouldDelete?: number } | undefined;
    const counts = s ? `, ${s.selected ?? 0} selected, ${lastDry ? `${s.wouldDelete ?? 0} would delete` : `${s.deleted ?? 0} deleted, ${s.failed ?? 0} failed`}` : '';
    const firstSentence = (text: string) => text.split(/\. /)[0];
    const state = !log.end ? 'not finished (killed?)' : log.end.exitCode === 3 && (s?.deleted ?? 0) === 0
      ? `refused: ${firstSentence(log.end.reason ?? '')}` : `${log.end.status}, exit ${log.end.exitCode}`;
    // Each of the two lines one line, whatever the folder's names and the logs' text hold.
    lines.push(`  ${oneLine(log.path)}\n    ${oneLine(`${log.start?.time ?? '?'}  ${state}${dry}${counts}; ${what}${log.unfinished ? '  (resumable)' : ''}`)}`);
  }
  return lines.join('\n');
}
