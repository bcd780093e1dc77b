import { readLastChain, type ChainGatherer } from '../audit/log-reader.js';
import type { AuditRecord, OrderLine } from '../audit/records.js';
import { failureCause, retryLabel, type RunStatus, type StopCause } from '../common/domain.js';
import { usageError } from '../common/errors.js';
import { finishedOrders, ratePerSecond } from '../engine/tally.js';
import { resumeNeedsOf, type ResumeNeeds } from './next-step.js';
import type { ChainTimeline, TimelineBuilder } from './run-timeline.js';
import type { CauseLine } from './summary.js';
import { RunLedger, toldBy, type ReportedRun } from './run-ledger.js';
import { addThrottling, NO_THROTTLING, type Throttling } from './throttling-words.js';

export type { ReportedRun };

export interface FailedOrder {
  orderId: string;
  httpStatus: number | null;
  code: string;
  message: string;
}

/** A run's end that its log may not hold (the disk full as run.end was written): the process knows it. */
export interface KnownEnd {
  runId: string;
  status: RunStatus;
  exitCode: number;
  durationMs: number;
  cause?: StopCause;
  reason?: string;
}

/** A run and all its resumes — or several logs, a rerun with the run it came from — as their logs tell it. */
export interface RunReport {
  auditLogs: string[];
  /** The API host of the first run. */
  host: string;
  /** Where the orders came from: the input file (and its sha256), or the filter and its manifest. */
  input: { kind: string; path: string; sha256: string; count: number; filter?: string; criteria?: string };
  dryRun: boolean;
  runs: ReportedRun[];
  /** Distinct orders: the first log's selection, and any order a later log added. */
  selected: number;
  /** Each order counted once, by its latest outcome across the logs. */
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  wouldDelete: number;
  /** Selected orders with no outcome yet, that a resume of the last log would take. */
  pending: number;
  /**
   * Listed orders that a dry run of a list never checked (it stopped first), in the report of a single log whose
   * chain began with that dry run: its resumes delete only what it found and leave these out; a new dry run checks them.
   */
  notChecked: number;
  retries: number;
  /** Retries by cause (common/domain's retryLabel: a fixed set of words), for the metrics. */
  retriesByCause: Record<string, number>;
  throttledMs: number;
  /** Throttling in its three figures (report/throttling-words), over the runs that recorded their end. */
  throttling: Throttling;
  /** Access tokens obtained from the token endpoint and taken from the token cache, over the runs. */
  tokens: { obtained: number; shared: number };
  /** Time the runs were working, added up; and from the first start to the last line. */
  activeMs: number;
  spanMs: number;
  ratePerSecond: number;
  /** The last run stopped early or was killed: a resume would continue it. */
  unfinished: boolean;
  /** What a resume of the last log needs, as its latest run recorded it. */
  resume: ResumeNeeds;
  topFailureCauses: CauseLine[];
  failedOrders: FailedOrder[];
  /** Of the failed, those whose check failed in a dry run of a list, which its resumes leave out (a new dry run checks them again). */
  failedChecksLeftOut: number;
  /** Orders whose latest outcome is already_absent: listed, but not there (a dry run's "not found"), every one. */
  absentOrders: string[];
  unreadableLines: number;
  /** Unrelated runs earlier in the same logs, not part of this report. */
  earlierRuns: number;
}

/**
 * An order's outcome once a later run told it again: the later one, except that an order a run deleted stays
 * deleted, whatever a later run heard of it (a deletion is not undone: found already absent by an --auto-resume
 * night's new run of the same IDs, or answered 503 by a later run, it is still gone; red team: told as failed).
 */
function laterOutcome(earlier: Latest | undefined, later: Latest): Latest {
  return earlier === 'deleted' ? 'deleted' : later;
}

/** The failures of a dry run's checks, told apart from failed deletions by the object each line made. */
const DRY_CHECKS = new WeakSet<FailedOrder>();

/** An order's latest outcome: its outcome, and for a failed one what the failures table shows. */
type Latest = OrderLine['outcome'] | FailedOrder;

/**
 * Reads audit logs whole, each over its last run chain, in the order given (a rerun after the run it
 * came from): the report behind `exsited-order-cleanup report`. An order's latest outcome in a later log
 * replaces the earlier one, so a failure that a rerun deleted no longer counts as failed. `timeline`, when
 * given, hears every record too (the HTML report and the timeline CSV), so that a log is read once.
 */
