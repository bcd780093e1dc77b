import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuditJournal } from './audit/journal.js';
import type { ResumeState } from './audit/resume-state.js';
import { RunLock } from './audit/run-lock.js';
import type { RunStatus } from './common/domain.js';
import { ExitCode, usageError } from './common/errors.js';
import { describeFileError, prepareOutputFile } from './common/files.js';
import { shellQuote } from './common/text.js';
import { recordedOptions, type RunOptions } from './config/resolve.js';
import { Backoff } from './engine/backoff.js';
import { RunEvents } from './engine/events.js';
import { RateLimiter } from './engine/rate-limiter.js';
import { RetryPolicy } from './engine/retry-policy.js';
import type { RunControl } from './engine/run-control.js';
import { RunTally, ratePerSecond } from './engine/tally.js';
import { TokenSource } from './exsited/auth.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { canPrompt, confirmDeletion } from './guards/confirmation.js';
import { exceedsMaxDeletes, selectsEverything } from './guards/limits.js';
import { prepareInput, type PreparedInput } from './planner/input.js';
import type { SelectionDeps } from './planner/selection.js';
import type { Console } from './report/console.js';
import { reportNotices, reportToConsole, type ConsoleReportContext } from './report/console-reporter.js';
import { reportProgress } from './report/progress.js';
import { writeSummaryFiles } from './report/summary-files.js';
import { VERSION } from './common/version.js';

