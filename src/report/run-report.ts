import type { LogEntry } from '../audit/latest-log.js';
import { readLastChain, type ChainGatherer } from '../audit/log-reader.js';
import type { AuditRecord, OrderLine } from '../audit/records.js';
import { failureCause, type RunStatus } from '../common/domain.js';
import { humanDuration } from '../common/durations.js';
import { usageError } from '../common/errors.js';
import { finishedOrders, ratePerSecond } from '../engine/tally.js';
import { formatNextSteps, nextSteps, resumeNeedsOf, type NextStep, type ResumeNeeds } from './next-step.js';
import type { ChainTimeline, TimelineBuilder } from './run-timeline.js';
import { causeLines, formatCounts, type CauseLine } from './summary.js';

export interface FailedOrder {
  orderId: string;
  httpStatus: number | null;
  code: string;
  message: string;
}

export interface ReportedRun {
  auditLog: string;
  runId: string;
  startedAt: string;
  status: RunStatus | null;
  exitCode: number | null;
  /** From its run.start to its run.end (or its last line, if it was killed), by the log's own clock. */
  durationMs: number;
  dryRun: boolean;
  /** Why it stopped early, if it did. */
  reason?: string;
}

/** A run and all its resumes — or several logs, a rerun with the run it came from — as their logs tell it. */
export interface RunReport {
  auditLogs: string[];
  /** The API host of the first run. */
  host: string;
  /** Where the orders came from: the input file (and its sha256), or the filter and its manifest. */
  input: { kind: string; path: string; sha256: string; filter?: string; criteria?: string };
  dryRun: boolean;
  runs: ReportedRun[];
  /** Distinct orders: the first log's selection, and any order a later log added. */
  selected: number;
  /** Each order counted once, by its latest outcome across the logs. */
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  wouldDelete: number;
  /** Selected orders with no outcome yet. */
  pending: number;
  retries: number;
  throttledMs: number;
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
  /** Orders whose latest outcome is already_absent: listed, but not there (a dry run's "not found"), every one. */
  absentOrders: string[];
  unreadableLines: number;
  /** Unrelated runs earlier in the same logs, not part of this report. */
  earlierRuns: number;
}

/** An order's latest outcome: its outcome, and for a failed one what the failures table shows. */
type Latest = OrderLine['outcome'] | FailedOrder;

/**
 * Reads audit logs whole, each over its last run chain, in the order given (a rerun after the run it
 * came from): the report behind `exsited-order-cleanup report`. An order's latest outcome in a later log
 * replaces the earlier one, so a failure that a rerun deleted no longer counts as failed. `timeline`, when
 * given, hears every record too (the HTML report and the timeline CSV), so that a log is read once.
 */
export async function buildRunReport(auditLogs: string[], timeline?: TimelineBuilder): Promise<RunReport> {
  const latest = new Map<string, Latest>();
  const runs: ReportedRun[] = [];
  let selected = 0;
  let retries = 0;
  let throttledMs = 0;
  let activeMs = 0;
  let unreadableLines = 0;
  let earlierRuns = 0;
  let firstStart: number | undefined;
  let lastTime: number | undefined;
  let head: { host: string; input: RunReport['input']; dryRun: boolean } | undefined;
  let resume: ResumeNeeds = { allowHosts: [], yes: false };
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
    for (const [orderId, outcome] of log.latest) latest.set(orderId, outcome);
    selected = index === 0 ? log.selected : selected + (latest.size - known);
    runs.push(...log.runs);
    retries += log.retries;
    throttledMs += log.throttledMs;
    activeMs += log.runs.reduce((sum, run) => sum + run.durationMs, 0);
    firstStart ??= log.firstStart;
    lastTime = Math.max(lastTime ?? 0, log.lastTime ?? 0);
  }

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
  const outcomes = { deleted: counts.deleted, alreadyAbsent: counts.already_absent, failed: counts.failed, wouldDelete: counts.would_delete };
  const last = runs.at(-1);
  const { host, input } = head as NonNullable<typeof head>;
  // A chain is a dry run only if every run of it was: a dry run and its resume deleted, and is told by its deletions.
  const dryRun = runs.every((run) => run.dryRun);
  return {
    auditLogs, host, input, dryRun, runs, selected: Math.max(selected, latest.size), ...outcomes,
    pending: Math.max(0, Math.max(selected, latest.size) - finishedOrders(outcomes)),
    retries, throttledMs, activeMs,
    spanMs: firstStart !== undefined && lastTime !== undefined ? lastTime - firstStart : 0,
    ratePerSecond: ratePerSecond(outcomes, activeMs),
    unfinished: !last || last.status === null || last.status === 'interrupted' || last.status === 'halted' || last.status === 'crashed',
    resume,
    topFailureCauses: causesOf(failedOrders).slice(0, 5),
    failedOrders, absentOrders, unreadableLines, earlierRuns,
  };
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
const causesOf = (failedOrders: FailedOrder[]): CauseLine[] =>
  failureCauses(failedOrders).map(({ cause, orders, example }) => ({ cause, orders, example: `${example.orderId}: ${example.message}` }));

