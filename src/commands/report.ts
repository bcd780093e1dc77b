import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { prepareOutputFile } from '../common/files.js';
import { VERSION } from '../common/version.js';
import { REPORT_OPTIONS, resolveFlags } from '../config/command-options.js';
import { registerSecretsOf } from '../config/resolve.js';
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
  addOptions(report, REPORT_OPTIONS).action(async (paths: string[], given: Record<string, unknown>) => {
    const flags = resolveFlags('report', REPORT_OPTIONS, given);
    const { console } = session;
    if (paths.length === 1 && isFolder(paths[0] as string)) {
      const [{ logsIn }, { formatLogList }] = await Promise.all([import('../audit/latest-log.js'), import('../report/report-text.js')]);
      const logs = await logsIn(paths[0] as string);
      console.print(flags.json ? JSON.stringify(logs.map(({ path, start, end, unfinished }) => ({ path, start, end, unfinished })), null, 2) : formatLogList(paths[0] as string, logs));
      return;
    }
    registerSecretsOf(session.io.env);
    const files = { failedCsv: flags.failedCsv, html: flags.html, timeline: flags.timeline, intervalMs: flags.interval };
    await checkOutputs(paths, files, session.io.env);
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
 * Before a log is read: every file the report writes can be written, and none is the same file as a log,
 * its lock or manifest, the input its run recorded, the token cache, or another output.
 */
async function checkOutputs(logs: string[], files: { failedCsv?: string; html?: string; timeline?: string }, env: NodeJS.ProcessEnv): Promise<void> {
  const outputs = [['--failed-csv', files.failedCsv], ['--html', files.html], ['--timeline', files.timeline]] as const;
  const [{ refuseCollisions }, { lockPathOf }, { manifestPathOf }, { describeLog }] = await Promise.all([
    import('../guards/file-roles.js'), import('../audit/run-lock.js'), import('../planner/input.js'), import('../audit/latest-log.js'),
  ]);
  const inputs: FileRole[] = logs.flatMap((log) => [
    { what: 'the audit log', path: log, output: false }, { what: 'the audit log\'s lock', path: lockPathOf(log), output: false },
    { what: 'the audit log\'s manifest', path: manifestPathOf(log), output: false },
    { what: 'the input its run recorded', path: recordedInput(describeLog(log).start), output: false },
  ]);
  if (env.EXSITED_TOKEN_CACHE) inputs.push({ what: 'the token cache (EXSITED_TOKEN_CACHE)', path: env.EXSITED_TOKEN_CACHE, output: false });
  refuseCollisions([...inputs, ...outputs.map(([option, path]) => ({ what: `report: ${option}`, path: path ?? '', output: true }))], 'nothing was written');
  for (const [option, path] of outputs) {
    if (path) prepareOutputFile(path, `report: ${option}`, 'nothing was written');
  }
}

/** The input a run recorded, where it is: its path is relative to the run's working directory, not the report's. */
function recordedInput(start: { source: { path: string }; cwd?: string } | undefined): string {
  if (!start) return '';
  return start.cwd && !isAbsolute(start.source.path) ? join(start.cwd, start.source.path) : start.source.path;
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();
