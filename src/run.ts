import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditJournal, type OrderRecord } from './audit/journal.js';
import { readResumeState, type ResumeState, type SourceRecord } from './audit/resume-state.js';
import { RunLock } from './audit/run-lock.js';
import type { RunOptions } from './config.js';
import { dispatch } from './engine/dispatch.js';
import { Backoff, type Sleep } from './engine/backoff.js';
import { HaltPolicy } from './engine/halt-policy.js';
import { deleteWithRetry } from './engine/order-deleter.js';
import { RateLimiter } from './engine/rate-limiter.js';
import type { RunControl } from './engine/run-control.js';
import { ExitCode, usageError } from './errors.js';
import { TokenError, TokenSource } from './exsited/auth.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { createHttpClient, destroyAgents } from './exsited/http.js';
import { countOutcome, emptySummary, formatSummary, ratePerSecond, type RunSummary } from './report/summary.js';
import { say, shellQuote } from './report/terminal.js';
import { idFileFormat, type IdFileSpec } from './sources/id-file.js';
import { orderIdValidator } from './sources/order-id.js';
import { scanSource } from './sources/scan.js';
import { spoolStdin } from './sources/stdin-spool.js';
import { VERSION } from './version.js';

export interface RunDeps {
  stdin?: NodeJS.ReadableStream;
  /** Backoff randomness and sleeping, injectable for tests. */
  random?: () => number;
  sleep?: Sleep;
}

const FAILURES_SHOWN = 10;

/**
 * One run: resolve the input and the host, validate the whole input, then authenticate and delete,
 * journaling every outcome. Everything that can be refused is refused before the first request.
 */
export async function runCleanup(options: RunOptions, control: RunControl, deps: RunDeps = {}): Promise<ExitCode> {
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const auditLog = options.auditLog ?? defaultAuditLogPath(new Date(startedAt), runId);
  const lock = new RunLock(auditLog, runId);
  lock.acquire();
  try {
    return await runLocked(options, control, deps, { startedAt, runId, auditLog });
  } finally {
    lock.release();
  }
}

