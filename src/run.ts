import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { AuditJournal } from './audit/journal.js';
import { RunLock } from './audit/run-lock.js';
import type { RunStatus } from './common/domain.js';
import { ExitCode, refusal as refused, usageError } from './common/errors.js';
import { describeFileError, prepareOutputFile } from './common/files.js';
import { recordedOptions, withRecorded, type RunOptions } from './config/resolve.js';
import { Backoff } from './engine/backoff.js';
import { RunEvents } from './engine/events.js';
import { RateController } from './engine/rate-controller.js';
import { RetryBudget } from './engine/retry-budget.js';
import { RetryPolicy } from './engine/retry-policy.js';
import type { RunControl } from './engine/run-control.js';
import { RunTally, ratePerSecond } from './engine/tally.js';
import { TokenSource } from './exsited/auth.js';
import { checkBaseUrl, DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { confirmDeletion, personPresent, type Terminal } from './guards/confirmation.js';
import { checkCredentials } from './guards/credentials.js';
import { exceedsMaxDeletes, selectsEverything } from './guards/limits.js';
import { prepareInput } from './planner/input.js';
import { chooseAuditLog, openRecordedRun } from './planner/recorded-run.js';
import type { SelectionDeps } from './planner/selection.js';
import type { Console } from './report/console.js';
import { reportNotices, reportToConsole, type NextSteps } from './report/console-reporter.js';
import { reportProgress } from './report/progress.js';
import { writeSummaryFiles } from './report/summary-files.js';
import { VERSION } from './common/version.js';

export type { Terminal };

/** What a run needs from the command line around it. */
export interface RunContext {
  control: RunControl;
  console: Console;
  terminal: Terminal;
  /** How the person started this tool (`exsited-order-cleanup`, `npx exsited-order-cleanup`, `node dist/cli.js`): printed commands say the same. */
  command: string;
}

/**
 * One run, composed: the person's consent settled, the log chosen and locked, every output checked, the
 * recorded run read (a resume continues it, with its own options), the input prepared and validated, the
 * client made and the credentials checked, the guards applied, then the run started, the orders deleted,
 * and the run ended. What happens is told through run events to the journal, the console, the progress
 * line and the summary files. Everything that can be refused is refused before the first DELETE; every
 * output path is checked, and the credentials too, before anything is recorded.
 */
export async function runCleanup(requested: RunOptions, context: RunContext): Promise<ExitCode> {
  const { control, console, terminal, command } = context;
  if (!requested.dryRun && !requested.yes && !personPresent(terminal)) {
    throw refused('nobody is at a terminal to confirm the deletion: pass --yes (or "yes": true in the job spec) to delete without ' +
      'asking, or --dry-run to see what would be deleted; nothing was sent');
  }
  const startedAt = Date.now();
  const runId = randomBytes(6).toString('hex');
  const auditLog = await chooseAuditLog(requested, runId, new Date(startedAt), command);
  prepareOutputFile(auditLog, 'the audit log');
  if (requested.summaryJson) prepareOutputFile(requested.summaryJson, '--summary-json');
  if (requested.htmlReport) prepareOutputFile(requested.htmlReport, '--html-report');
  if (requested.stepSummary) prepareOutputFile(requested.stepSummary, '$GITHUB_STEP_SUMMARY');
  const lock = new RunLock(auditLog, runId);
  await lock.acquire();
  const events = new RunEvents();
  reportNotices(events, console);
  const api = lazyApi();
  let metrics: { flush: () => Promise<void> } | undefined;
  /** The run started: its audit log holds it, and an --html-report can be made of it. */
  let recorded = false;
  try {
    const resume = await openRecordedRun(requested, auditLog, events, command);
    // A resume continues the recorded run: its options, unless given again.
    const options = resume ? withRecorded(requested, resume.start.options) : requested;
    control.configure({ graceMs: options.graceMs, deadlineMs: options.maxDuration });
    const baseUrl = checkBaseUrl(options.baseUrl ?? resume?.baseUrl ?? DEFAULT_BASE_URL, options.allowedHosts);
    if (resume && displayBaseUrl(baseUrl) !== resume.baseUrl && !options.force) {
      throw usageError(`--resume: the run in ${auditLog} was against ${resume.baseUrl}, not ${displayBaseUrl(baseUrl)}; ` +
        'omit --base-url (and EXSITED_BASE_URL) to use the recorded one, or pass --force; nothing was sent');
    }
    const host = displayBaseUrl(baseUrl);
    // Checked before anything is sent: a cache others can read, or a folder that does not exist, is refused now.
    const tokenCache = options.tokenCache && options.credentials.kind === 'client_credentials'
      ? (await import('./exsited/token-cache.js')).TokenCache.open(options.tokenCache, baseUrl.origin, options.credentials.clientId)
      : undefined;
    const rate = new RateController({
      cap: options.rps, onDecision: (decision) => events.emit({ type: 'throttle', decision }), onPace: (rps) => events.emit({ type: 'pace', rps }),
      onRefused: (message) => control.stop({ kind: 'halt', exitCode: ExitCode.halted, message }),
    });
    const budget = new RetryBudget({ onChange: (change) => events.emit({ type: 'service', change }) });
    const slots = pLimit(options.concurrency);
    const makeApi = () => api.make(async () => {
      // The HTTP machinery (axios: ~150 ms) is loaded only once the input is valid and a request is due.
      const { createHttpClient } = await import('./exsited/http.js');
      const http = createHttpClient({ baseUrl, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
      const backoff = new Backoff({ retries: options.retries, baseMs: options.backoffBaseMs, capMs: options.backoffCapMs });
      // Token requests may finish during the grace period (orders in flight need them); other calls stop with the run.
      const tokenRetries = new RetryPolicy(backoff, control.aborting);
      const tokens = new TokenSource(http, options.credentials, (attempt) => {
        let retry = 0;
        return tokenRetries.run(attempt, ({ httpStatus, errorCode, delayMs }) => events.emit({
          type: 'notice', level: 'warn',
          text: `${httpStatus ? `the token endpoint on ${host} answered ${httpStatus}` : `cannot connect to ${baseUrl.host} (${errorCode})`}; ` +
            `retrying ${++retry}/${options.retries} in ${(delayMs / 1000).toFixed(1)} s`,
        }));
      }, { cache: tokenCache, onNotice: (text) => events.emit({ type: 'notice', level: 'warn', text }) });
      return { http, tokens, retry: new RetryPolicy(backoff, control.stopping), rate, slots, budget, control, events };
    });

    const input = await prepareInput(options, resume, { runId, auditLog, control, events, api: makeApi, stdin: terminal.stdin });
    const stoppedEarly = () => {
      const signal = control.reason?.kind === 'signal' ? control.reason.signal : undefined;
      // A halt while the orders were still being listed (a deadline, a server refusing this client) says why.
      const why = control.reason?.kind === 'halt' ? `: ${control.reason.message}` : '';
      console.say(`Stopped${signal ? ` by ${signal}` : ''} before any order was deleted; ${api.made()?.tokens.requested ? 'nothing was deleted' : 'nothing was sent'}${why}.`);
      return signal === 'SIGINT' ? ExitCode.sigint : signal === 'SIGTERM' ? ExitCode.sigterm : ExitCode.halted;
    };
    if (!input || control.stopping.aborted) return stoppedEarly();
    const { scanned } = input;
    const count = scanned.pending.size;
    const everything = selectsEverything(input.source, new URL(host).host);
    const tooMany = exceedsMaxDeletes(count, options.maxDeletes);
    const refusal = everything ? { reason: everything } : tooMany ? { reason: tooMany, raiseMaxDeletesTo: count } : undefined;
    let waitedMs = 0;
    const metricsWanted = !!(options.metricsPush || options.metricsFile);
    if (options.metricsFile) prepareOutputFile(options.metricsFile, '--metrics-file');
    // prom-client is loaded only by runs that report metrics.
    const metricsModule = metricsWanted ? await import('./report/metrics.js') : undefined;

    /** The run starts: from now on it is recorded, and every outcome is in its audit log. */
    const start = () => {
      const tally = new RunTally(scanned.unique, scanned.skipped, events);
      // The journal subscribes first: an order's line is written before anything else hears of it.
      const journal = new AuditJournal(auditLog, runId, (error) => control.stop({
        kind: 'halt', exitCode: ExitCode.halted,
        message: `the audit log ${auditLog} could not be written (${describeFileError(error)}): stopped, since an order without its line ` +
          'would be lost. Free the space (or raise the limit), then resume; orders deleted since the last line written are found already absent',
      }));
      const { ended } = journal.attach(events);
      const next: NextSteps = { command, auditLog, options, refusal };
      reportToConsole(events, console, tally, { dryRun: options.dryRun, duplicates: () => scanned.duplicates, next });
      reportProgress(events, console, tally, {
        intervalMs: options.progressInterval, throttledMs: () => rate.throttledMs,
        state: () => paceState(rate, budget, api.made()?.retry.waiting ?? 0),
      });
      writeSummaryFiles(events, console, { json: options.summaryJson, stepSummary: options.stepSummary, htmlReport: options.htmlReport });
      recorded = true;
      metrics = metricsModule?.reportMetrics(events, console, {
        push: options.metricsPush, pushToken: options.metricsPushToken, file: options.metricsFile, job: options.metricsJob,
        shard: options.shard ? `${options.shard.index}_of_${options.shard.count}` : 'all', intervalMs: options.metricsInterval,
        rate: () => rate.rateAt(), throttledMs: () => rate.throttledMs,
      });
      events.emit({
        type: 'run.started', runId, auditLog, startedAt,
        fields: {
          version: VERSION, source: input.source, baseUrl: host,
          options: { ...recordedOptions(options), dryRun: options.dryRun, force: options.force, allowHosts: options.allowHost, auth: options.credentials.kind },
          ...(resume ? { resumeOf: resume.resumeOf, skipped: scanned.skipped } : {}),
        },
      });
      const end = (status: RunStatus, exitCode: ExitCode, reason?: string): ExitCode => {
        // Time spent waiting for the person's answer is not run time.
        const durationMs = Date.now() - startedAt - waitedMs;
        tally.summary.throttledMs = rate.throttledMs;
        if (!options.dryRun) tally.summary.throttling = throttlingSummary(rate, budget);
        const tokens = api.made()?.tokens;
        if (tokens && !tokens.preIssued) tally.summary.tokens = { obtained: tokens.renewals, shared: tokens.shared };
        tally.summary.ratePerSecond = options.dryRun ? 0 : ratePerSecond(tally.summary, durationMs);
        const usage = process.resourceUsage();
        const resources = { maxRssMb: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) };
        events.emit({ type: 'run.ended', outcome: { runId, status, exitCode, durationMs, auditLog, summary: tally.summary, resources, ...(reason ? { reason } : {}) } });
        if (!ended()) console.say(`The audit log ${auditLog} could not record the end of this run: the resume will find it unfinished.`, 'warn');
        return exitCode;
      };
      return { tally, end };
    };

    // A guard's refusal needs no request: it is recorded (a resume with the limit raised continues from the same selection).
    if (refusal && !options.dryRun) return start().end('failed', ExitCode.refused, refusal.reason);
    const deps = await makeApi();
    const checked = await checkCredentials(deps, host, options.dryRun && input.source.kind !== 'filter');
    if (control.stopping.aborted) return stoppedEarly();
    events.emit({ type: 'notice', level: 'info', text: checked });
    if (!refusal && !options.dryRun && !options.yes && count > 0) {
      const asked = Date.now();
      const answer = await confirmDeletion({
        host: new URL(host).host, count, sample: [...take(scanned.pending, 5)], manifest: input.source.kind === 'filter' ? input.spec.path : undefined,
        details: input.details,
      }, terminal, options.ids === '-', control.stopping);
      waitedMs = Date.now() - asked;
      if (!answer.confirmed) {
        throw refused(answer.typed === undefined
          ? `not confirmed (${control.reason?.kind === 'signal' ? 'Ctrl-C' : 'no answer'}). Nothing was deleted.`
          : `not confirmed: you typed ${answer.typed === '' ? 'nothing' : JSON.stringify(answer.typed)}, the count is ${count}. Nothing was deleted.`);
      }
    }

    const { tally, end } = start();
    try {
      const { executeDeletions } = await import('./engine/executor.js');
      await executeDeletions({ pending: scanned.pending, dryRun: options.dryRun, concurrency: options.concurrency, haltAfter: options.haltAfter }, { ...deps, tally });
    } catch (error) {
      // A bug, not a halt: recorded as crashed (exit 70), which --auto-resume leaves for a person.
      return end('crashed', ExitCode.internal, `internal error, a bug in this tool: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { status, exitCode, reason } = conclude(tally.summary.failed, control);
    return end(status, exitCode, reason);
  } finally {
    await metrics?.flush(); // bounded: a push or a write gives up after 3 s
    if (recorded && requested.htmlReport) {
      const { writeRunPage } = await import('./report/report-files.js');
      await writeRunPage(auditLog, requested.htmlReport, { command, version: VERSION }, console);
    }
    await api.destroy();
    await lock.release();
  }
}

/** What holds the run back right now, for the progress line: `paced at 92/s (the server throttled), 3 waiting to retry`. */
function paceState(rate: RateController, budget: RetryBudget, waiting: number): string {
  const now = rate.rateAt();
  return [
    rate.paused ? 'throttled by the server: everyone waits' : rate.ceilingRps !== undefined && Number.isFinite(now) ? `paced at ${Math.round(now)}/s (the server throttled)` : '',
    budget.spent() ? 'the service is failing: a probe a second' : '',
    waiting > 0 ? `${waiting} waiting to retry` : '',
  ].filter(Boolean).join(', ');
}

function throttlingSummary(rate: RateController, budget: RetryBudget) {
  const round = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : Math.round(n * 10) / 10);
  return {
    requests: rate.answers, throttled: rate.throttledAnswers, cuts: rate.cuts,
    ceilingRps: round(rate.ceilingRps), finalRps: round(rate.rateAt()), budgetHeldMs: budget.heldMs,
  };
}

function conclude(failed: number, control: RunControl): { status: RunStatus; exitCode: ExitCode; reason?: string } {
  const stop = control.reason;
  if (stop?.kind === 'signal') return { status: 'interrupted', exitCode: stop.signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm, reason: `received ${stop.signal}` };
  if (stop?.kind === 'halt') return { status: stop.exitCode === ExitCode.refused ? 'failed' : 'halted', exitCode: stop.exitCode, reason: stop.message };
  if (failed > 0) return { status: 'failed', exitCode: ExitCode.someFailed };
  return { status: 'completed', exitCode: ExitCode.ok };
}

/** The API client: made on first use (a run refused for its input never loads the HTTP machinery), closed at the end. */
function lazyApi() {
  let made: SelectionDeps | undefined;
  let making: Promise<SelectionDeps> | undefined;
  return {
    make: (create: () => Promise<SelectionDeps>) => (making ??= create().then((api) => (made = api))),
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
