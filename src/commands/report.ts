import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { CleanupError, usageError } from '../common/errors.js';
import { prepareOutputFile } from '../common/output-files.js';
import { describeFileError, physicalPath } from '../common/files.js';
import { holdsControl, quoted, shellQuote } from '../common/text.js';
import type { LogEntry } from '../audit/latest-log.js';
import { VERSION } from '../common/version.js';
import { REPORT_OPTIONS, resolveFlags } from '../config/command-options.js';
import { showDuration } from '../config/values.js';
import { refuseLogLikePage, registerSecretsOf } from '../config/resolve.js';
import type { FileRole } from '../guards/file-roles.js';
import { addOptions } from './flags.js';
import type { Session } from './session.js';

/** `report`: a run and its resumes from their audit logs (text, JSON, and the files asked for); or a folder's logs listed. */
export function addReportCommand(program: Command, session: Session): void {
  const report = program
    .command('report')
    .description('summarise a run and all its resumes from its audit log (several logs: a rerun together with the run it came from); ' +
      'a folder: list its logs')
    .argument('<audit-log...>', 'the audit log(s) of the run, oldest first; or a folder of logs (runs/)')
    .showHelpAfterError("See 'exsited-order-cleanup report --help'.");
  addOptions(report, REPORT_OPTIONS).action(async (givenPaths: string[], given: Record<string, unknown>) => {
    const paths = givenPaths.map((path) => {
      try {
        return physicalPath(path);
      } catch (error) {
        throw usageError(`report: ${quoted(path)}: ${(error as Error).message}`);
      }
    });
    const flags = resolveFlags('report', REPORT_OPTIONS, given);
    const { console } = session;
    // As every path option: one with a control character would forge a line of the report it heads (red team).
    const odd = paths.find(holdsControl);
    if (odd !== undefined) throw usageError(`report: ${quoted(odd)}: a path with a control character (a newline, an escape); rename the file`);
    if (paths.length === 1 && isFolder(paths[0] as string)) return reportFolder(paths[0] as string, flags, session);
    if (flags.expectEvery !== undefined) throw usageError('report: --expect-every is for a folder of logs (report runs/ --expect-every 24h), not for a run\'s log');
    registerSecretsOf(session.io.env);
    const files = { failedCsv: flags.failedCsv, html: flags.html, timeline: flags.timeline, intervalMs: flags.interval };
    // Loaded here, not at start: its log schemas (zod) took ~20 ms of every start of the tool, `run` included.
    const { describeLog } = await import('../audit/latest-log.js');
    await checkOutputs(paths.map(describeLog), files, session.io.env);
    const [{ reportWithFiles }, { formatRunReport }, { storyJson }] = await Promise.all([
      import('../report/report-files.js'), import('../report/report-text.js'), import('../report/run-story.js'),
    ]);
    const result = await reportWithFiles(paths, files, { command: session.io.command, version: VERSION });
    // --json: the one shape of a run's story, the same as run --summary-json's (docs/reports.md).
    console.print(flags.json ? JSON.stringify(storyJson(result), null, 2) : formatRunReport(result, session.io.command));
    if (files.failedCsv) console.say(`${result.failedOrders.length} failed order(s) written to ${files.failedCsv}`);
    if (files.timeline) console.say(`The timeline written to ${files.timeline}`);
    if (files.html) console.say(`The HTML report written to ${files.html}`);
  });
}

/**
 * `report <folder>`: the history of its runs over the nights (report/history), listed, as JSON, or as a
 * page; read once, whichever is asked for. A run's own files (--failed-csv, --timeline, --interval) are
 * made from its log.
 */
async function reportFolder(folder: string, flags: ReturnType<typeof resolveFlags<typeof REPORT_OPTIONS>>, session: Session): Promise<void> {
  const own = [['--failed-csv', flags.failedCsv], ['--timeline', flags.timeline], ['--interval', flags.interval]].find(([, value]) => value !== undefined);
  if (own) throw usageError(`report: ${own[0] as string} tells one run: give its log (report ${folder} lists them)`);
  registerSecretsOf(session.io.env);
  if (flags.html) await checkHistoryPage(folder, flags.html, 'report: --html', session.io.env);
  const [{ readHistory }, { formatHistory, historyJson }] = await Promise.all([import('../report/history.js'), import('../report/history-outputs.js')]);
  const history = await readHistory(folder, { expectEveryMs: flags.expectEvery });
  session.console.print(flags.json ? JSON.stringify(historyJson(history), null, 2) : formatHistory(history));
  if (flags.html) {
    const { writeHistoryPage } = await import('../report/report-files.js');
    await writeHistoryPage(history, flags.html, VERSION);
    session.console.say(`The history page written to ${flags.html}`);
  }
}

