import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WAITS_FOR_A_PERSON, type RunStatus } from '../common/domain.js';
import { ExitCode } from '../common/errors.js';
import { fileEnds } from '../common/files.js';
import { holdsControl, oneLine } from '../common/text.js';
import { readLastChain, type ChainGatherer, type OrderOutcome } from './log-reader.js';
import { parseLine, type AuditRecord, type RunEndLine, type RunStartRecord } from './records.js';

const TAIL_BYTES = 64 * 1024;

/** A log in an audit folder, as its first and last lines tell it. */
export interface LogEntry {
  path: string;
  start?: RunStartRecord;
  /** The last line's run.end, if the last line is one. */
  end?: RunEndLine;
  /** No run.end last (killed), or it says interrupted or halted: a resume would continue it. */
  unfinished: boolean;
  /** Its run.start's record version, when a newer version of this tool wrote it (none readable here). */
  newer?: number;
}

/**
 * The logs in `dir`, newest first: by the start time their run.start records (names start with it too,
 * but older names only to the second), then by name. None when the folder does not exist.
 */
export async function logsIn(dir: string): Promise<LogEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return logsAmong(dir, names);
}

/** logsIn over the names of `dir` already listed (`names`: the whole listing; the logs are picked from it). */
export function logsAmong(dir: string, names: string[]): LogEntry[] {
  const started = (entry: LogEntry) => Date.parse(entry.start?.time ?? '') || 0;
  return names.filter((name) => name.endsWith('.ndjson')).map((name) => describeLog(join(dir, name)))
    .sort((a, b) => started(b) - started(a) || (a.path < b.path ? 1 : -1));
}

/** What --auto-resume found in an audit folder: this job's run to continue, and unfinished runs it leaves alone. */
export interface AutoResumeFinding {
  resume?: LogEntry;
  /** Unfinished runs that are not this job's to continue, with why: for a person to see. */
  leftAlone: Array<{ entry: LogEntry; why: string }>;
}

/**
 * --auto-resume: the newest run of job `jobId` in `dir`, when it did not finish and nobody stopped it on
 * purpose. A run that ended on its own (completed, or failed: failed orders, a refused guard), that a bug
 * stopped (crashed), or that a person interrupted (SIGINT, anywhere in its chain: a resume of it does not
 * wash that out) waits for a person; so does the run of another job (another input or filter, another
 * host, another job spec) or of a log that records no job. Those that are unfinished are named, never resumed.
 */
export async function autoResumeFinding(dir: string, jobId: string): Promise<AutoResumeFinding> {
  const logs = await logsIn(dir);
  // A log whose name holds a control character was renamed by someone (this tool names its logs by time and
  // runId): never continued unasked, and never printed as it is (a newline in it would forge a line).
  const own = logs.find((entry) => entry.start?.job?.id === jobId && !holdsControl(entry.path));
  const leftAlone: AutoResumeFinding['leftAlone'] = [];
  for (const entry of logs) {
    if (!entry.unfinished || entry === own) continue;
    const job = entry.start?.job;
    leftAlone.push({ entry, why: holdsControl(entry.path) ? 'its name holds a control character, which no log this tool writes has' : !job ? 'it records no job (an older version wrote it, or it is not a log)' : job.id === jobId ? 'this job has run since' : `another job's run (${job.startedBy === 'person' ? 'started by a person' : job.spec ? `job ${oneLine(job.spec)}` : 'other options'})` });
  }
  if (!own?.unfinished) return { leftAlone };
  let chain: AutoResumeChain;
  try {
    chain = (await readLastChain(own.path, () => new AutoResumeChain(), { outcomesOnly: true })).last;
  } catch (error) {
    // A log the reader refuses (cut or damaged): a person looks at it; the night's own run goes on (red team: every night stopped, exit 2).
    leftAlone.unshift({ entry: own, why: `it cannot be read as a run (${(error as Error).message}): only a person continues it` });
    return { leftAlone };
  }
  if (chain.stoppedByPerson) {
    leftAlone.unshift({ entry: own, why: 'a person interrupted it (Ctrl-C, or a terminal closed): only a person continues it' });
    return { leftAlone };
  }
  if (chain.latestJob !== jobId) {
    // A resume given another input (--force) is that input's job: the log began as this one's, and goes on as another's (red team).
    leftAlone.unshift({ entry: own, why: 'its latest run is another job\'s (a resume given another input with --force): only a person continues it' });
    return { leftAlone };
  }
  if (chain.latestByPerson) {
    // Its options are what a person gave it (a raised --max-deletes), which its resume keeps over the job's: a person's to go on with
    // (red team: a person's resume with --max-deletes 100, killed with SIGTERM, then 32 deleted unattended past the job's 5).
    leftAlone.unshift({ entry: own, why: 'a person started its latest run, with options of their own: only a person continues it' });
    return { leftAlone };
  }
  if (chain.latestDry) {
    // Its resume is the real run, with what the dry run recorded (a person's --max-deletes 100 over the job's 5): a person's to start
    // (red team: a dry resume killed, interrupted or halted by its deadline, then 300 deleted unattended past the job's limit).
    leftAlone.unshift({ entry: own, why: 'its latest run was a dry run, which its resume turns into deletions: only a person continues it' });
    return { leftAlone };
  }
  return { resume: own, leftAlone };
}

