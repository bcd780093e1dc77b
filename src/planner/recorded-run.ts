import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResumeState } from '../audit/resume-state.js';
import { usageError } from '../common/errors.js';
import { describeFileKind } from '../common/files.js';
import { oneLine, shellQuote } from '../common/text.js';
import type { RunEvents } from '../engine/events.js';

/** The options that say which log a run writes or continues. */
export interface LogOptions {
  auditLog?: string;
  auditDir?: string;
  resume: boolean;
  ids?: string;
  filter?: string;
}

export const DEFAULT_AUDIT_DIR = 'runs';

/**
 * The log this run writes or continues: --audit-log as given; for a new run a new file in --audit-dir
 * (runs/ by default), named so that logs sort by start time (to the millisecond); for `--resume` without --audit-log, the
 * one run in that folder it can mean (chooseRunToResume). A folder given as --audit-log, and a log to resume that does
 * not exist, are said plainly (exit 2).
 */
export async function chooseAuditLog(options: LogOptions, runId: string, startedAt: Date, command: string): Promise<{ path: string; continuing?: string }> {
  const dir = options.auditDir ?? DEFAULT_AUDIT_DIR;
  if (options.auditLog) {
    const path = options.auditLog;
    if (existsSync(path) && statSync(path).isDirectory()) {
      throw usageError(`${path} is a folder, not an audit log: did you mean ${options.resume ? '--resume ' : ''}--audit-dir ${shellQuote(path)}` +
        `${options.resume ? ' (the newest unfinished run there)' : ' (a new log per run)'}? To see its logs: ${command} report ${shellQuote(path)}`);
    }
    asLogFile(path);
    if (options.resume && !existsSync(path) && !options.ids && !options.filter) {
      throw usageError(`--resume: ${path}: no such file. To continue the newest unfinished run in a folder: ${command} run --resume --audit-dir DIR; ` +
        `to see the logs there: ${command} report DIR`);
    }
    return { path };
  }
  if (options.resume) return chooseRunToResume(dir, command);
  // 20261127T101500123Z: to the millisecond, so that names sort by start time even within one second.
  const stamp = startedAt.toISOString().replace(/[-:.]/g, '');
  return { path: join(dir, `${stamp}-${runId}.ndjson`) };
}

/**
 * `run --resume` without --audit-log: the one run in `dir` it can mean — an unfinished run, or a dry run
 * never resumed (whose resume deletes exactly what it listed), the newest of each job. When the folder holds
 * such runs of more than one job, which one is continued is a person's choice: refused, listing each with
 * the command that continues it. The run chosen is said, with its input and who started it.
 */
async function chooseRunToResume(dir: string, command: string): Promise<{ path: string; continuing: string }> {
  const { logsIn, resumeCandidates } = await import('../audit/latest-log.js');
  const candidates = await resumeCandidates(dir);
  const describe = (entry: Awaited<ReturnType<typeof resumeCandidates>>[number]) => {
    const { start, end } = entry;
    const dry = end?.status === 'completed' ? 'a dry run' : end ? `${end.status}, exit ${end.exitCode}` : 'killed';
    // Names from a shared folder and from the logs' own lines, each on one line: neither forges a line of the message.
    return oneLine(`${entry.path}: ${dry}; ${start?.source.kind === 'filter' ? `filter ${start.source.filter?.path ?? ''}` : `${start?.source.kind} ${start?.source.path}`}, ` +
      `started ${start?.time ?? '?'}${start?.job?.startedBy === 'person' ? ' by a person at a terminal' : ''}`);
  };
  const [only] = candidates;
  if (only && candidates.length === 1) return { path: asLogFile(only.path), continuing: describe(only) };
  if (candidates.length > 1) {
    throw usageError(`--resume: ${dir}/ holds ${candidates.length} runs of different jobs that could be continued; say which, with --audit-log; nothing was sent:\n` +
      candidates.slice(0, 5).map((entry) => `  ${describe(entry)}\n    ${command} run --resume --audit-log ${shellQuote(entry.path)}`).join('\n') +
      (candidates.length > 5 ? `\n  … and ${candidates.length - 5} more (${command} report ${shellQuote(dir)})` : ''));
  }
  const [newest] = await logsIn(dir);
  throw usageError(newest
    ? `--resume: nothing to resume in ${dir}/: its newest run (${oneLine(newest.path)}) ended ${newest.end ? `${newest.end.status}, exit ${newest.end.exitCode}` : ''}. ` +
      `To continue a particular run: ${command} run --resume --audit-log PATH; to see them all: ${command} report ${shellQuote(dir)}`
    : `--resume: no audit logs in ${dir}/: nothing to resume (give --audit-log PATH, or --audit-dir DIR where the logs are)`);
}

/**
 * A log is a file the run appends to and a resume reads back: a FIFO or a device there is refused before
 * it is read (a FIFO's open, or its read, waited for a writer forever, deaf to SIGTERM).
 */
function asLogFile(path: string): string {
  const stats = existsSync(path) ? statSync(path) : undefined;
  if (stats && !stats.isFile()) {
    throw usageError(`${path} is ${describeFileKind(stats)}, not an audit log: a log is a file the run appends to and a resume reads back; nothing was sent`);
  }
  return path;
}

/** The recorded run a resume continues; a fresh run on a log that holds one is refused. */
export async function openRecordedRun(options: LogOptions, auditLog: string, events: RunEvents, command: string): Promise<ResumeState | undefined> {
  // The log reader (and its schema library) is loaded only when there is a log to read.
  const resume = existsSync(auditLog) ? await (await import('../audit/resume-state.js')).readResumeState(auditLog) : undefined;
  const warn = (text: string) => events.emit({ type: 'notice', level: 'warn', text });
  if (resume && !options.resume) {
    throw usageError(`${auditLog} already holds run ${resume.resumeOf} (${resume.lastEnd ? resume.lastEnd.status : 'not finished'}): ` +
      'one log records one run and its resumes; nothing was sent. To continue that run:\n' +
      `  ${command} run --resume --audit-log ${shellQuote(auditLog)}\n` +
      'For a new run, give a new --audit-log, or --audit-dir DIR (a new log per run).');
  }
  if (options.resume && !resume) {
    // Killed before its run.start, a run sent nothing: with its input given again, it simply starts.
    if (!options.ids && !options.filter) throw usageError(`--resume: ${auditLog} records no run yet; give --ids or --filter to start it`);
    warn(`${auditLog} records no run yet (a run killed before it started leaves it so): starting afresh.`);
  }
  if (resume?.unreadableLines.length) {
    warn(`${auditLog}: ignored ${resume.unreadableLines.length} unreadable line(s) (line ${resume.unreadableLines.slice(0, 5).join(', ')}): ` +
      'a write torn by a killed run, or an edit; the orders on them are treated as not finished');
  }
  if (resume?.earlierChains) {
    warn(`${auditLog} also holds ${resume.earlierChains} earlier, unrelated run(s): only the last run and its resumes are continued.`);
  }
  return resume;
}