export async function buildRunReport(auditLogs: string[], timeline?: TimelineBuilder, knownEnd?: KnownEnd): Promise<RunReport> {
  const latest = new Map<string, Latest>();
  const runs: ReportedRun[] = [];
  const retriesByCause: Record<string, number> = {};
  const tokens = { obtained: 0, shared: 0 };
  let selected = 0;
  let retries = 0;
  let throttledMs = 0;
  let throttling = NO_THROTTLING;
  let unreadableLines = 0;
  let earlierRuns = 0;
  let firstStart: number | undefined;
  let lastTime: number | undefined;
  let head: { host: string; input: RunReport['input']; dryRun: boolean } | undefined;
  let resume: ResumeNeeds = { allowHosts: [], yes: false };
  const inputs = new Set<string>();
  for (const [index, auditLog] of auditLogs.entries()) {
    const read = await readLastChain(auditLog, () => new ChainReport(auditLog, timeline?.chain(auditLog)));
    const log = read.last;
    if (log.timeline) timeline?.add(log.timeline);
    earlierRuns += read.earlier.runs;
    unreadableLines += read.unreadableLines.length;
    if (log.runs.length === 0) throw usageError(`report: ${auditLog} holds no run.start line; it is not an audit log of this tool`);
    head ??= log.head;
    resume = log.resume ?? resume;
    const known = latest.size;
    for (const [orderId, outcome] of log.latest) latest.set(orderId, laterOutcome(latest.get(orderId), outcome));
    // A later log's new orders are selected too, unless it read an input an earlier log read (a night's new run of its continued run's list).
    const input = `${log.head?.input.kind}:${log.head?.input.sha256}`;
    if (index === 0 || !inputs.has(input)) selected = index === 0 ? log.selected : selected + (latest.size - known);
    inputs.add(input);
    for (const run of log.runs) runs.push(run); // one by one: a log of 150,000 runs overflows a spread's arguments
    retries += log.retries;
    throttledMs += log.throttledMs;
    throttling = addThrottling(throttling, log.throttling);
    for (const [cause, n] of Object.entries(log.retriesByCause)) retriesByCause[cause] = (retriesByCause[cause] ?? 0) + n;
    tokens.obtained += log.tokens.obtained;
    tokens.shared += log.tokens.shared;
    firstStart ??= log.firstStart;
    lastTime = Math.max(lastTime ?? 0, log.lastTime ?? 0);
  }

  const { counts, failedOrders, absentOrders } = countLatest(latest);
  const last = runs.at(-1);
  // A chain is a dry run only if every run of it was: a dry run and its resume deleted, and is told by its deletions.
  const dryRun = runs.every((run) => run.dryRun);
  // A dry run's finds that a deleting run has not reached yet are pending, not done: after a dry resume too (red team).
  const outcomes = { deleted: counts.deleted, alreadyAbsent: counts.already_absent, failed: counts.failed, wouldDelete: dryRun ? counts.would_delete : 0 };
  // The process that wrote the log knows how its run ended even when run.end could not be written.
  if (knownEnd && last?.runId === knownEnd.runId && last.status === null) {
    Object.assign(last, {
      status: knownEnd.status, exitCode: knownEnd.exitCode, durationMs: knownEnd.durationMs,
      ...(knownEnd.cause ? { stopCause: knownEnd.cause } : {}), ...(knownEnd.reason ? { reason: knownEnd.reason } : {}),
    });
  }
  const { host, input } = head as NonNullable<typeof head>;
  const activeMs = runs.reduce((sum, run) => sum + run.durationMs, 0);
  const all = Math.max(selected, latest.size);
  // Orders with no outcome at all are the first log's (a later log adds only the orders it reached). Of one log
  // that began with a dry run of a list, they are not checked: none of its resumes takes them. Of several logs
  // (a rerun, a night's new run of the list) they are pending: the later run's resume takes them, or they are
  // the first run's (red team: `report A B` told A's unfinished run as B's unchecked).
  const listDryRun = auditLogs.length === 1 && head?.dryRun === true && head.input.kind !== 'filter';
  const notChecked = listDryRun ? all - latest.size : 0;
  const pending = Math.max(0, all - finishedOrders(outcomes) - notChecked);
  return {
    auditLogs, host, input, dryRun, runs, selected: all, ...outcomes, pending, notChecked,
    retries, retriesByCause, throttledMs, throttling, tokens, activeMs,
    // From the first start to the last line; never less than the working time (a run's own measure starts as its log is opened).
    spanMs: Math.max(activeMs, firstStart !== undefined && lastTime !== undefined ? lastTime - firstStart : 0),
    ratePerSecond: ratePerSecond(outcomes, activeMs),
    // A chain that deletes, ended by a dry resume (which deletes nothing), is where its last deleting run left it.
    unfinished: unfinishedStatus(toldBy(runs)?.status),
    resume,
    topFailureCauses: causesOf(failedOrders).slice(0, 5),
    failedOrders, failedChecksLeftOut: listDryRun ? failedOrders.filter((failed) => DRY_CHECKS.has(failed)).length : 0,
    absentOrders, unreadableLines, earlierRuns,
  };
}

/** Whether a run that ended so (null: killed, no run.end; undefined: no run) left its chain for a resume. */
const unfinishedStatus = (status: RunStatus | null | undefined): boolean =>
  status === undefined || status === null || status === 'interrupted' || status === 'halted' || status === 'crashed';