/**
 * The logs `run --resume` without --audit-log may mean: each job's newest run, when it is unfinished or a
 * dry run never resumed (a dry run's resume is the real run). More than one job among them and the
 * choice is a person's: which run is continued must never be a guess (a colleague's interrupted run is
 * not the dry run you reviewed).
 */
export async function resumeCandidates(dir: string): Promise<LogEntry[]> {
  const seen = new Set<string>();
  return (await logsIn(dir)).filter((entry) => {
    if (!entry.start || holdsControl(entry.path)) return false; // renamed by someone: see autoResumeFinding
    // The newest run of each job stands for it, whether it finished or not: a job's older dry run is no
    // candidate once a newer run of the job went on (it deleted another filter's orders, red team).
    const job = entry.start.job?.id ?? entry.path;
    if (seen.has(job)) return false;
    seen.add(job);
    const reviewed = entry.end?.status === 'completed' && (entry.end.dryRun ?? entry.start.options.dryRun) === true;
    return entry.unfinished || reviewed;
  });
}

/** The signals a person sends (Ctrl-C), or that a person's leaving sends (the terminal closed: SIGHUP). */
const BY_A_PERSON = new Set(['SIGINT', 'SIGHUP']);

/**
 * What --auto-resume needs of a log's last run chain: whether a person stopped it (SIGINT or SIGHUP, in a
 * run.stop or a run.end, anywhere in it), and whether its latest run was a dry run, one a person started, or another job's.
 */
class AutoResumeChain implements ChainGatherer<AuditRecord | OrderOutcome> {
  stoppedByPerson = false;
  latestDry = false;
  latestByPerson = false;
  latestJob: string | undefined;

  record(record: AuditRecord | OrderOutcome): void {
    if (record.event === 'run.start') {
      this.latestDry = record.options.dryRun === true;
      this.latestJob = record.job?.id;
      this.latestByPerson = record.job?.startedBy === 'person';
    }
    if ((record.event === 'run.stop' && BY_A_PERSON.has(record.signal ?? '')) || (record.event === 'run.end' && (record.exitCode === ExitCode.sigint || record.exitCode === ExitCode.sighup))) this.stoppedByPerson = true;
  }
}

/** A log as its first and last lines tell it (its run.start names the run's input). */
export function describeLog(path: string): LogEntry {
  let head = '';
  let tail = '';
  try {
    [head, tail] = edges(path);
  } catch {
    return { path, unfinished: true }; // not readable as a log (a folder named *.ndjson?): the resume says what it is
  }
  const first = parseLine(head);
  const last = parseLine(tail);
  const start = first.kind === 'record' && first.record.event === 'run.start' ? first.record : undefined;
  const end = last.kind === 'record' && last.record.event === 'run.end' ? last.record : undefined;
  // A chain ended by a dry resume (a person's check) is judged by that run.end: it waits for a person, whatever
  // the deleting run before it left (refused, failed, crashed: continued unattended, it bypassed --max-deletes).
  return { path, start, end, unfinished: !end || !WAITS_FOR_A_PERSON.has(end.status as RunStatus), ...(first.kind === 'newer' ? { newer: first.version } : {}) };
}

/** The first and the last line of a file, reading at most 64 KiB at each end (without blocking: common/files' fileEnds). */
function edges(path: string): [string, string] {
  const { head, tail } = fileEnds(path, TAIL_BYTES);
  return [head.split('\n')[0] ?? '', tail.trimEnd().split('\n').at(-1) ?? ''];
}