/** What the report gathers from one run chain of a log (and, given `timeline`, the timeline too: the log is read once). */
class ChainReport implements ChainGatherer<AuditRecord> {
  readonly latest = new Map<string, Latest>();
  readonly runs: ReportedRun[] = [];
  selected = 0;
  retries = 0;
  throttledMs = 0;
  firstStart: number | undefined;
  lastTime: number | undefined;
  head: { host: string; input: RunReport['input']; dryRun: boolean } | undefined;
  /** What a resume of this chain needs, from its latest run.start: the next step is built from it. */
  resume: ResumeNeeds | undefined;
  private runStart = 0;

  constructor(private readonly auditLog: string, readonly timeline: ChainTimeline | undefined) {}

  record(line: AuditRecord): void {
    this.timeline?.record(line);
    const at = Date.parse(line.time);
    this.lastTime = at;
    const run = this.runs.at(-1);
    if (run && run.status === null) run.durationMs = at - this.runStart; // a killed run lasted until its last line
    if (line.event === 'order') {
      this.latest.set(line.orderId, line.outcome !== 'failed' ? line.outcome
        : { orderId: line.orderId, httpStatus: line.httpStatus, code: line.error?.code ?? '', message: line.error?.message ?? '' });
    } else if (line.event === 'order.retry') this.retries++;
    else if (line.event === 'run.start') {
      this.firstStart ??= at;
      this.runStart = at;
      const dryRun = line.options.dryRun === true;
      if (!this.head) {
        const { source } = line;
        this.selected = source.count;
        const filter = source.filter ? { filter: source.filter.path, criteria: JSON.stringify(source.filter.match) } : {};
        this.head = { host: line.baseUrl, dryRun, input: { kind: source.kind, path: source.path, sha256: source.sha256, ...filter } };
      }
      this.runs.push({ auditLog: this.auditLog, runId: line.runId, startedAt: line.time, status: null, exitCode: null, durationMs: 0, dryRun });
      this.resume = resumeNeedsOf(line);
    } else if (line.event === 'run.end' && run) {
      Object.assign(run, { status: line.status, exitCode: line.exitCode, durationMs: at - this.runStart, ...(line.reason ? { reason: line.reason } : {}) });
      this.throttledMs += line.summary?.throttledMs ?? 0;
    }
  }
}

/** The report for people. `command`: how the tool was started, for the next step. */
export function formatRunReport(r: RunReport, command: string): string {
  const lines = [
    `${r.auditLogs.length === 1 ? `Audit log ${r.auditLogs[0]}` : `Audit logs ${r.auditLogs.join(', ')}`}: ${r.runs.length} run${r.runs.length === 1 ? '' : 's'}` +
      `${modeText(r)}${r.unfinished ? ' — unfinished: resume it to continue' : ''}`,
    `  host   ${r.host}`,
    `  input  ${r.input.filter ? `filter ${r.input.filter}, its selection in ${r.input.path}` : `${r.input.kind} ${r.input.path}`} (sha256 ${r.input.sha256.slice(0, 12)}…)`,
    ...r.runs.map((run) => `  ${run.startedAt}  ${run.runId}  ${run.status ?? 'no run.end (killed)'}${run.exitCode === null ? '' : `, exit ${run.exitCode}`}` +
      `, ${humanDuration(run.durationMs)}${run.dryRun ? ', dry run' : ''}${run.reason ? `\n      stopped: ${run.reason}` : ''}`),
    'Orders, each by its latest outcome:',
    ...formatCounts({ ...r, dryRun: r.runs.every((run) => run.dryRun), durationMs: r.activeMs }),
    ...causeLines(causesOf(r.failedOrders)),
    ...absentLines(r.absentOrders, r.runs.every((run) => run.dryRun)),
  ];
  if (r.unreadableLines > 0) lines.push(`${r.unreadableLines} unreadable line(s) skipped (writes torn by a kill, or edits)`);
  if (r.earlierRuns > 0) lines.push(`${r.earlierRuns} earlier, unrelated run(s) in this log are not part of this report`);
  const steps = reportNextSteps(r, command);
  if (steps.length > 0) lines.push(formatNextSteps(steps));
  return lines.join('\n');
}