/** Where a person may be: stdin to read IDs or an answer from, stderr to ask on. */
export interface Terminal {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

interface RunIdentity {
  startedAt: number;
  runId: string;
  auditLog: string;
}

/**
 * One run, composed: every output checked, the log locked, the recorded run read (a resume), the input
 * prepared and validated (pass one), the API client made, the run started, the guards applied, the
 * orders deleted, the run ended. What happens is told through run events to the journal, the console,
 * the progress line and the summary files. Everything that can be refused is refused before the first
 * DELETE; every output path is checked before the first request.
 */
export async function runCleanup(options: RunOptions, control: RunControl, console: Console, terminal: Terminal): Promise<ExitCode> {
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const run = { startedAt, runId, auditLog: options.auditLog ?? newAuditLogPath(options.auditDir ?? 'runs', new Date(startedAt), runId) };
  prepareOutputFile(run.auditLog, 'the audit log');
  if (options.summaryJson) prepareOutputFile(options.summaryJson, '--summary-json');
  if (options.stepSummary) prepareOutputFile(options.stepSummary, '$GITHUB_STEP_SUMMARY');
  const lock = new RunLock(run.auditLog, runId);
  await lock.acquire();
  try {
    return await runLocked(options, control, console, terminal, run);
  } finally {
    await lock.release();
  }
}

async function runLocked(options: RunOptions, control: RunControl, console: Console, terminal: Terminal, run: RunIdentity): Promise<ExitCode> {
  const events = new RunEvents();
  reportNotices(events, console);
  const resume = await readRecordedRun(options, run.auditLog, events);
  const baseUrl = checkBaseUrl(options.baseUrl ?? resume?.baseUrl ?? DEFAULT_BASE_URL, options.allowedHosts);
  if (resume && displayBaseUrl(baseUrl) !== resume.baseUrl && !options.force) {
    throw usageError(`--resume: the run in ${run.auditLog} was against ${resume.baseUrl}, not ${displayBaseUrl(baseUrl)}; ` +
      'omit --base-url (and EXSITED_BASE_URL) to use the recorded one, or pass --force');
  }
  const limiter = new RateLimiter({ rps: options.rps, burst: options.concurrency });
  const api = lazyApi(async () => {
    // The HTTP machinery (axios: ~150 ms) is loaded only once the input is valid and a request is due.
    const { createHttpClient } = await import('./exsited/http.js');
    const http = createHttpClient({ baseUrl, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
    const backoff = new Backoff({ retries: options.retries, baseMs: options.backoffBaseMs, capMs: options.backoffCapMs });
    // Token requests may finish during the grace period (orders in flight need them); other calls stop with the run.
    const tokenRetries = new RetryPolicy(backoff, control.aborting);
    const tokens = new TokenSource(http, options.credentials, (attempt) => tokenRetries.run(attempt));
    return { http, tokens, retry: new RetryPolicy(backoff, control.stopping), limiter, control, events };
  });
  try {
    const input = await prepareInput(options, resume, {
      runId: run.runId, auditLog: run.auditLog, control, events, api: api.get, stdin: terminal.stdin,
    });
    if (!input || control.stopping.aborted) {
      const signal = control.reason?.kind === 'signal' ? control.reason.signal : undefined;
      console.say(`Stopped${signal ? ` by ${signal}` : ''} before any order was deleted; ${api.made()?.tokens.requested ? 'nothing was deleted' : 'nothing was sent'}.`);
      return signal ? signalExit(signal) : ExitCode.halted;
    }
    return await execute(options, control, console, run, { input, resume, events, limiter, terminal, deps: await api.get(), host: displayBaseUrl(baseUrl) });
  } finally {
    await api.destroy();
  }
}

/** The recorded run a resume continues; a fresh run on a log that holds one is refused. */
async function readRecordedRun(options: RunOptions, auditLog: string, events: RunEvents): Promise<ResumeState | undefined> {
  // The log reader (and its schema library) is loaded only when there is a log to read.
  const resume = existsSync(auditLog) ? await (await import('./audit/resume-state.js')).readResumeState(auditLog) : undefined;
  const warn = (text: string) => events.emit({ type: 'notice', level: 'warn', text });
  if (resume && !options.resume) {
    throw usageError(`${auditLog} already holds run ${resume.resumeOf} (${resume.lastEnd ? resume.lastEnd.status : 'not finished'}): ` +
      `one log records one run and its resumes. To continue that run: exsited-order-cleanup run --resume --audit-log ${shellQuote(auditLog)}; ` +
      'for a new run, give a new --audit-log, or --audit-dir DIR (a new log per run); nothing was sent');
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

interface Prepared {
  input: PreparedInput;
  resume: ResumeState | undefined;
  events: RunEvents;
  limiter: RateLimiter;
  deps: SelectionDeps;
  host: string;
  terminal: Terminal;
}

/** The run proper: its subscribers, run.start, the guards, the deletions, run.end. */
async function execute(options: RunOptions, control: RunControl, console: Console, run: RunIdentity, p: Prepared): Promise<ExitCode> {
  const { input, events } = p;
  const { scanned } = input;
  const tally = new RunTally(scanned.unique, scanned.skipped, events);
  // The journal subscribes first: an order's line is written before anything else hears of it.
  const journal = new AuditJournal(run.auditLog, run.runId, (error) => control.stop({
    kind: 'halt', exitCode: ExitCode.halted,
    message: `the audit log ${run.auditLog} could not be written (${describeFileError(error)}): stopped, since an order without its line ` +
      'would be lost. Free the space (or raise the limit), then resume; orders deleted since the last line written are found already absent',
  }));
  const { ended } = journal.attach(events);
  const allowHosts = options.allowHost.flatMap((host) => ['--allow-host', shellQuote(host)]);
  const report: ConsoleReportContext = {
    dryRun: options.dryRun, duplicates: () => scanned.duplicates,
    resumeCommand: ['exsited-order-cleanup run --resume --audit-log', shellQuote(run.auditLog), ...allowHosts].join(' '),
  };
  reportToConsole(events, console, tally, report);
  reportProgress(events, console, tally, { intervalMs: options.progressInterval, throttledMs: () => p.limiter.throttledMs });
  writeSummaryFiles(events, console, { json: options.summaryJson, stepSummary: options.stepSummary });

  events.emit({
    type: 'run.started', runId: run.runId, auditLog: run.auditLog, startedAt: run.startedAt,
    fields: {
      version: VERSION, source: input.source, baseUrl: p.host,
      options: { ...recordedOptions(options), dryRun: options.dryRun, force: options.force, allowHosts: options.allowHost, auth: options.credentials.kind },
      ...(p.resume ? { resumeOf: p.resume.resumeOf, skipped: scanned.skipped } : {}),
    },
  });
  const end = (status: RunStatus, exitCode: ExitCode, reason?: string): ExitCode => {
    const durationMs = Date.now() - run.startedAt;
    tally.summary.throttledMs = p.limiter.throttledMs;
    tally.summary.ratePerSecond = ratePerSecond(tally.summary, durationMs);
    const usage = process.resourceUsage();
    const resources = { maxRssMb: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) };
    events.emit({ type: 'run.ended', outcome: { runId: run.runId, status, exitCode, durationMs, auditLog: run.auditLog, summary: tally.summary, resources, ...(reason ? { reason } : {}) } });
    if (!ended()) console.say(`The audit log ${run.auditLog} could not record the end of this run: the resume will find it unfinished.`, 'warn');
    return exitCode;
  };

  try {
    const count = scanned.pending.size;
    const refused = selectsEverything(input.source, new URL(p.host).host) ?? exceedsMaxDeletes(count, options.maxDeletes);
    if (refused && !options.dryRun) return end('failed', ExitCode.refused, refused);
    report.wouldBeRefused = refused;
    const prompt = { input: p.terminal.stdin, output: p.terminal.stderr };
    if (!options.yes && !options.dryRun && count > 0 && canPrompt(prompt.input, prompt.output)) {
      const request = { host: new URL(p.host).host, count, sample: [...take(scanned.pending, 5)], manifest: input.source.kind === 'filter' ? input.spec.path : undefined };
      if (!(await confirmDeletion(request, prompt.input, prompt.output, control.stopping))) return end('failed', ExitCode.refused, 'not confirmed: nothing was deleted');
    }
    const { executeDeletions } = await import('./engine/executor.js');
    await executeDeletions({ pending: scanned.pending, dryRun: options.dryRun, concurrency: options.concurrency, haltAfter: options.haltAfter }, { ...p.deps, tally });
  } catch (error) {
    // A bug, not a halt: recorded as crashed (exit 70), which --auto-resume leaves for a person.
    return end('crashed', ExitCode.internal, `internal error, a bug in this tool: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { status, exitCode, reason } = conclude(tally.summary.failed, control);
  return end(status, exitCode, reason);
}

function conclude(failed: number, control: RunControl): { status: RunStatus; exitCode: ExitCode; reason?: string } {
  const stop = control.reason;
  if (stop?.kind === 'signal') return { status: 'interrupted', exitCode: signalExit(stop.signal), reason: `received ${stop.signal}` };
  if (stop?.kind === 'halt') return { status: stop.exitCode === ExitCode.refused ? 'failed' : 'halted', exitCode: stop.exitCode, reason: stop.message };
  if (failed > 0) return { status: 'failed', exitCode: ExitCode.someFailed };
  return { status: 'completed', exitCode: ExitCode.ok };
}

const signalExit = (signal: 'SIGINT' | 'SIGTERM') => (signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);

/** The API client, made on first use and closed at the end. */
function lazyApi(make: () => Promise<SelectionDeps>) {
  let made: SelectionDeps | undefined;
  let making: Promise<SelectionDeps> | undefined;
  return {
    get: () => (making ??= make().then((api) => (made = api))),
    made: () => made,
    destroy: async () => {
      if (!made) return;
      const { destroyAgents } = await import('./exsited/http.js');
      destroyAgents(made.http);
    },
  };
}

function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let taken = 0;
  for (const item of items) {
    yield item;
    if (++taken >= n) return;
  }
}

/** <dir>/20261127T101500Z-<runId>.ndjson: names that sort by start time. */
function newAuditLogPath(dir: string, at: Date, runId: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(dir, `${stamp}-${runId}.ndjson`);
}
