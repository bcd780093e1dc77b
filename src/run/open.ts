import { randomBytes } from 'node:crypto';
import { lockPathOf, RunLock } from '../audit/run-lock.js';
import type { ResumeState } from '../audit/resume-state.js';
import { usageError } from '../common/errors.js';
import { prepareOutputFile } from '../common/output-files.js';
import { sourceOf, withRecorded, type RunOptions } from '../config/resolve.js';
import { RunEvents } from '../engine/events.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from '../exsited/host-allowlist.js';
import type { TokenCache } from '../exsited/token-cache.js';
import { refuseCollisions, type FileRole } from '../guards/file-roles.js';
import { manifestPathOf } from '../planner/input.js';
import { chooseAuditLog, openRecordedRun } from '../planner/recorded-run.js';
import { reportNotices } from '../report/console-reporter.js';
import type { Cleanup } from './cleanup.js';
import type { RunContext } from './context.js';

/** The run's log, chosen, checked and locked: from here on no other process writes it. */
export interface OpenedLog {
  runId: string;
  startedAt: number;
  auditLog: string;
  /** The log's real path as locked: the journal opens it, never through a link put there later. */
  realLog: string;
  /** Every file the run reads or writes (guards/file-roles). */
  files: FileRole[];
  /** What happens in the run; notices are told on the console from the start. */
  events: RunEvents;
}

/**
 * Phase 1a: the audit log chosen (a new one, or the one to continue), every file the run touches checked
 * against the others (no output may replace an input or the record) and for writing, and the log locked.
 * Nothing is sent.
 */
/** What a run refused before it started needs to know to write its summary files safely (run/not-started.ts). */
export interface OpeningHooks {
  /** The audit log chosen (refused or not, an output naming it is never written). */
  chose: (auditLog: string) => void;
  /** Every file the run touches passed the collision checks, a resume's recorded input included: its outputs may be written. */
  checked: () => void;
}

export async function openLog(requested: RunOptions, context: RunContext, cleanup: Cleanup, hooks: OpeningHooks): Promise<OpenedLog> {
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const { path: auditLog, continuing } = await chooseAuditLog(requested, runId, new Date(startedAt), context.command);
  hooks.chose(auditLog);
  if (continuing) context.console.say(`Continuing the one run in its folder that --resume can mean: ${continuing}`);
  const files = runFiles(requested, auditLog);
  refuseCollisions(files, 'nothing was sent');
  if (!requested.resume) hooks.checked(); // a resume's recorded input is known only once its log is read
  prepareOutputFile(auditLog, 'the audit log');
  if (requested.summaryJson) prepareOutputFile(requested.summaryJson, '--summary-json');
  if (requested.htmlReport) prepareOutputFile(requested.htmlReport, '--html-report');
  if (requested.historyHtml) prepareOutputFile(requested.historyHtml, '--history-html');
  if (requested.stepSummary) prepareOutputFile(requested.stepSummary, '$GITHUB_STEP_SUMMARY');
  const lock = new RunLock(auditLog, runId);
  await lock.acquire().catch(async (error: unknown) => {
    // A resume refused because the log is in use (exit 3) still tells its refusal in its summary files, so
    // that an earlier run's file is not left looking current: once its recorded input, read from the log's
    // first line, passes the checks too (red team: a stale "completed, exit 0" stayed in place).
    if (requested.resume) await checkRecordedInput(files, auditLog, hooks);
    throw error;
  });
  cleanup.defer(() => lock.release());
  const events = new RunEvents();
  reportNotices(events, context.console);
  return { runId, startedAt, auditLog, realLog: lock.realLog, files, events };
}

/** The run's files and the input a resumed run recorded: no output may replace it. */
const withRecordedInput = (files: FileRole[], recorded: string): FileRole[] => [...files, { what: 'the input the run recorded', path: recorded, output: false }];

/** A resume's files checked against the input its log records (its first line's run.start); none are marked checked if that cannot be read. */
async function checkRecordedInput(files: FileRole[], auditLog: string, hooks: OpeningHooks): Promise<void> {
  const { describeLog } = await import('../audit/latest-log.js');
  const recorded = describeLog(auditLog).start?.source.path;
  if (recorded === undefined) return;
  try {
    refuseCollisions(withRecordedInput(files, recorded), 'nothing was sent');
  } catch {
    return;
  }
  hooks.checked();
}

