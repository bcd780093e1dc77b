import { describeFileError, writeOutputFile } from '../common/files.js';
import type { RunStartFields } from '../common/records.js';
import type { SummaryJson } from '../common/summary-json.js';
import type { RunEvents, RunOutcome } from '../engine/events.js';
import type { Console } from './console.js';
import { countRows } from './summary.js';

export interface SummaryFiles {
  /** --summary-json */
  json?: string;
  /** $GITHUB_STEP_SUMMARY */
  stepSummary?: string;
  /** --html-report: made once the run has ended; the summaries point to it. */
  htmlReport?: string;
}

/**
 * The run's outcome as files for scripts and pipelines, written when it ends: --summary-json, and a
 * markdown table appended to GitHub Actions' step summary. A file that cannot be written is said
 * plainly and never changes the run's exit code (its run.end is already in the audit log). A regular
 * file is written as the run ends; `flush` waits for a pipe's reader (a few seconds at most).
 */
export function writeSummaryFiles(events: RunEvents, console: Console, files: SummaryFiles): { flush: () => Promise<void> } {
  const writing: Array<Promise<void>> = [];
  let started: { at: number; fields: RunStartFields } | undefined;
  events
    .on('run.started', ({ startedAt, fields }) => void (started = { at: startedAt, fields }))
    .on('run.ended', ({ outcome }) => {
      // Replaced at once (temporary file and rename): a full disk leaves the last summary whole, never a truncated one.
      writing.push(writeJson(console, files, summaryJson(outcome, started)));
      writing.push(appendStepSummary(console, files, stepSummary(outcome, started?.fields, files.htmlReport)));
    });
  return { flush: async () => void (await Promise.all(writing)) };
}

/**
 * A run that never started (run/not-started.ts): refused (exit 2, 3) or stopped before its first DELETE
 * (a signal, a halt while listing, a bug). It has no audit log to tell it, so these files do, in the
 * shape of a run's, with `started: false` and nothing counted: no file from an earlier run is left
 * looking current.
 */
export interface NotStarted {
  status: 'refused' | 'unreachable' | 'interrupted' | 'halted' | 'crashed';
  exitCode: number;
  reason: string;
  host: string | undefined;
  auditLog: string | undefined;
  dryRun: boolean;
  startedAt: number;
}

export async function writeNotStartedFiles(console: Console, files: SummaryFiles, run: NotStarted): Promise<void> {
  const json: SummaryJson = {
    schemaVersion: 1, runId: null, status: run.status, exitCode: run.exitCode, host: run.host ?? null, dryRun: run.dryRun, started: false,
    startedAt: new Date(run.startedAt).toISOString(), endedAt: new Date().toISOString(), durationMs: Date.now() - run.startedAt,
    auditLog: run.auditLog ?? null, summary: NOTHING_COUNTED, reason: run.reason,
  };
  const rows: Array<[string, string]> = [
    ['status', `${run.status} (exit ${run.exitCode})${run.dryRun ? ', dry run' : ''}: it never started, no order was deleted`],
    ['host', run.host ?? '?'], ['audit log', run.auditLog ? `\`${run.auditLog}\`` : 'none written'],
  ];
  await Promise.all([
    writeJson(console, files, json),
    appendStepSummary(console, files, markdownSection(`Exsited order cleanup: ${run.status} before it started`, rows, run.reason), false),
  ]);
}

const NOTHING_COUNTED = { selected: 0, deleted: 0, alreadyAbsent: 0, failed: 0, skipped: 0, wouldDelete: 0, pending: 0, retries: 0, throttledMs: 0, ratePerSecond: 0 };

/** --summary-json, replaced at once (a temporary file and rename); a failure is said, never the run's. */
const writeJson = (console: Console, files: SummaryFiles, json: SummaryJson) =>
  writeOrSay(console, '--summary-json', files.json, (path) =>
    writeOutputFile(path, `${JSON.stringify({ ...json, ...(files.htmlReport ? { htmlReport: files.htmlReport } : {}) }, null, 2)}\n`), json.started);

/** GitHub Actions' step summary, appended to (other steps write it too). */
const appendStepSummary = (console: Console, files: SummaryFiles, markdown: string, recorded = true) =>
  writeOrSay(console, '$GITHUB_STEP_SUMMARY', files.stepSummary, (path) => writeOutputFile(path, markdown, { mode: 0o666, append: true }), recorded);

async function writeOrSay(console: Console, what: string, path: string | undefined, write: (path: string) => Promise<void>, recorded = true): Promise<void> {
  if (!path) return;
  await write(path).catch((error: unknown) => {
    console.say(`${what} ${path} could not be written: ${describeFileError(error)}.${recorded ? ' The run\'s outcome is in its audit log.' : ''}`, 'warn');
  });
}

/** For scripts: the outcome, with the host, the input, whether it was a dry run, and when it ran. */
function summaryJson({ runId, status, exitCode, durationMs, auditLog, summary, reason }: RunOutcome, started: { at: number; fields: RunStartFields } | undefined): SummaryJson {
  const source = started?.fields.source as { kind?: string; path?: string; sha256?: string; count?: number; filter?: { path?: string } } | undefined;
  return {
    schemaVersion: 1, runId, status, exitCode, host: started?.fields.baseUrl ?? null, dryRun: started?.fields.options.dryRun === true, started: true,
    startedAt: started && new Date(started.at).toISOString(), endedAt: new Date().toISOString(), durationMs, auditLog,
    input: source && { kind: source.kind, path: source.path, sha256: source.sha256, count: source.count, ...(source.filter?.path ? { filter: source.filter.path } : {}) },
    summary, ...(reason ? { reason } : {}),
  };
}

/** A markdown table for the job's summary page: the counts in the words of the console's summary. */
function stepSummary(o: RunOutcome, fields: RunStartFields | undefined, htmlReport: string | undefined): string {
  const dryRun = fields?.options.dryRun === true;
  const rows: Array<[string, string]> = [
    ['status', `${o.status} (exit ${o.exitCode})${dryRun ? ', dry run' : ''}`], ['host', fields?.baseUrl ?? '?'],
    ...countRows({ ...o.summary, dryRun, durationMs: o.durationMs }), ['audit log', `\`${o.auditLog}\``],
    ...(htmlReport ? [['HTML report', `\`${htmlReport}\` (charts of the run: open it from the job's artifacts)`] as [string, string]] : []),
  ];
  return markdownSection(`Exsited order cleanup, run ${o.runId}`, rows, o.reason);
}

/** A step summary's section: a heading, a two-column table, and why the run stopped, if it did. */
function markdownSection(title: string, rows: Array<[string, string]>, reason: string | undefined): string {
  const table = rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n');
  return `### ${title}\n\n| | |\n|---|---|\n${table}\n${reason ? `\n${reason}\n` : ''}\n`;
}
