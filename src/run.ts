import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditJournal, type OrderRecord, type RetryRecord } from './audit/journal.js';
import type { ResumeState, SourceRecord } from './audit/resume-state.js';
import { RunLock } from './audit/run-lock.js';
import { CleanupError, ExitCode, usageError } from './common/errors.js';
import { describeFileError, prepareOutputFile } from './common/files.js';
import { quoted } from './common/text.js';
import type { RunOptions } from './config.js';
import { Backoff } from './engine/backoff.js';
import { dispatch } from './engine/dispatch.js';
import { HaltPolicy } from './engine/halt-policy.js';
import { MemoryGovernor } from './engine/memory-governor.js';
import { deleteWithRetry } from './engine/order-deleter.js';
import { RateLimiter } from './engine/rate-limiter.js';
import type { RequestDeps } from './engine/retrying-request.js';
import type { RunControl } from './engine/run-control.js';
import { TokenError, TokenSource } from './exsited/auth.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { createHttpClient, destroyAgents } from './exsited/http.js';
import { canPrompt, confirmDeletion, exceedsMaxDeletes, selectsEverything } from './guards.js';
import { countOutcome, emptySummary, formatSummary, ratePerSecond, type RunSummary } from './report/summary.js';
import { appendStepSummary, writeSummaryJson } from './report/summary-files.js';
import { Progress } from './report/progress.js';
import { say, shellQuote } from './report/terminal.js';
import { idFileFormat, type IdFileSpec } from './sources/id-file.js';
import { orderIdValidator } from './sources/order-id.js';
import { scanSource, type ScannedSource } from './sources/scan.js';
import { parseShard, shardFilter, shardText } from './sources/shard.js';
import { spoolStdin } from './sources/stdin-spool.js';
import { VERSION } from './version.js';

interface RunIdentity {
  startedAt: number;
  runId: string;
  auditLog: string;
}

type Api = RequestDeps & { http: ReturnType<typeof createHttpClient> };

/** The orders of this run, validated, with what run.start records about where they came from. */
interface PreparedInput {
  spec: IdFileSpec;
  scanned: ScannedSource;
  source: SourceRecord;
}

const FAILURES_SHOWN = 10;
const FILTER_COLUMN = 'order_id';

/**
 * One run: resolve the host and the input (a file, stdin, or a filter's selection written to a
 * manifest), validate the whole input, apply the guards, then delete, journaling every outcome.
 * Everything that can be refused is refused before the first DELETE; every output path is checked
 * before the first request.
 */
export async function runCleanup(options: RunOptions, control: RunControl): Promise<ExitCode> {
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const auditLog = options.auditLog ?? newAuditLogPath(options.auditDir ?? 'runs', new Date(startedAt), runId);
  prepareOutputFile(auditLog, 'the audit log');
  if (options.summaryJson) prepareOutputFile(options.summaryJson, '--summary-json');
  if (options.stepSummary) prepareOutputFile(options.stepSummary, '$GITHUB_STEP_SUMMARY');
  const lock = new RunLock(auditLog, runId);
  await lock.acquire();
  try {
    return await runLocked(options, control, { startedAt, runId, auditLog });
  } finally {
    await lock.release();
  }
}