/** What the run continues (if anything) and the options and host it runs with. */
export interface RecordedRun {
  resume: ResumeState | undefined;
  /** The requested options, with a resume's recorded ones for what was not given again. */
  options: RunOptions;
  baseUrl: URL;
  /** The base URL as recorded and printed. */
  host: string;
  tokenCache?: TokenCache;
}

/**
 * Phase 1b: the run the log records, if any — a resume continues it, with its own options, its own input
 * and its own host (a different one only with --force) — and the token cache checked. Nothing is sent.
 */
export async function readRecordedRun(requested: RunOptions, log: OpenedLog, context: RunContext, hooks: OpeningHooks): Promise<RecordedRun> {
  const { auditLog, events, files } = log;
  const resume = await openRecordedRun(requested, auditLog, events, context.command);
  if (resume && !requested.ids) refuseCollisions(withRecordedInput(files, resume.source.path), 'nothing was sent');
  if (resume) hooks.checked();
  // A night's time window is its own, set as it started (the job's, the flags'): the run it continues never brings
  // its recorded one in (red team: a continued run's 4 s then stopped the night's new run, whose log recorded none).
  // A log of an earlier version recorded its shard only with its input (source.shard): a shard still, which paces as one (red team).
  const own = resume && { shard: resume.source.shard, ...resume.start.options };
  const recorded = own && context.night ? { ...own, maxDuration: undefined, maxDurationMs: undefined } : own;
  const options = resume ? withRecorded(requested, recorded as Record<string, unknown>) : requested;
  context.control.configure({ graceMs: options.graceMs, deadlineMs: options.maxDuration });
  const baseUrl = options.baseUrl !== undefined || !resume
    ? checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, options.allowedHosts, sourceOf(options, 'baseUrl'))
    : checkBaseUrl(resume.baseUrl, options.allowedHosts, `the base URL recorded in ${auditLog}`);
  if (resume && displayBaseUrl(baseUrl) !== resume.baseUrl && !options.force) {
    throw usageError(`--resume: the run in ${auditLog} was against ${resume.baseUrl}, not ${displayBaseUrl(baseUrl)}; ` +
      'omit --base-url (and EXSITED_BASE_URL) to use the recorded one, or pass --force; nothing was sent');
  }
  // Checked before anything is sent: a cache others can read, or a folder that does not exist, is refused now.
  const tokenCache = options.tokenCache && options.credentials.kind === 'client_credentials'
    ? (await import('../exsited/token-cache.js')).TokenCache.open(options.tokenCache, baseUrl.origin, options.credentials.clientId)
    : undefined;
  return { resume, options, baseUrl, host: displayBaseUrl(baseUrl), tokenCache };
}

/** Every file a run reads or writes, for refuseCollisions: no output may be an input, the record or another output. */
export function runFiles(options: RunOptions, auditLog: string | undefined): FileRole[] {
  const output = (what: string, path: string | undefined, record = false): FileRole[] => (path ? [{ what, path, output: true, record }] : []);
  const input = (what: string, path: string | undefined): FileRole[] => (path ? [{ what, path, output: false }] : []);
  return [
    ...input('--ids', options.ids), ...input('--filter', options.filter), ...input('--job', options.job),
    ...output('the audit log', auditLog, true), ...output('the audit log\'s lock', auditLog && lockPathOf(auditLog), true),
    ...output('the manifest', auditLog && options.filter && !options.resume ? manifestPathOf(auditLog) : undefined, true),
    ...output('--token-cache', options.tokenCache), ...output('the token cache\'s lock', options.tokenCache && `${options.tokenCache}.lock`),
    ...output('--summary-json', options.summaryJson), ...output('--html-report', options.htmlReport), ...output('--history-html', options.historyHtml),
    ...output('--metrics-file', options.metricsFile), ...output('$GITHUB_STEP_SUMMARY', options.stepSummary),
  ];
}