/**
 * `run --history-html`: the audit folder's history page, once the run (and --keep-for) is done. One that
 * cannot be made, or that a signal stops (`signal`), is said plainly and never changes the run's exit
 * code: `report <folder> --html` makes it at any time.
 */
export async function writeFolderHistory(folder: string, options: { historyHtml?: string; expectEvery?: number }, session: Session, signal: AbortSignal): Promise<void> {
  const path = options.historyHtml as string;
  const { console, io } = session;
  try {
    signal.throwIfAborted();
    await checkHistoryPage(folder, path, '--history-html', io.env);
    const [{ readHistory }, { writeHistoryPage }] = await Promise.all([import('../report/history.js'), import('../report/report-files.js')]);
    const history = await readHistory(folder, { expectEveryMs: options.expectEvery, signal });
    signal.throwIfAborted();
    await writeHistoryPage(history, path, VERSION, '--history-html');
    console.say(`The history of ${folder}: ${path}`);
  } catch (error) {
    const why = signal.aborted ? 'stopped by a signal' : error instanceof CleanupError ? error.message : describeFileError(error);
    const expect = options.expectEvery ? ` --expect-every ${showDuration(options.expectEvery)}` : '';
    console.say(`--history-html: the page was not made (${why}). Make it later: ${io.command} report ${shellQuote(folder)} --html ${shellQuote(path)}${expect}`, 'warn');
  }
}

/** The history page's path: no file the folder's logs use, and not named like a log (in the folder, every later history would try to read it). */
async function checkHistoryPage(folder: string, path: string, what: string, env: NodeJS.ProcessEnv): Promise<void> {
  refuseLogLikePage(path, what);
  const { logsIn } = await import('../audit/latest-log.js');
  await checkOutputs(await logsIn(folder), { html: path }, env, what); // their first lines read once, by the listing
}

/**
 * Before a log is read: every file the report writes can be written, and none is the same file as a log,
 * its lock or manifest, the input its run recorded, the token cache, or another output.
 */
async function checkOutputs(logs: LogEntry[], files: { failedCsv?: string; html?: string; timeline?: string }, env: NodeJS.ProcessEnv, htmlOption = 'report: --html'): Promise<void> {
  const outputs = [['report: --failed-csv', files.failedCsv], [htmlOption, files.html], ['report: --timeline', files.timeline]] as const;
  const [{ refuseCollisions }, { lockPathOf }, { manifestPathOf }] = await Promise.all([
    import('../guards/file-roles.js'), import('../audit/run-lock.js'), import('../planner/input.js'),
  ]);
  const inputs: FileRole[] = logs.flatMap(({ path: log, start }) => [
    { what: 'the audit log', path: log, output: false }, { what: 'the audit log\'s lock', path: lockPathOf(log), output: false },
    { what: 'the audit log\'s manifest', path: manifestPathOf(log), output: false },
    { what: 'the input its run recorded', path: recordedInput(start), output: false },
  ]);
  if (env.EXSITED_TOKEN_CACHE) inputs.push({ what: 'the token cache (EXSITED_TOKEN_CACHE)', path: env.EXSITED_TOKEN_CACHE, output: false });
  refuseCollisions([...inputs, ...outputs.map(([what, path]) => ({ what, path: path ?? '', output: true }))], 'nothing was written');
  for (const [what, path] of outputs) {
    if (path) prepareOutputFile(path, what, 'nothing was written');
  }
}

/** The input a run recorded, where it is: its path is relative to the run's working directory, not the report's. */
function recordedInput(start: { source: { path: string }; cwd?: string } | undefined): string {
  if (!start) return '';
  return start.cwd && !isAbsolute(start.source.path) ? join(start.cwd, start.source.path) : start.source.path;
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();
