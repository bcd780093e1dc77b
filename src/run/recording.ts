import { AuditJournal } from '../audit/journal.js';
import { sameInput, type RunStatus, type StopCause } from '../common/domain.js';
import { ExitCode } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { VERSION } from '../common/version.js';
import { recordedOptions } from '../config/resolve.js';
import type { RunStartFields } from '../common/records.js';
import { RunTally, ratePerSecond } from '../engine/tally.js';
import { personPresent } from '../guards/confirmation.js';
import { identityOf, jobIdentity } from '../planner/job-identity.js';
import { reportToConsole } from '../report/console-reporter.js';
import { reportLiveWarnings } from '../report/live-warnings.js';
import { reportProgress } from '../report/progress.js';
import type { KnownEnd, RunReport } from '../report/run-report.js';
import type { StoryEnd } from '../report/run-story.js';
import type { RunContext } from './context.js';
import type { OpenedLog, RecordedRun } from './open.js';
import type { RunPlan } from './plan.js';
import type { LazyApi, Pace } from './request-deps.js';
import { RunTelling } from './telling.js';
import type { RunOutcome } from '../engine/events.js';

/** How a run ended: its run.end status, exit code and, for an early stop, why. */
export interface Conclusion {
  status: RunStatus;
  exitCode: ExitCode;
  /** Why, in a fixed set of words (common/domain's STOP_CAUSES). */
  cause: StopCause;
  reason?: string;
}

/**
 * A run's recording: from `start` on, the run is in its audit log and every outcome with it. The journal
 * subscribes to the run's events first — an order's line is in the file before anything else hears of it
 * (the console, the progress line, the summary files, the metrics, in that order) — and `end` writes
 * run.end, whose exit code is the process's from then on. `finish` makes what is made of the recorded run
 * (the last metrics, the HTML page); a run refused or stopped before it started records nothing.
 */
export class RunRecording {
  private tally: RunTally | undefined;
  private journalEnded: () => boolean = () => false;
  private metrics: { end: (story: RunReport, end: StoryEnd) => void; flush: () => Promise<void> } | undefined;
  private waitedMs = 0;
  private ended: KnownEnd | undefined;
  private outcome: RunOutcome | undefined;
  private telling: RunTelling | undefined;

  constructor(
    private readonly log: OpenedLog,
    private readonly run: RecordedRun,
    private readonly plan: RunPlan,
    private readonly pace: Pace,
    private readonly api: LazyApi,
    private readonly context: RunContext,
  ) {}

  get started(): boolean {
    return this.tally !== undefined;
  }

  get counts(): RunTally {
    if (!this.tally) throw new Error('the run has not started');
    return this.tally;
  }

  /** The run starts: recorded from now on. `waitedMs`, the time at the question, is not run time. */
  async start(waitedMs = 0): Promise<RunTally> {
    const { log, run, plan, context } = this;
    const { events, auditLog, runId } = log;
    const { options } = run;
    const { scanned } = plan.input;
    this.waitedMs = waitedMs;
    // prom-client is loaded only by runs that report metrics.
    const metricsModule = options.metricsPush || options.metricsFile ? await import('../report/metrics.js') : undefined;
    const tally = (this.tally = new RunTally(scanned.unique, scanned.skipped, events));
    const journal = new AuditJournal(auditLog, runId, (error) => context.control.stop({
      kind: 'halt', exitCode: ExitCode.halted, cause: 'audit_log',
      message: `the audit log ${auditLog} could not be written (${describeFileError(error)}): stopped, since an order without its line ` +
        'would be lost. Free the space (or raise the limit), then resume; orders deleted since the last line written are found already absent',
    }), log.realLog);
    this.journalEnded = journal.attach(events).ended; // first: the record is written before anyone else hears
    // Before anyone who speaks at the run's end: the progress line is cleared first (after it, every sentence
    // said redrew a bar drawn before the end, stale, after the summary).
    reportProgress(events, context.console, tally, {
      intervalMs: options.progressInterval,
      throttling: () => this.throttlingNow(), state: () => paceState(this.pace, this.api.current?.retry.waiting ?? 0),
    });
    reportLiveWarnings(events, context.console); // before the summary: what it still holds back is said first
    reportToConsole(events, context.console, tally, {
      // What run.start records of them too: the report of this log builds the same next step. Only a chain's
      // first dry run of a list decides what its resumes delete; a dry resume does not (red team: "exactly these", then more).
      dryRun: options.dryRun, checksOrders: options.dryRun && plan.input.source.kind !== 'filter' && run.resume === undefined, resumed: run.resume !== undefined, duplicates: () => scanned.duplicates,
      next: { command: context.command, allowHosts: options.allowHost, yes: options.yes, ...(plan.refusal ? { refusal: plan.refusal } : {}) },
    });
    this.metrics = metricsModule?.reportMetrics(events, context.console, {
      push: options.metricsPush, pushToken: options.metricsPushToken, file: options.metricsFile, job: options.metricsJob,
      shard: options.shard ? `${options.shard.index}_of_${options.shard.count}` : 'all', dryRun: options.dryRun, intervalMs: options.metricsInterval,
      rate: () => this.pace.rate.rateAt(), carried: context.night?.story, input: plan.input.source,
      throttling: () => this.throttlingNow(),
    });
    events.emit({ type: 'run.started', runId, auditLog, startedAt: log.startedAt, fields: this.startFields() });
    this.telling = new RunTelling({
      auditLog, runId, startedAt: log.startedAt, options, resume: run.resume !== undefined, fields: () => this.startFields(), metrics: this.metrics,
    }, context);
    this.telling.recording(); // run.start is in the log: the file the story is read back from
    this.recordStop();
    return tally;
  }

