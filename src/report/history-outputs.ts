import { WAITS_FOR_A_PERSON } from '../common/domain.js';
import { humanDuration } from '../common/durations.js';
import { oneLine } from '../common/text.js';
import type { HistoryJson } from '../common/history-json.js';
import type { History, HistoryRun } from './history.js';
import { nightsByTone, standingOut, toneOf } from './history-nights.js';
import { toldBy } from './run-ledger.js';

/** `report <folder> --json`: the history in its documented shape (common/history-json). */
export function historyJson(h: History): HistoryJson {
  return {
    schemaVersion: 1, folder: h.folder, builtAt: new Date(h.builtAt).toISOString(), expectEveryMs: h.expectEveryMs ?? null,
    runs: h.runs.map((run) => ({
      runId: run.runId, auditLog: run.auditLog, mode: run.dryRun ? 'dry_run' : 'deleting', resume: run.resume, startedAt: run.startedAt,
      status: run.status, exitCode: run.exitCode, durationMs: run.durationMs, ...(run.stopCause ? { stopCause: run.stopCause } : {}),
      ...(run.reason ? { reason: run.reason } : {}), counts: run.counts, endedAt: run.endedAt, input: run.input, selected: run.selected,
      failedByCause: causesOf(run), throttledMs: run.throttledMs, tokens: run.tokens, tone: toneOf(run), running: run.running, page: run.page ?? null,
    })),
    nights: h.nights.map(({ label, startMs, endMs, tone, ...night }) => ({
      label, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), ...night, state: tone,
    })),
    skipped: h.skipped, unreadableLines: h.unreadableLines,
  };
}

/** A run's failures by cause, the largest first. */
export const causesOf = (run: HistoryRun): Array<{ cause: string; orders: number }> =>
  Object.entries(run.failedByCause).map(([cause, orders]) => ({ cause, orders })).sort((a, b) => b.orders - a.orders);

/** `report <folder>`: its logs, newest first, each by its runs, then the nights added up. */
export function formatHistory(h: History): string {
  const byLog = new Map<string, HistoryRun[]>();
  for (const run of h.runs) {
    const runs = byLog.get(run.auditLog) ?? [];
    runs.push(run);
    byLog.set(run.auditLog, runs);
  }
  const logs = [...byLog].reverse();
  if (logs.length === 0 && h.skipped.length === 0) return `${h.folder}: no audit logs (*.ndjson) here`;
  // Those not read are counted too, and listed last: their time cannot be read (red team: "1 audit log" over two).
  const count = logs.length + h.skipped.length;
  const lines = [`${count} audit log${count === 1 ? '' : 's'} in ${h.folder}, newest first${h.skipped.length > 0 ? ` (${h.skipped.length} not read, last)` : ''}:`];
  for (const [path, runs] of logs) lines.push(`  ${oneLine(path)}`, `    ${oneLine(logLine(runs))}`);
  for (const { path, problem } of h.skipped) lines.push(`  ${oneLine(path)}`, `    not read: ${oneLine(problem)}`);
  if (h.nights.length > 0) lines.push(nightsLine(h));
  if (h.unreadableLines > 0) lines.push(`${h.unreadableLines} unreadable line(s) skipped (writes torn by a kill, or edits)`);
  return lines.join('\n');
}

/**
 * A log as its last run chain tells it (a fresh run and its resumes; a log reused for another run holds
 * more than one): when it started, how its last run ended, what its runs did, its input.
 */
function logLine(all: HistoryRun[]): string {
  const runs = all.slice(Math.max(0, all.findLastIndex((run) => !run.resume)));
  const first = runs[0] as HistoryRun;
  const last = runs.at(-1) as HistoryRun;
  // Each order once, by its latest outcome, as `report <log>` counts them (red team: a resume's retried failures were counted
  // again, "40 deleted, 14 failed" for 40 deleted; a dry resume's checks, "60 would delete" for 30).
  const total = (key: keyof NonNullable<HistoryRun['chain']>) => last.chain?.[key] ?? runs.reduce((sum, run) => sum + run.counts[key], 0);
  // A dry resume after deletions checked what is left and deleted nothing: the chain is told by its last deleting run,
  // as `report <log>` tells it (red team: "halted, dry run, 2 would delete" for a run that deleted 2 and left 28).
  const told = toldBy(runs) as HistoryRun;
  const checked = told !== last;
  // A dry run and its resume: told by the deletions, never as a dry run. A dry resume going on is the one running (red team: "running, then a dry resume").
  const mode = last.running && checked ? '' : checked ? ', then a dry resume' : last.dryRun ? ', dry run' : first.dryRun ? ', a dry run, then its resume' : '';
  // Of a chain that deletes, the orders neither deleted, found absent nor failed are not yet done, as report <log> says: a
  // killed run's, and a dry resume's finds (red team: "22 deleted, 0 failed" after a dry resume of a run that failed 8). Of
  // a chain begun by a dry run of a list, only its finds: the orders it never checked its resumes leave out (red team).
  const fromListDryRun = first.dryRun && !first.filtered;
  const unfinished = Math.max(0, first.selected - total('deleted') - total('alreadyAbsent') - total('failed'));
  const notDone = fromListDryRun ? total('wouldDelete') : unfinished;
  // What it never checked, its resumes leave out: said, as report <log> says it (red team: those orders went unmentioned).
  const notChecked = fromListDryRun ? Math.max(0, unfinished - total('wouldDelete')) : 0;
  const counts = last.dryRun && !checked ? `${total('wouldDelete')} would delete`
    : `${total('deleted')} deleted, ${total('failed')} failed${notDone > 0 ? `, ${notDone} not yet done` : ''}${notChecked > 0 ? `, ${notChecked} not checked` : ''}`;
  // A refusal is one whatever was deleted before it (red team: a resume refused by --max-deletes after 9 deletions was "failed, exit 3").
  const state = last.running ? `${checked ? 'a dry resume of it running' : 'running'} (its log is locked)` : told.status === null ? 'not finished (killed?)' : told.exitCode === 3
    ? `refused: ${(told.reason ?? '').split(/\. /)[0]}` : `${told.status}, exit ${told.exitCode}`;
  const resumable = !last.running && (told.status === null || !WAITS_FOR_A_PERSON.has(told.status));
  const runsWord = runs.length > 1 ? ` (${runs.length} runs)` : '';
  const earlier = all.length > runs.length ? `; ${all.length - runs.length} earlier, unrelated run(s) in it` : '';
  return `${first.startedAt}  ${state}${mode}, ${first.selected} selected, ${counts}${runsWord}; ${first.input}${resumable ? '  (resumable)' : ''}${earlier}`;
}

function nightsLine(h: History): string {
  const first = h.nights[0]?.label;
  const last = h.nights.at(-1)?.label;
  const marked = standingOut(nightsByTone(h.nights));
  const expected = h.expectEveryMs ? ` (a run expected every ${humanDuration(h.expectEveryMs)})` : ' (UTC days)';
  return `Nights: ${h.nights.length}, ${first === last ? first : `${first} to ${last}`}${expected}${marked.length > 0 ? `: ${marked.join(', ')}` : ''}`;
}
