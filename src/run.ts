import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditJournal, type OrderRecord, type RetryRecord } from './audit/journal.js';
import { readResumeState, type ResumeState, type SourceRecord } from './audit/resume-state.js';
import { RunLock } from './audit/run-lock.js';
import type { RunOptions } from './config.js';
import { Backoff } from './engine/backoff.js';
import { dispatch } from './engine/dispatch.js';
import { HaltPolicy } from './engine/halt-policy.js';
import { MemoryGovernor } from './engine/memory-governor.js';
import { deleteWithRetry } from './engine/order-deleter.js';
import { RateLimiter } from './engine/rate-limiter.js';
import type { RequestDeps } from './engine/retrying-request.js';
import type { RunControl } from './engine/run-control.js';
import { CleanupError, ExitCode, usageError } from './common/errors.js';
import { TokenError, TokenSource } from './exsited/auth.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { createHttpClient, destroyAgents } from './exsited/http.js';
import { canPrompt, confirmDeletion, exceedsMaxDeletes } from './guards.js';
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
  source: SourceRecord & Record<string, unknown>;
}

const FAILURES_SHOWN = 10;
const FILTER_COLUMN = 'order_id';

/**
 * One run: resolve the host and the input (a file, stdin, or a filter's selection written to a
 * manifest), validate the whole input, apply the guards, then delete, journaling every outcome.
 * Everything that can be refused is refused before the first DELETE.
 */
export async function runCleanup(options: RunOptions, control: RunControl): Promise<ExitCode> {
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const auditLog = options.auditLog ?? newAuditLogPath(options.auditDir ?? 'runs', new Date(startedAt), runId);
  const lock = new RunLock(auditLog, runId);
  lock.acquire();
  try {
    return await runLocked(options, control, { startedAt, runId, auditLog });
  } finally {
    lock.release();
  }
}

async function runLocked(options: RunOptions, control: RunControl, run: RunIdentity): Promise<ExitCode> {
  const resume = options.resume ? await readResumeState(run.auditLog) : undefined;
  if (options.resume && !resume) {
    // Killed before its run.start, a run sent nothing: with its input given again, it simply starts.
    if (!options.ids && !options.filter) {
      throw usageError(`--resume: ${run.auditLog} records no run yet; give --ids or --filter to start it`);
    }
    say(`${run.auditLog} records no run yet (a run killed before it started leaves it so): starting afresh.`, 'warn');
  }
  if (resume?.unreadableLines.length) {
    say(`${run.auditLog}: ignored ${resume.unreadableLines.length} unreadable line(s) (line ${resume.unreadableLines.slice(0, 5).join(', ')}): ` +
      'a write torn by a killed run; the orders on them are treated as not finished', 'warn');
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
    if (!input) {
      say(`Stopped while selecting orders (${control.reason?.kind === 'signal' ? control.reason.signal : 'halted'}); nothing was deleted.`);
      return control.reason?.kind === 'signal' ? signalExit(control.reason.signal) : ExitCode.halted;
    }
    return await execute(options, api, run, input, displayBaseUrl(baseUrl), resume);
  } finally {
    destroyAgents(http);
  }
}