/** How the chain went: `, a dry run`, or `, a dry run, then 60 deleted in 1 resume`; nothing when every run deleted. */
export function modeText(r: Pick<RunReport, 'runs' | 'deleted'>): string {
  if (r.runs.every((run) => run.dryRun)) return ', a dry run';
  if (!r.runs[0]?.dryRun) return '';
  const resumes = r.runs.filter((run) => !run.dryRun).length;
  return `, a dry run, then ${r.deleted} deleted in ${resumes} resume${resumes === 1 ? '' : 's'}`;
}

/** The listed orders that were not there, named (the first 20 here; report --json and the page list them all). */
function absentLines(absent: string[], dryRun: boolean): string[] {
  if (absent.length === 0) return [];
  const shown = absent.slice(0, 20);
  return [`${dryRun ? 'Not found' : 'Already absent'} (${absent.length}, listed but not there): ${shown.join(', ')}` +
    `${absent.length > shown.length ? `, … and ${absent.length - shown.length} more (report --json and --html list them all)` : ''}`];
}

/** The next step of the latest run, from its log: what its console said as it ended (the failed orders of every log reported). */
export function reportNextSteps(r: RunReport, command: string): NextStep[] {
  const last = r.runs.at(-1);
  return nextSteps({
    ...r.resume, command, auditLog: r.auditLogs.at(-1) as string, reportedLogs: r.auditLogs, status: last?.status ?? null, exitCode: last?.exitCode ?? null,
    dryRun: last?.dryRun ?? r.dryRun, wouldDelete: r.wouldDelete, failed: r.failed,
  });
}

/** `report <folder>`: its logs, newest first, so that a person can tell them apart. */
export function formatLogList(dir: string, logs: LogEntry[]): string {
  if (logs.length === 0) return `${dir}: no audit logs (*.ndjson) here`;
  const lines = [`${logs.length} audit log${logs.length === 1 ? '' : 's'} in ${dir}, newest first:`];
  for (const log of logs) {
    const source = log.start?.source;
    const what = source ? (source.kind === 'filter' ? `filter ${String((source.filter as { path?: unknown } | undefined)?.path ?? '')}` : source.path) : '?';
    // A dry run and its resume: told by the deletions (the counts are the last run's), never as a dry run.
    const startedDry = log.start?.options.dryRun === true;
    const lastDry = log.end?.dryRun ?? startedDry;
    const dry = lastDry ? ', dry run' : startedDry ? ', a dry run, then its resume' : '';
    const s = log.end?.summary as { selected?: number; deleted?: number; failed?: number; wouldDelete?: number } | undefined;
    const counts = s ? `, ${s.selected ?? 0} selected, ${lastDry ? `${s.wouldDelete ?? 0} would delete` : `${s.deleted ?? 0} deleted, ${s.failed ?? 0} failed`}` : '';
    const firstSentence = (text: string) => text.split(/\. /)[0];
    const state = !log.end ? 'not finished (killed?)' : log.end.exitCode === 3 && (s?.deleted ?? 0) === 0
      ? `refused: ${firstSentence(log.end.reason ?? '')}` : `${log.end.status}, exit ${log.end.exitCode}`;
    lines.push(`  ${log.path}\n    ${log.start?.time ?? '?'}  ${state}${dry}${counts}; ${what}${log.unfinished ? '  (resumable)' : ''}`);
  }
  return lines.join('\n');
}
