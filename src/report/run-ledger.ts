import type { OrderOutcome } from '../audit/log-reader.js';
import type { AuditRecord } from '../audit/records.js';
import { failureCause, type RunStatus, type StopCause } from '../common/domain.js';
import { runStartOf } from '../common/records.js';
import { NO_THROTTLING, throttlingOf, type Throttling } from './throttling-words.js';

/** One run of a log (a resume is one) as its own lines tell it. */
export interface ReportedRun {
  auditLog: string;
  runId: string;
  startedAt: string;
  status: RunStatus | null;
  exitCode: number | null;
  /** From its run.start to its run.end (or its last line, if it was killed), by the log's own clock. */
  durationMs: number;
  dryRun: boolean;
  /** A resume of an earlier run of its log (run.start's resumeOf). */
  resume: boolean;
  /** Its own outcomes (an order it finished counts here, whatever a later run did), and its retries. */
  counts: { deleted: number; alreadyAbsent: number; failed: number; wouldDelete: number; retries: number };
  /** Why it stopped early, if it did; and why it ended, in a fixed set of words (logs before it was recorded: none). */
  reason?: string;
  stopCause?: StopCause;
}

/**
 * The run a chain is told by: its last, except that a dry resume after deletions (a check: it deletes
 * nothing) leaves the chain where its last deleting run left it. `report <log>` and a folder's listing alike.
 */
export function toldBy<R extends Pick<ReportedRun, 'dryRun'>>(runs: readonly R[]): R | undefined {
  const last = runs.at(-1);
  return last?.dryRun ? (runs.findLast((run) => !run.dryRun) ?? last) : last;
}

/** A run as the ledger keeps it: what the report tells of it, and what the history adds. */
export interface LedgerRun extends ReportedRun {
  /** Its input, as the log listing names it: the file, or `filter <its path>`; and the distinct valid IDs it held. */
  input: string;
  /** Whether its orders were selected by a filter (a listing), not read from a list. */
  filtered: boolean;
  selected: number;
  /** What its run.end says of its throttling and its tokens (none for a killed run). */
  throttledMs: number;
  throttling: Throttling;
  tokens: { obtained: number; shared: number };
  /** Its failed orders by cause (`HTTP 409 ORDER_LOCKED`): the first CAUSES_KEPT causes apart, any further in OTHER_CAUSES. */
  failedByCause: Record<string, number>;
  /** The time of its last line read (ms): its run.end's, or, killed, its last line's. */
  lastAt: number;
}

/** A server that makes every error code unique cannot make a run's entry grow without bound. */
const CAUSES_KEPT = 20;
const OTHER_CAUSES = '(other causes)';

const OUTCOME_KEYS = { deleted: 'deleted', already_absent: 'alreadyAbsent', failed: 'failed', would_delete: 'wouldDelete' } as const;

/**
 * The runs of a log, each by its own lines: its start, its outcomes and retries (the lines after its
 * run.start), its end, and — killed — the time of its last line. The one reading of a run, shared by the
 * report of a chain (report/run-report) and the history of a folder (report/history), so that a run's row
 * in the history and its entry in `report --json` cannot tell two different runs.
 */
export class RunLedger {
  readonly runs: LedgerRun[] = [];
  /** The latest time read from the log (ms); none before its first timed line. */
  lastTime: number | undefined;
  private runStart = 0;
  private consentWaitMs = 0;

  constructor(private readonly auditLog: string) {}

  /**
   * A line of the log, timed by its own `time` — one that cannot be read (an edit) is taken at the last time
   * read: it never makes a date invalid. An order line read on the fast path has no time (its reader says
   * when the log's clock moved: `touch`) and no cause: it counts its outcome; a failed one's cause is counted
   * when the line is read in full.
   */
  record(line: AuditRecord | OrderOutcome): void {
    const run = this.runs.at(-1);
    const at = 'time' in line ? this.timeOf(line.time) : undefined;
    // A run.start is the next run's: a killed run lasted until its own last line, not until its resume began.
    if (line.event !== 'run.start' && at !== undefined) this.touch(at);
    if (line.event === 'order') {
      if (!run) return;
      run.counts[OUTCOME_KEYS[line.outcome]]++;
      if (line.outcome === 'failed' && 'httpStatus' in line) countCause(run.failedByCause, failureCause(line));
    } else if (line.event === 'order.retry') {
      if (run) run.counts.retries++;
    } else if (line.event === 'run.start') {
      // From when its log was opened, as its run.end's durationMs counts (the line itself comes after the listing and the
      // consent, whose wait is no working time); a killed run's working time so far is the listing's.
      const { startedAt, consentWaitMs } = runStartOf(line);
      this.runStart = this.timeOf(startedAt);
      this.consentWaitMs = consentWaitMs;
      this.lastTime = at ?? this.runStart;
      this.runs.push({
        auditLog: this.auditLog, runId: line.runId, startedAt, status: null, exitCode: null, durationMs: this.working(this.lastTime),
        dryRun: line.options.dryRun === true, resume: line.resumeOf !== undefined,
        counts: { deleted: 0, alreadyAbsent: 0, failed: 0, wouldDelete: 0, retries: 0 }, selected: line.source.count,
        input: line.source.kind === 'filter' ? `filter ${line.source.filter?.path ?? line.source.path}` : line.source.path, filtered: line.source.kind === 'filter',
        throttledMs: 0, throttling: NO_THROTTLING, tokens: { obtained: 0, shared: 0 }, failedByCause: {}, lastAt: this.lastTime,
      });
    } else if (line.event === 'run.end' && run) {
      Object.assign(run, {
        // The run's own measure (the console's: time at the question left out), or, in logs without it, its lines' span.
        status: line.status, exitCode: line.exitCode, durationMs: line.durationMs ?? Math.max(0, (at ?? this.runStart) - this.runStart),
        ...(line.stopCause ? { stopCause: line.stopCause } : {}), ...(line.reason ? { reason: line.reason } : {}),
      });
      const { summary } = line;
      if (summary) {
        run.throttledMs = summary.throttledMs ?? 0;
        run.throttling = throttlingOf({ throttledMs: run.throttledMs, throttling: summary.throttling });
        run.tokens = { obtained: summary.tokens?.obtained ?? 0, shared: summary.tokens?.shared ?? 0 };
      }
    }
  }

  /** When the last run read began (its log opened), ms. */
  get lastRunStart(): number {
    return this.runStart;
  }

  /** The log's clock reached `at`: the latest run's last line so far; a killed run (no run.end yet) lasted until then. */
  touch(at: number): void {
    this.lastTime = at;
    const run = this.runs.at(-1);
    if (!run) return;
    run.lastAt = at;
    if (run.status === null) run.durationMs = this.working(at);
  }

  /**
   * The latest run's working time until `at`, as its run.end would count it: the time at the consent question
   * left out (red team: a killed run's "7.4 s working" where the whole run worked 6.2). Never below zero: a clock
   * stepped back between its lines does not make a run last less than nothing.
   */
  private working(at: number): number {
    return Math.max(0, at - this.runStart - this.consentWaitMs);
  }

  private timeOf(time: string): number {
    const parsed = Date.parse(time);
    return Number.isFinite(parsed) ? parsed : (this.lastTime ?? 0);
  }
}

function countCause(causes: Record<string, number>, cause: string): void {
  const key = cause in causes || Object.keys(causes).length < CAUSES_KEPT ? cause : OTHER_CAUSES;
  causes[key] = (causes[key] ?? 0) + 1;
}
