import { describeFileError } from '../common/files.js';
import { writeOutputFile } from '../common/output-files.js';
import { terminalSafe } from '../common/text.js';
import type { SummaryJson } from '../common/summary-json.js';
import type { Console } from './console.js';
import type { RunReport } from './run-report.js';
import { notStartedJson, storyJson, storyText, type NotStarted, type StoryEnd } from './run-story.js';
import { countRows } from './summary.js';

export type { NotStarted } from './run-story.js';

export interface SummaryFiles {
  /** --summary-json */
  json?: string;
  /** $GITHUB_STEP_SUMMARY */
  stepSummary?: string;
  /** --html-report: the summaries point to it. */
  htmlReport?: string;
}

/**
 * The run's story as files for scripts and pipelines, written once it has ended, from the same model as
 * the page and the metrics (report/run-story.ts): --summary-json (replaced at once: a temporary file and
 * rename, so a full disk leaves the last summary whole), and a markdown table appended to GitHub Actions'
 * step summary. A file that cannot be written is said plainly and never changes the run's exit code.
 */
export async function writeSummaryFiles(console: Console, files: SummaryFiles, story: RunReport, end: StoryEnd): Promise<void> {
  const json = storyJson(story, { end, endedAt: Date.now(), ...(files.htmlReport ? { htmlReport: files.htmlReport } : {}) });
  await Promise.all([writeJson(console, files, json), appendStepSummary(console, files, stepSummary(story, json, files.htmlReport))]);
}

/**
 * A run that never started (run/not-started.ts): refused (exit 2, 3, 5) or stopped before its first DELETE
 * (a signal, a halt while listing, a bug). It has no audit log to tell it, so these files do, in the
 * same shape, with `started: false` and nothing counted: no file from an earlier run is left looking current.
 */
export async function writeNotStartedFiles(console: Console, files: SummaryFiles, run: NotStarted): Promise<void> {
  const rows: Array<[string, string]> = [
    ['status', `${run.status} (exit ${run.exitCode})${run.dryRun ? ', dry run' : ''}: it never started, no order was deleted`],
    ['host', run.host ?? '?'], ['audit log', run.auditLog ? `\`${run.auditLog}\`` : 'none written'],
  ];
  await Promise.all([
    writeJson(console, files, notStartedJson(run), false),
    appendStepSummary(console, files, markdownSection(`Exsited order cleanup: ${run.status} before it started`, rows, run.reason), false),
  ]);
}

const writeJson = (console: Console, files: SummaryFiles, json: SummaryJson, recorded = true) =>
  writeOrSay(console, '--summary-json', files.json, (path) => writeOutputFile(path, `${JSON.stringify(json, null, 2)}\n`), recorded);

/** GitHub Actions' step summary, appended to (other steps write it too). */
const appendStepSummary = (console: Console, files: SummaryFiles, markdown: string, recorded = true) =>
  writeOrSay(console, '$GITHUB_STEP_SUMMARY', files.stepSummary, (path) => writeOutputFile(path, markdown, { mode: 0o666, append: true }), recorded);

/** What each console was told could not be written: the run's early summary and its full one fail alike, said once (red team: twice). */
const said = new WeakMap<Console, Set<string>>();

async function writeOrSay(console: Console, what: string, path: string | undefined, write: (path: string) => Promise<void>, recorded: boolean): Promise<void> {
  if (!path) return;
  // Whatever throws, at once (a text too long to make) or later (the disk), is said: never a crash of a run that has ended.
  await Promise.resolve().then(() => write(path)).catch((error: unknown) => {
    const why = error instanceof RangeError ? 'it would be too large' : describeFileError(error);
    const text = `${what} ${path} could not be written: ${why}.${recorded ? ' The run\'s outcome is in its audit log.' : ''}`;
    const told = said.get(console) ?? new Set<string>();
    said.set(console, told);
    if (told.has(text)) return;
    told.add(text);
    console.say(text, 'warn');
  });
}

/** A markdown table for the job's summary page: the story in the words of the console's summary. */
function stepSummary(story: RunReport, json: SummaryJson, htmlReport: string | undefined): string {
  const rows: Array<[string, string]> = [
    ['status', `${json.status ?? 'no run.end (killed)'} (exit ${json.exitCode ?? '?'})`], ['host', story.host], ['what it did', storyText(story)],
    ...countRows({ ...story, durationMs: story.activeMs }),
    [story.auditLogs.length === 1 ? 'audit log' : 'audit logs', story.auditLogs.map((log) => `\`${log}\``).join(', ')],
    ...(htmlReport ? [['HTML report', `\`${htmlReport}\` (charts of the run: open it from the job's artifacts)`] as [string, string]] : []),
  ];
  return markdownSection(`Exsited order cleanup, run ${json.runId ?? '?'}`, rows, json.reason);
}

/** A step summary's section: a heading, a two-column table, and why the run stopped, if it did. */
function markdownSection(title: string, rows: Array<[string, string]>, reason: string | undefined): string {
  const table = rows.map(([k, v]) => `| ${k} | ${markdownText(v)} |`).join('\n');
  return `### ${markdownText(title)}\n\n| | |\n|---|---|\n${table}\n${reason ? `\n${markdownText(reason)}\n` : ''}\n`;
}

/**
 * Text as markdown shows it, and nothing more: a server's words in a reason (a heading, a link, an image,
 * HTML, a table's end) are shown as written, on one line, control characters escaped. Our own code spans
 * (`path`) are kept.
 */
function markdownText(text: string): string {
  const spans = terminalSafe(text.replace(/[\r\n]+/g, ' ')).split(/(`[^`]*`)/);
  return spans.map((part, i) => (i % 2 === 1 ? part.replace(/\|/g, '\\|') : part.replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`))).join('');
}