/** The orders to process, validated (pass one): from --ids, from a filter's selection, or as recorded. */
async function prepareInput(options: RunOptions, resume: ResumeState | undefined, api: Api, run: RunIdentity): Promise<PreparedInput | undefined> {
  let spec: IdFileSpec;
  let extra: Record<string, unknown> = {};
  let spooled = false;
  if (options.filter) {
    if (resume) throw usageError('--filter cannot be combined with --resume of a started run: it deletes from its manifest and never lists again');
    // Loaded only for filter runs: the schema library costs ~90 ms of start-up that ID-file runs need not pay.
    const [{ readFilter }, { selectOrders }] = await Promise.all([import('./sources/filter-spec.js'), import('./sources/filter-selection.js')]);
    const filter = readFilter(options.filter);
    await authenticate(api.tokens, api.control);
    say(`Selecting orders with ${options.filter} …`);
    const selection = await selectOrders(filter, `${run.auditLog.replace(/\.ndjson$/, '')}.manifest.csv`, api);
    if (!selection) return undefined;
    say(`Selected ${selection.selected} of ${selection.listed} orders listed (${selection.pages} pages); manifest: ${selection.manifestPath}`);
    spec = { path: selection.manifestPath, format: 'csv', column: FILTER_COLUMN };
    extra = { filter: { path: options.filter, sha256: filter.sha256, match: filter.match }, listed: selection.listed, pages: selection.pages };
  } else if (options.ids === '-') {
    const path = await spoolStdin(`${run.auditLog}.${run.runId}.stdin`);
    spec = { path, format: idFileFormat(path, options.format ?? 'text'), column: options.column };
    spooled = true;
    extra = { stdin: true };
  } else if (options.ids) {
    spec = { path: options.ids, format: idFileFormat(options.ids, options.format), column: options.column ?? resume?.source.column };
  } else if (resume) {
    const { path, kind, column, sha256: _sha256, count: _count, ...recorded } = resume.source as SourceRecord & Record<string, unknown>;
    spec = { path, format: kind === 'filter' ? 'csv' : idFileFormat(path, options.format ?? kind), column: options.column ?? column };
    extra = recorded; // where the input came from (stdin, a filter's selection) stays on record
  } else {
    throw usageError('--ids or --filter is required');
  }

  const idPattern = options.idPattern ?? resume?.source.idPattern;
  const recordedShard = resume?.source.shard;
  const shard = options.shard ?? (recordedShard ? parseShard(recordedShard) : undefined);
  if (recordedShard && shard && shardText(shard) !== recordedShard && !options.force) {
    throw usageError(`--resume: the run in ${run.auditLog} was shard ${recordedShard}, not ${shardText(shard)}; pass --force to change it`);
  }
  let scanned: ScannedSource;
  try {
    scanned = await scanSource(spec, orderIdValidator(idPattern), resume?.finished ?? new Map(), shard ? shardFilter(shard) : undefined);
  } catch (error) {
    if (spooled) await rm(spec.path, { force: true });
    throw error;
  }
  if (resume && scanned.sha256 !== resume.source.sha256 && !options.force) {
    throw usageError(`--resume: ${spec.path} is not the input the run started with (sha256 ${scanned.sha256.slice(0, 12)}… ` +
      `differs from the recorded ${resume.source.sha256.slice(0, 12)}…); pass --force to resume with it anyway`);
  }
  resume?.finished.clear();
  const kind: SourceRecord['kind'] = options.filter || (!options.ids && resume?.source.kind === 'filter') ? 'filter' : spec.format;
  const source = {
    ...extra, kind, path: spec.path, sha256: scanned.sha256, count: scanned.unique, rows: scanned.rows, duplicates: scanned.duplicates,
    ...(spec.column ? { column: spec.column } : {}), ...(idPattern ? { idPattern } : {}),
    ...(shard ? { shard: shardText(shard), otherShards: scanned.otherShards } : {}),
  };
  return { spec, scanned, source };
}

/** Journal, guards, authentication, the deletions, and the end of the run. */
async function execute(
  options: RunOptions, api: Api, run: RunIdentity, input: PreparedInput, baseUrl: string, resume: ResumeState | undefined,
): Promise<ExitCode> {
  const { control } = api;
  const { scanned } = input;
  const journal = new AuditJournal(run.auditLog, run.runId);
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
    journal.end({ status, exitCode, durationMs, summary, resources, ...(reason ? { reason } : {}) });
    const outcome = { runId: run.runId, status, exitCode, durationMs, auditLog: run.auditLog, summary, ...(reason ? { reason } : {}) };
    if (options.summaryJson) writeSummaryJson(options.summaryJson, outcome);
    if (options.stepSummary) appendStepSummary(options.stepSummary, outcome);
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
  if (tooMany && !options.dryRun) return finish('failed', ExitCode.refused, tooMany);
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
        (tooMany ? ` A real run would be refused: ${tooMany}` : '') +
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