  /** Writes run.end; its exit code is the process's from now on. */
  end({ status, exitCode, cause, reason }: Conclusion): ExitCode {
    const { log, run, pace, context } = this;
    const tally = this.counts;
    const durationMs = Date.now() - log.startedAt - this.waitedMs;
    const { summary } = tally;
    summary.throttledMs = pace.rate.throttledMs;
    if (!run.options.dryRun) summary.throttling = throttlingSummary(pace);
    const tokens = this.api.current?.tokens.counts;
    if (tokens) summary.tokens = tokens;
    summary.ratePerSecond = run.options.dryRun ? 0 : ratePerSecond(summary, durationMs);
    const usage = process.resourceUsage();
    const resources = { maxRssMb: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) };
    context.control.endedWith = exitCode;
    this.ended = { runId: log.runId, status, exitCode, durationMs, cause, ...(reason ? { reason } : {}) };
    this.outcome = { runId: log.runId, status, exitCode, durationMs, auditLog: log.auditLog, summary, resources, dryRun: run.options.dryRun, stopCause: cause, ...(reason ? { reason } : {}) };
    log.events.emit({ type: 'run.ended', outcome: this.outcome });
    this.telling?.ended(this.outcome); // the run's own story at once: nothing earlier is left looking current
    if (!this.journalEnded()) context.console.say(`The audit log ${log.auditLog} could not record the end of this run: the resume will find it unfinished.`, 'warn');
    return exitCode;
  }

  /**
   * What is made of the recorded run (run/telling): its story read back from its log, told by the summary
   * files, the page, the last metrics and the console. Bounded: a push or a pipe's write gives up after 3 s.
   */
  async finish(): Promise<void> {
    if (this.ended && this.outcome && this.telling) {
      // Never a rejection here: the run has ended, its exit code is set, and its own story is already written.
      await this.telling.told(this.outcome, this.ended, this.journalEnded() && this.ended.cause !== 'audit_log').catch((error: unknown) => {
        this.context.console.say(`The reports of this run could not all be made (${error instanceof Error ? error.message : String(error)}); ` +
          `its own story is in the summary files and the metrics, and ${this.context.command} report ${this.log.auditLog} tells the rest.`, 'warn');
      });
    }
    await this.metrics?.flush();
  }

  /** Throttling so far, in its figures (report/throttling-words): the progress line's and the live metrics'. */
  private throttlingNow() {
    const { rate } = this.pace;
    return { requests: rate.answers, answered429: rate.throttledAnswers, waitedMs: rate.throttledMs };
  }

  /** When the run is told to stop, the log says so at once: a run killed before its run.end still says who stopped it. */
  private recordStop(): void {
    const { control } = this.context;
    const told = () => {
      const stop = control.reason;
      if (!stop || this.ended) return;
      this.log.events.emit({
        type: 'run.stopping',
        stop: stop.kind === 'signal' ? { kind: 'signal', signal: stop.signal, reason: `received ${stop.signal}` } : { kind: 'halt', reason: stop.message },
      });
    };
    if (control.stopping.aborted) told();
    else control.stopping.addEventListener('abort', told, { once: true });
  }

  private startFields(): RunStartFields {
    const { run, plan, context } = this;
    const { options, resume, host } = run;
    return {
      version: VERSION, source: plan.input.source, baseUrl: host, cwd: process.cwd(), openedAt: new Date(this.log.startedAt).toISOString(),
      ...(this.waitedMs > 0 ? { consentWaitMs: Math.round(this.waitedMs) } : {}),
      options: { ...recordedOptions(options), dryRun: options.dryRun, force: options.force, allowHosts: options.allowHost, yes: options.yes, auth: options.credentials.kind },
      // A resume is its run's job, unless --force gave it another input: then it is that input's (red team: the nightly job,
      // finding its own id, finished a person's forced run of another file).
      job: { ...((resume && sameInput(resume.start.source, plan.input.source) && resume.start.job) || jobIdentity(identityOf(options, resume), host, false)), startedBy: personPresent(context.terminal, options.ids === '-') ? 'person' : 'unattended' },
      ...(resume ? { resumeOf: resume.resumeOf, skipped: plan.input.scanned.skipped } : {}),
    };
  }
}

/** What holds the run back right now, for the progress line: `paced at 92/s (the server throttled), 3 waiting to retry`. */
function paceState({ rate, budget }: Pace, waiting: number): string {
  const now = rate.rateAt();
  return [
    rate.paused ? 'throttled by the server: everyone waits' : rate.ceilingRps !== undefined && Number.isFinite(now) ? `paced at ${Math.round(now)}/s (the server throttled)` : '',
    budget.spent() ? 'the service is failing: a probe a second' : '',
    waiting > 0 ? `${waiting} waiting to retry` : '',
  ].filter(Boolean).join(', ');
}

function throttlingSummary({ rate, budget }: Pace) {
  const round = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : Math.round(n * 10) / 10);
  return {
    requests: rate.answers, throttled: rate.throttledAnswers, cuts: rate.cuts,
    ceilingRps: round(rate.ceilingRps), finalRps: round(rate.rateAt()), budgetHeldMs: budget.heldMs,
  };
}