async function runLocked(options: RunOptions, control: RunControl, run: RunIdentity): Promise<ExitCode> {
  // The log reader (and its schema library) is loaded only when there is a log to read.
  const resume = existsSync(run.auditLog) ? await (await import('./audit/resume-state.js')).readResumeState(run.auditLog) : undefined;
  if (resume && !options.resume) {
    throw usageError(`${run.auditLog} already holds run ${resume.resumeOf} (${resume.lastEnd ? resume.lastEnd.status : 'not finished'}): ` +
      `one log records one run and its resumes. To continue that run: exsited-order-cleanup run --resume --audit-log ${shellQuote(run.auditLog)}; ` +
      'for a new run, give a new --audit-log, or --audit-dir DIR (a new log per run); nothing was sent');
  }
  if (options.resume && !resume) {
    // Killed before its run.start, a run sent nothing: with its input given again, it simply starts.
    if (!options.ids && !options.filter) {
      throw usageError(`--resume: ${run.auditLog} records no run yet; give --ids or --filter to start it`);
    }
    say(`${run.auditLog} records no run yet (a run killed before it started leaves it so): starting afresh.`, 'warn');
  }
  if (resume?.unreadableLines.length) {
    say(`${run.auditLog}: ignored ${resume.unreadableLines.length} unreadable line(s) (line ${resume.unreadableLines.slice(0, 5).join(', ')}): ` +
      'a write torn by a killed run, or an edit; the orders on them are treated as not finished', 'warn');
  }
  if (resume?.earlierChains) {
    say(`${run.auditLog} also holds ${resume.earlierChains} earlier, unrelated run(s): only the last run and its resumes are continued.`, 'warn');
  }
  const baseUrl = checkBaseUrl(options.baseUrl ?? resume?.baseUrl ?? DEFAULT_BASE_URL, options.allowedHosts);
  if (resume && displayBaseUrl(baseUrl) !== resume.baseUrl && !options.force) {
    throw usageError(`--resume: the run in ${run.auditLog} was against ${resume.baseUrl}, not ${displayBaseUrl(baseUrl)}; ` +
      'omit --base-url (and EXSITED_BASE_URL) to use the recorded one, or pass --force');
  }
  const http = createHttpClient({ baseUrl, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
  const backoff = new Backoff({
    retries: options.retries, baseMs: options.backoffBaseMs, capMs: options.backoffCapMs,
  });
  const api: Api = {
    http, backoff, control,
    tokens: new TokenSource(http, options.credentials, backoff),
    limiter: new RateLimiter({ rps: options.rps, burst: options.concurrency }),
  };
  try {
    const input = await prepareInput(options, resume, api, run);
    if (!input || control.stopping.aborted) {
      const signal = control.reason?.kind === 'signal' ? control.reason.signal : undefined;
      say(`Stopped${signal ? ` by ${signal}` : ''} before any order was deleted; ${api.tokens.requested ? 'nothing was deleted' : 'nothing was sent'}.`);
      return signal ? signalExit(signal) : ExitCode.halted;
    }
    return await execute(options, api, run, input, displayBaseUrl(baseUrl), resume);
  } finally {
    destroyAgents(http);
  }
}

/** The orders to process, validated (pass one): from --ids, from a filter's selection, or as recorded. */
async function prepareInput(options: RunOptions, resume: ResumeState | undefined, api: Api, run: RunIdentity): Promise<PreparedInput | undefined> {
  const recorded = resume?.source;
  const idPattern = options.idPattern ?? recorded?.idPattern;
  const shard = options.shard ?? (recorded?.shard ? parseShard(recorded.shard) : undefined);
  if (recorded) checkSameSet(recorded, options, run.auditLog);
  const isInvalid = orderIdValidator(idPattern);
  let spec: IdFileSpec;
  let extra: Partial<SourceRecord> = {};
  let spared = 'nothing was sent';
  if (options.filter && !resume) {
    // Loaded only for filter runs: the schema library costs ~90 ms of start-up that ID-file runs need not pay.
    const [{ readFilter }, { selectOrders }] = await Promise.all([import('./sources/filter-spec.js'), import('./sources/filter-selection.js')]);
    const filter = readFilter(options.filter);
    if (api.control.stopping.aborted) return undefined;
    await authenticate(api.tokens, api.control);
    say(`Selecting orders with ${options.filter} …`);
    const selection = await selectOrders(filter, `${run.auditLog.replace(/\.ndjson$/, '')}.manifest.csv`, api, isInvalid);
    if (!selection) return undefined;
    say(`Selected ${selection.selected} of ${selection.listed} orders listed (${selection.pages} pages); manifest: ${selection.manifestPath}`);
    spec = { path: selection.manifestPath, format: 'csv', column: FILTER_COLUMN, exact: true };
    extra = {
      filter: { path: options.filter, sha256: filter.sha256, match: filter.match, matchAll: filter.matchAll, scope: selection.scope },
      listed: selection.listed, selected: selection.selected, pages: selection.pages,
    };
    spared = 'nothing was deleted';
  } else if (options.filter) {
    throw usageError('--filter cannot be combined with --resume of a started run: it deletes from its manifest and never lists again');
  } else if (options.ids === '-') {
    say(process.stdin.isTTY ? 'Reading order IDs from stdin: type or paste them, one per line, then Ctrl-D.' : 'Reading order IDs from stdin …');
    const path = await spoolStdin(`${run.auditLog}.${run.runId}.stdin`, api.control.stopping);
    if (!path) return undefined;
    spec = { path, format: idFileFormat(path, options.format ?? 'text'), column: options.column };
    extra = { stdin: true };
  } else if (options.ids) {
    spec = { path: options.ids, format: idFileFormat(options.ids, options.format ?? recorded?.format), column: options.column ?? recorded?.column };
  } else if (recorded) {
    const { kind, path, column, sha256: _sha256, count: _count, rows: _rows, duplicates: _duplicates, otherShards: _other, ...kept } = recorded;
    const format = kind === 'filter' ? 'csv' : (recorded.format ?? kind);
    spec = { path, format, column: kind === 'filter' ? FILTER_COLUMN : column, exact: kind === 'filter' };
    extra = kept; // where the input came from (stdin, a filter's selection) stays on record
  } else {
    throw usageError('--ids or --filter is required');
  }

  // A fresh run's copy of stdin is its input only once the run starts: refused or stopped before, it goes.
  const spooled = extra.stdin === true && !recorded;
  let scanned: ScannedSource;
  try {
    scanned = await scanSource(spec, isInvalid, { finished: resume?.finished, inShard: shard ? shardFilter(shard) : undefined, spared });
  } catch (error) {
    if (spooled) await rm(spec.path, { force: true });
    throw error;
  }
  if (api.control.stopping.aborted) {
    if (spooled) await rm(spec.path, { force: true });
    return undefined;
  }
  if (recorded && scanned.sha256 !== recorded.sha256 && !options.force) {
    throw usageError(`--resume: ${spec.path} is not the input the run started with (sha256 ${scanned.sha256.slice(0, 12)}… ` +
      `differs from the recorded ${recorded.sha256.slice(0, 12)}…); pass --force to resume with it anyway`);
  }
  if (scanned.layout.headerLine) say(`${spec.path}: line 1 (${quoted(scanned.layout.headerLine)}) is a header, not an order ID: skipped.`);
  resume?.finished.clear();
  const kind: SourceRecord['kind'] = options.filter || (!options.ids && recorded?.kind === 'filter') ? 'filter' : spec.format;
  const column = scanned.layout.column ?? spec.column;
  const source: SourceRecord = {
    ...extra, kind, path: spec.path, format: spec.format, sha256: scanned.sha256, count: scanned.unique, rows: scanned.rows, duplicates: scanned.duplicates,
    ...(column ? { column } : {}), ...(idPattern ? { idPattern } : {}),
    ...(shard ? { shard: shardText(shard), otherShards: scanned.otherShards } : {}),
  };
  return { spec, scanned, source };
}

/**
 * A resume deletes the set the run started with. What defines the set — the file (its sha256, checked
 * after reading), how it is read (format, column), which IDs are accepted, the shard — can only be
 * changed with --force: the same file read through another column is another set of orders.
 */
function checkSameSet(recorded: SourceRecord, options: RunOptions, auditLog: string): void {
  if (options.force) return;
  const filterRun = recorded.kind === 'filter';
  const recordedFormat = filterRun ? 'csv' : (recorded.format ?? recorded.kind);
  const recordedColumn = filterRun ? FILTER_COLUMN : recorded.column;
  const changes: string[] = [];
  if (options.format !== undefined && options.format !== recordedFormat) changes.push(`--format ${options.format} (the run read it as ${recordedFormat})`);
  if (options.column !== undefined && options.column.trim().toLowerCase() !== (recordedColumn ?? '').trim().toLowerCase()) {
    changes.push(`--column ${shellQuote(options.column)} (the run read the column ${recordedColumn ? quoted(recordedColumn) : 'of a text file, which has none'})`);
  }
  if (options.idPattern !== undefined && options.idPattern !== recorded.idPattern) {
    changes.push(`--id-pattern ${shellQuote(options.idPattern)} (the run used ${recorded.idPattern ? quoted(recorded.idPattern) : 'the default'})`);
  }
  if (options.shard && recorded.shard && shardText(options.shard) !== recorded.shard) {
    changes.push(`--shard ${shardText(options.shard)} (the run was shard ${recorded.shard})`);
  }
  if (options.shard && !recorded.shard) changes.push(`--shard ${shardText(options.shard)} (the run was not sharded)`);
  if (changes.length === 0) return;
  throw usageError(`--resume: ${auditLog} records a different set of orders than ${changes.join(', ')} would select; ` +
    'omit the option to continue the recorded run, or pass --force to change it; nothing was sent');
}

/** Journal, guards, authentication, the deletions, and the end of the run. */
async function execute(
  options: RunOptions, api: Api, run: RunIdentity, input: PreparedInput, baseUrl: string, resume: ResumeState | undefined,
): Promise<ExitCode> {
  const { control } = api;
  const { scanned } = input;
  const journal = new AuditJournal(run.auditLog, run.runId, (error) => control.stop({
    kind: 'halt', exitCode: ExitCode.halted,
    message: `the audit log ${run.auditLog} could not be written (${describeFileError(error)}): stopped, since an order without its line ` +
      'would be lost. Free the space (or raise the limit), then resume; orders deleted since the last line written are found already absent',
  }));
  say(`Audit log: ${run.auditLog}`);
  journal.start({
    version: VERSION,
    source: input.source,
    baseUrl,
    options: {
      dryRun: options.dryRun, concurrency: options.concurrency, retries: options.retries, timeoutMs: options.timeoutMs,
      backoffBaseMs: options.backoffBaseMs, backoffCapMs: options.backoffCapMs, graceMs: options.graceMs,
      rps: options.rps ?? null, haltAfter: options.haltAfter, maxDurationMs: options.maxDurationMs ?? null, maxDeletes: options.maxDeletes,
      force: options.force, allowHosts: options.allowHostFlags, auth: options.credentials.kind,
    },
    ...(resume ? { resumeOf: resume.resumeOf, skipped: scanned.skipped } : {}),
  });

  const summary = emptySummary(scanned.unique, scanned.skipped);
  const failures: OrderRecord[] = [];
  const finish = (status: string, exitCode: ExitCode, reason?: string): ExitCode => {
    const durationMs = Date.now() - run.startedAt;
    summary.throttledMs = api.limiter.throttledMs;
    summary.ratePerSecond = ratePerSecond(summary, durationMs);
    const usage = process.resourceUsage();
    const resources = { maxRssMb: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) };
    if (!journal.end({ status, exitCode, durationMs, summary, resources, ...(reason ? { reason } : {}) })) {
      say(`The audit log ${run.auditLog} could not record the end of this run: the resume will find it unfinished.`, 'warn');
    }
    const outcome = { runId: run.runId, status, exitCode, durationMs, auditLog: run.auditLog, summary, ...(reason ? { reason } : {}) };
    writeOutput('--summary-json', options.summaryJson, (path) => writeSummaryJson(path, outcome));
    writeOutput('$GITHUB_STEP_SUMMARY', options.stepSummary, (path) => appendStepSummary(path, outcome));
    say(formatSummary(summary, {
      runId: run.runId, status, durationMs, auditLog: run.auditLog, duplicates: scanned.duplicates, firstFailures: failures,
      failuresNotShown: summary.failed - failures.length,
    }), 'info', { event: 'run.summary', runId: run.runId, status, exitCode, summary });
    if (reason) say(`Stopped: ${reason}`, 'warn');
    if (exitCode !== ExitCode.ok) {
      const allowHosts = options.allowHostFlags.flatMap((host) => ['--allow-host', shellQuote(host)]);
      say(`To resume: exsited-order-cleanup run --resume --audit-log ${[shellQuote(run.auditLog), ...allowHosts].join(' ')}`);
    }
    return exitCode;
  };

  const count = scanned.pending.size;
  const tooMany = exceedsMaxDeletes(count, options.maxDeletes);
  const everything = selectsEverything(input.source, new URL(baseUrl).host);
  const refused = everything ?? tooMany;
  if (refused && !options.dryRun) return finish('failed', ExitCode.refused, refused);
  const prompt = { input: process.stdin, output: process.stderr };
  if (!options.yes && !options.dryRun && count > 0 && canPrompt(prompt.input, prompt.output)) {
    const plan = { host: new URL(baseUrl).host, count, sample: [...take(scanned.pending, 5)], manifest: input.source.kind === 'filter' ? input.spec.path : undefined };
    if (!(await confirmDeletion(plan, prompt.input, prompt.output, control.stopping))) {
      return finish('failed', ExitCode.refused, 'not confirmed: nothing was deleted');
    }
  }

  const haltPolicy = new HaltPolicy(options.haltAfter);
  const memory = new MemoryGovernor();
  const progress = new Progress({ total: count, summary, throttledMs: () => api.limiter.throttledMs, intervalMs: options.progressIntervalMs });
  const record = (entry: OrderRecord) => {
    journal.order(entry);
    memory.tick();
    countOutcome(summary, entry);
    if (entry.outcome === 'failed' && failures.length < FAILURES_SHOWN) failures.push(entry);
    const haltReason = haltPolicy.observe(entry);
    if (haltReason) control.stop({ kind: 'halt', message: haltReason, exitCode: ExitCode.halted });
  };
  const halt = (error: TokenError) => {
    const nothingDone = summary.deleted + summary.alreadyAbsent + summary.failed === 0;
    control.stop({ kind: 'halt', message: `authentication failed: ${error.message}`, exitCode: error.rejected && nothingDone ? ExitCode.refused : ExitCode.halted });
  };
  try {
    await api.tokens.get(control.aborting);
    if (options.dryRun) {
      for (const orderId of scanned.pending) {
        if (control.stopping.aborted) break;
        record({ orderId, outcome: 'would_delete', httpStatus: null, attempts: 0, durationMs: 0 });
      }
      say(`Dry run: ${count} orders would be deleted, e.g. ${[...take(scanned.pending, 5)].join(', ') || '(none)'}.` +
        (refused ? ` A real run would be refused: ${refused}` : '') +
        ` To delete exactly these: exsited-order-cleanup run --resume --audit-log ${shellQuote(run.auditLog)}`);
    } else {
      progress.start();
      const deleterDeps = { ...api, onRetry: (retry: RetryRecord) => { summary.retries++; journal.retry(retry); } };
      await dispatch(draining(scanned.pending), options.concurrency, async (orderId) => {
        try {
          const entry = await deleteWithRetry(orderId, deleterDeps);
          if (entry) record(entry);
        } catch (error) {
          if (error instanceof TokenError) halt(error);
          else throw error;
        }
      }, control.stopping);
    }
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (!control.stopping.aborted) halt(error);
  } finally {
    progress.stop();
  }
  const { status, exitCode, reason } = conclude(summary, control);
  return finish(status, exitCode, reason);
}

/** Writes an output at the end of the run; a failure is said plainly and never changes the run's exit code. */
function writeOutput(what: string, path: string | undefined, write: (path: string) => void): void {
  if (!path) return;
  try {
    write(path);
  } catch (error) {
    say(`${what} ${path} could not be written: ${describeFileError(error)}. The run's outcome is in its audit log.`, 'warn');
  }
}

function conclude(summary: RunSummary, control: RunControl): { status: string; exitCode: ExitCode; reason?: string } {
  const stop = control.reason;
  if (stop?.kind === 'signal') return { status: 'interrupted', exitCode: signalExit(stop.signal), reason: `received ${stop.signal}` };
  if (stop?.kind === 'halt') return { status: stop.exitCode === 3 ? 'failed' : 'halted', exitCode: stop.exitCode, reason: stop.message };
  if (summary.failed > 0) return { status: 'failed', exitCode: ExitCode.someFailed };
  return { status: 'completed', exitCode: ExitCode.ok };
}

const signalExit = (signal: 'SIGINT' | 'SIGTERM') => (signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);

/** Authentication before any listing: a refusal is exit 3, an unreachable endpoint exit 4. */
async function authenticate(tokens: TokenSource, control: RunControl): Promise<void> {
  try {
    await tokens.get(control.aborting);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    throw new CleanupError(error.rejected ? ExitCode.refused : ExitCode.halted, `authentication failed: ${error.message}; nothing was selected or deleted`);
  }
}

/** The set's items, each removed as it is taken: memory shrinks as the run goes on. */
function* draining<T>(set: Set<T>): Generator<T> {
  for (const item of set) {
    set.delete(item);
    yield item;
  }
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