/** Each order once, by its latest outcome; the failed ones and the absent ones listed. */
function countLatest(latest: ReadonlyMap<string, Latest>) {
  const counts = { deleted: 0, already_absent: 0, failed: 0, would_delete: 0 };
  const failedOrders: FailedOrder[] = [];
  const absentOrders: string[] = [];
  for (const [orderId, outcome] of latest) {
    if (outcome === 'already_absent') absentOrders.push(orderId);
    if (typeof outcome === 'string') counts[outcome]++;
    else {
      counts.failed++;
      failedOrders.push(outcome);
    }
  }
  return { counts, failedOrders, absentOrders };
}

/** The failed orders grouped by cause (`HTTP 409 ORDER_LOCKED`), the largest first, each with its first order as the example. */
export function failureCauses(failedOrders: FailedOrder[]): Array<{ cause: string; orders: number; example: FailedOrder }> {
  const causes = new Map<string, { cause: string; orders: number; example: FailedOrder }>();
  for (const failed of failedOrders) {
    const cause = failureCause({ httpStatus: failed.httpStatus, error: { code: failed.code } });
    const entry = causes.get(cause) ?? { cause, orders: 0, example: failed };
    entry.orders++;
    causes.set(cause, entry);
  }
  return [...causes.values()].sort((a, b) => b.orders - a.orders);
}

/** The causes as the summaries list them, each with its first order and message as the example. */
export const causesOf = (failedOrders: FailedOrder[]): CauseLine[] =>
  failureCauses(failedOrders).map(({ cause, orders, example }) => ({ cause, orders, example: `${example.orderId}: ${example.message}` }));

/** What the report gathers from one run chain of a log (and, given `timeline`, the timeline too: the log is read once). */
class ChainReport implements ChainGatherer<AuditRecord> {
  readonly latest = new Map<string, Latest>();
  private readonly ledger: RunLedger;
  selected = 0;
  retries = 0;
  readonly retriesByCause: Record<string, number> = {};
  firstStart: number | undefined;
  head: { host: string; input: RunReport['input']; dryRun: boolean } | undefined;
  /** What a resume of this chain needs, from its latest run.start: the next step is built from it. */
  resume: ResumeNeeds | undefined;
  /** Whether the run being read is a dry run: its failures are failed checks. */
  private dryRunNow = false;

  constructor(auditLog: string, readonly timeline: ChainTimeline | undefined) {
    this.ledger = new RunLedger(auditLog);
  }

  /** The runs as the report tells them: what the history adds to a run (its input, causes, costs) stays out of the story. */
  get runs(): ReportedRun[] {
    return this.ledger.runs.map(({ input, selected, throttledMs, throttling, tokens, failedByCause, lastAt, ...run }) => run);
  }

  /** The time of the chain's last line read. */
  get lastTime(): number | undefined {
    return this.ledger.lastTime;
  }

  get throttledMs(): number {
    return this.ledger.runs.reduce((sum, run) => sum + run.throttledMs, 0);
  }

  get throttling(): Throttling {
    return this.ledger.runs.reduce((sum, run) => addThrottling(sum, run.throttling), NO_THROTTLING);
  }

  get tokens(): { obtained: number; shared: number } {
    return this.ledger.runs.reduce((sum, run) => ({ obtained: sum.obtained + run.tokens.obtained, shared: sum.shared + run.tokens.shared }), { obtained: 0, shared: 0 });
  }

  record(line: AuditRecord): void {
    this.timeline?.record(line);
    this.ledger.record(line);
    if (line.event === 'order') {
      const failed = line.outcome === 'failed' ? { orderId: line.orderId, httpStatus: line.httpStatus, code: line.error?.code ?? '', message: line.error?.message ?? '' } : undefined;
      if (failed && this.dryRunNow) DRY_CHECKS.add(failed);
      this.latest.set(line.orderId, laterOutcome(this.latest.get(line.orderId), failed ?? line.outcome));
    } else if (line.event === 'order.retry') {
      this.retries++;
      const cause = retryLabel(line.httpStatus, line.errorCode);
      this.retriesByCause[cause] = (this.retriesByCause[cause] ?? 0) + 1;
    } else if (line.event === 'run.start') {
      this.dryRunNow = line.options.dryRun === true;
      this.firstStart ??= this.ledger.lastRunStart; // its start, as the ledger read it
      if (!this.head) {
        const { source } = line;
        this.selected = source.count;
        const filter = source.filter ? { filter: source.filter.path, criteria: JSON.stringify(source.filter.match) } : {};
        this.head = { host: line.baseUrl, dryRun: line.options.dryRun === true, input: { kind: source.kind, path: source.path, sha256: source.sha256, count: source.count, ...filter } };
      }
      this.resume = resumeNeedsOf(line);
    }
  }
}
