import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { CleanupError, usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { writeOutputFile } from '../common/output-files.js';
import { secrets } from '../common/secrets.js';
import { shellQuote, spreadsheetSafe } from '../common/text.js';
import { buildRunReport, type KnownEnd, type RunReport } from './run-report.js';
import { TimelineBuilder, type RunTimeline } from './run-timeline.js';
import { timelineCsv } from './timeline-csv.js';
import type { Console } from './console.js';
import type { History } from './history.js';

/** The files a report can write besides what it prints. */
export interface ReportFiles {
  /** --html: the page. */
  html?: string;
  /** --timeline: the per-interval series as CSV. */
  timeline?: string;
  /** --failed-csv: the orders whose latest outcome is failed, usable as --ids. */
  failedCsv?: string;
  /** --interval: the timeline's interval, ms (rounded up to one it can give). */
  intervalMs?: number;
}

export interface ReportContext {
  command: string;
  version: string;
}

/**
 * Reads the audit logs once and writes the files asked for (each replaced at once: a reader never sees
 * half a page), through the secret scrubber like every other output. A file that cannot be written is a
 * usage error naming it.
 */
export async function reportWithFiles(auditLogs: string[], files: ReportFiles, context: ReportContext, names = NAMES): Promise<RunReport> {
  const builder = files.html || files.timeline ? new TimelineBuilder() : undefined;
  const report = await buildRunReport(auditLogs, builder);
  const timeline = builder?.finish(files.intervalMs);
  if (files.failedCsv) {
    // The IDs stay exact (the file is fed back to --ids); the server's text cannot become a formula.
    const rows = report.failedOrders.map((f) => [f.orderId, f.httpStatus ?? '', spreadsheetSafe(f.code), spreadsheetSafe(f.message)]);
    await write(names.failedCsv, files.failedCsv, stringify([['order_id', 'http_status', 'error_code', 'message'], ...rows]));
  }
  if (files.timeline && timeline) await write(names.timeline, files.timeline, timelineCsv(timeline));
  if (files.html && timeline) {
    const { reportPage } = await import('./html/page.js');
    await write(names.html, files.html, reportPage(report, timeline, { ...context, builtAt: Date.now() }));
  }
  return report;
}

/**
 * A run just ended, read back from its audit log(s) once: the story every output of the run is made from
 * (report/run-story), with its timeline when a page is asked for (`writePage`). `knownEnd`: how the run
 * ended, should its run.end be missing from the log (a full disk). A log that cannot be read back leaves
 * no story (undefined), said plainly.
 */
export async function readRunStory(auditLogs: string[], knownEnd: KnownEnd, console: Console, page: boolean): Promise<{ story: RunReport; timeline?: RunTimeline } | undefined> {
  const builder = page ? new TimelineBuilder() : undefined;
  try {
    const story = await buildRunReport(auditLogs, builder, knownEnd);
    return { story, ...(builder ? { timeline: builder.finish() } : {}) };
  } catch (error) {
    const why = error instanceof CleanupError ? error.message : describeFileError(error);
    console.say(`The audit log ${auditLogs.at(-1) as string} could not be read back (${why}): the summary files and the metrics tell this run's own counts.` +
      `${page ? ' No page was made (report <log> --html makes it once the log can be read).' : ''}`, 'warn');
    return undefined;
  }
}

/**
 * `run --html-report`: the page of the run just ended. One that cannot be made is said plainly and never
 * changes the run's exit code: `report --html` makes it from the log at any time.
 */
export async function writeRunPage(story: RunReport, timeline: RunTimeline, path: string, context: ReportContext, console: Console): Promise<void> {
  try {
    const { reportPage } = await import('./html/page.js');
    await write('--html-report', path, reportPage(story, timeline, { ...context, builtAt: Date.now() }));
    console.say(`The HTML report of this run: ${path}`);
  } catch (error) {
    const reason = error instanceof CleanupError ? error.message : `--html-report ${path} could not be made: ${describeFileError(error)}`;
    console.say(`${reason}. The run's outcome is in its audit log; make the page from it later: ${context.command} report ${story.auditLogs.map(shellQuote).join(' ')} --html ${shellQuote(path)}`, 'warn');
  }
}

/** `report <folder> --html`: the history page, replaced at once like every page. */
export async function writeHistoryPage(history: History, path: string, version: string, what = NAMES.html): Promise<void> {
  const { historyPage } = await import('./html/history-page.js');
  await write(what, path, historyPage(history, { version, pageDir: dirname(path) }));
}

/** How the files are named in messages: by the option that asked for them. */
const NAMES = { html: 'report: --html', timeline: 'report: --timeline', failedCsv: 'report: --failed-csv' };

async function write(what: string, path: string, text: string): Promise<void> {
  try {
    await writeOutputFile(path, secrets.scrub(text));
  } catch (error) {
    throw usageError(`${what} ${path} could not be written: ${describeFileError(error)}`);
  }
}