async function runLocked(options: RunOptions, control: RunControl, deps: RunDeps, run: { startedAt: number; runId: string; auditLog: string }): Promise<ExitCode> {
  const { startedAt, runId, auditLog } = run;
  const resume = options.resume ? await readResumeState(auditLog) : undefined;
  if (resume?.unreadableLines.length) {
    say(`warning: ${auditLog}: ignored ${resume.unreadableLines.length} unreadable line(s) (line ${resume.unreadableLines.slice(0, 5).join(', ')}): ` +
      'a write torn by a killed run; the orders on them are treated as not finished');
  }

  const baseUrl = checkBaseUrl(options.baseUrl ?? resume?.baseUrl ?? DEFAULT_BASE_URL, options.allowedHosts);
  if (resume && displayBaseUrl(baseUrl) !== resume.baseUrl && !options.force) {
    throw usageError(`--resume: the run in ${auditLog} was against ${resume.baseUrl}, not ${displayBaseUrl(baseUrl)}; ` +
      'omit --base-url (and EXSITED_BASE_URL) to use the recorded one, or pass --force');
  }

  const { spec, stdin, spooled } = await resolveSource(options, resume, auditLog, runId, deps.stdin);
  const idPattern = options.idPattern ?? resume?.source.idPattern;
  let scanned;
  try {
    scanned = await scanSource(spec, orderIdValidator(idPattern), resume?.finished ?? new Set());
  } catch (error) {
    if (spooled) await rm(spec.path, { force: true });
    throw error;
  }
  if (resume && scanned.sha256 !== resume.source.sha256 && !options.force) {
    throw usageError(`--resume: ${spec.path} is not the input the run started with (sha256 ${scanned.sha256.slice(0, 12)}… ` +
      `differs from the recorded ${resume.source.sha256.slice(0, 12)}…); pass --force to resume with it anyway`);
  }
  resume?.finished.clear();

  const journal = new AuditJournal(auditLog, runId);
  say(`Audit log: ${auditLog}`);
  const source: SourceRecord = {
    kind: spec.format, path: spec.path, sha256: scanned.sha256, count: scanned.unique,
    ...(stdin ? { stdin: true } : {}), ...(spec.column ? { column: spec.column } : {}), ...(idPattern ? { idPattern } : {}),
  };
  journal.start({
    version: VERSION,
    source: { ...source, rows: scanned.rows, duplicates: scanned.duplicates },
    baseUrl: displayBaseUrl(baseUrl),
    options: {
      dryRun: options.dryRun, concurrency: options.concurrency, retries: options.retries, timeoutMs: options.timeoutMs,
      backoffBaseMs: options.backoffBaseMs, backoffCapMs: options.backoffCapMs, graceMs: options.graceMs,
      rps: options.rps ?? null, haltAfter: options.haltAfter, maxDurationMs: options.maxDurationMs ?? null,
      force: options.force, allowHosts: options.allowHostFlags, auth: options.credentials.kind,
    },
    ...(resume ? { resumeOf: resume.resumeOf, skipped: scanned.skipped } : {}),
  });

  const summary = emptySummary(scanned.unique, scanned.skipped);
  const failures: OrderRecord[] = [];
  const haltPolicy = new HaltPolicy(options.haltAfter);
  const record = (entry: OrderRecord) => {
    journal.order(entry);
    countOutcome(summary, entry);
    if (entry.outcome === 'failed' && failures.length < FAILURES_SHOWN) failures.push(entry);
    const haltReason = haltPolicy.observe(entry);
    if (haltReason) control.stop({ kind: 'halt', message: haltReason, exitCode: ExitCode.halted });
  };
  const deadline = options.maxDurationMs === undefined ? undefined : setTimeout(() => control.stop({
    kind: 'halt', exitCode: ExitCode.halted,
    message: `the --max-duration deadline (${options.maxDurationMs} ms) was reached; resume to continue`,
  }), Math.max(0, startedAt + options.maxDurationMs - Date.now())).unref();
  const http = createHttpClient({ baseUrl, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
  const backoff = new Backoff({
    retries: options.retries, baseMs: options.backoffBaseMs, capMs: options.backoffCapMs, random: deps.random, sleep: deps.sleep,
  });
  const tokens = new TokenSource(http, options.credentials, backoff);
  const limiter = new RateLimiter({ rps: options.rps, burst: options.concurrency });
  const halt = (error: TokenError) => {
    const nothingDone = summary.deleted + summary.alreadyAbsent + summary.failed === 0;
    control.stop({ kind: 'halt', message: `authentication failed: ${error.message}`, exitCode: error.rejected && nothingDone ? 3 : 4 });
  };

  try {
    await tokens.get(control.aborting);
    if (options.dryRun) {
      for (const orderId of scanned.pending) {
        if (control.stopping.aborted) break;
        record({ orderId, outcome: 'would_delete', httpStatus: null, attempts: 0, durationMs: 0 });
      }
    } else {
      await dispatch(scanned.pending, options.concurrency, async (orderId) => {
        try {
          const entry = await deleteWithRetry(orderId, {
            http, tokens, backoff, limiter, control, onRetry: (retry) => { summary.retries++; journal.retry(retry); },
          });
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
    clearTimeout(deadline);
    destroyAgents(http);
    control.dispose();
  }

  const { status, exitCode, reason } = conclude(summary, control);
  const durationMs = Date.now() - startedAt;
  summary.throttledMs = limiter.throttledMs;
  summary.ratePerSecond = ratePerSecond(summary, durationMs);
  journal.end({ status, exitCode, durationMs, summary, ...(reason ? { reason } : {}) });
  say(formatSummary(summary, {
    runId, status, durationMs, auditLog, duplicates: scanned.duplicates, firstFailures: failures,
    failuresNotShown: summary.failed - failures.length,
  }));
  if (reason) say(`Stopped: ${reason}`);
  if (exitCode !== ExitCode.ok) {
    const allowHosts = options.allowHostFlags.flatMap((host) => ['--allow-host', shellQuote(host)]);
    say(`To resume: exsited-order-cleanup run --resume --audit-log ${[shellQuote(auditLog), ...allowHosts].join(' ')}`);
  }
  return exitCode;
}

function conclude(summary: RunSummary, control: RunControl): { status: string; exitCode: ExitCode; reason?: string } {
  const stop = control.reason;
  if (stop?.kind === 'signal') {
    return { status: 'interrupted', exitCode: stop.signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm, reason: `received ${stop.signal}` };
  }
  if (stop?.kind === 'halt') return { status: stop.exitCode === 3 ? 'failed' : 'halted', exitCode: stop.exitCode, reason: stop.message };
  if (summary.failed > 0) return { status: 'failed', exitCode: ExitCode.someFailed };
  return { status: 'completed', exitCode: ExitCode.ok };
}

/** The input of this run: --ids (stdin spooled beside the audit log), or the one the resumed run recorded. */
async function resolveSource(options: RunOptions, resume: ResumeState | undefined, auditLog: string, runId: string, stdin?: NodeJS.ReadableStream): Promise<{ spec: IdFileSpec; stdin: boolean; spooled: boolean }> {
  const column = options.column ?? resume?.source.column;
  if (options.ids === '-') {
    const path = await spoolStdin(`${auditLog}.${runId}.stdin`, stdin);
    return { spec: { path, format: idFileFormat(path, options.format ?? 'text'), column }, stdin: true, spooled: true };
  }
  if (options.ids) return { spec: { path: options.ids, format: idFileFormat(options.ids, options.format), column }, stdin: false, spooled: false };
  if (!resume) throw usageError('--ids is required');
  const { path, kind } = resume.source;
  return { spec: { path, format: idFileFormat(path, options.format ?? kind), column }, stdin: !!resume.source.stdin, spooled: false };
}

/** runs/20261127T101500Z-<runId>.ndjson, relative to the working directory. */
function defaultAuditLogPath(at: Date, runId: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join('runs', `${stamp}-${runId}.ndjson`);
}
