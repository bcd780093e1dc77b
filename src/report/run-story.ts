import type { RunStatus, StopCause } from '../common/domain.js';
import type { SummaryJson } from '../common/summary-json.js';
import type { RunStartFields } from '../common/records.js';
import type { RunOutcome } from '../engine/events.js';
import type { RunReport } from './run-report.js';
import { NO_THROTTLING, throttlingOf } from './throttling-words.js';

/**
 * A run's story, told one way: the model is the report of its logs (run-report.ts: the chain's runs with
 * their mode, outcomes and stop reasons, each order by its latest outcome), built once from the audit
 * log(s); this file gives it its words (`a dry run of 60, then 60 deleted in 1 resume`) and its one JSON
 * shape, which `--summary-json` and `report --json` both print (common/summary-json.ts).
 */

/** How the story ended, when the process knows better than the last run.end (an --auto-resume night). */
export interface StoryEnd {
  status: RunStatus | 'refused' | 'unreachable';
  exitCode: number;
  cause?: StopCause;
  reason?: string;
}

/**
 * Orders listed by name in the JSON, of each list: a million failures with the server's messages would
 * make a text longer than a JavaScript string may be. The rest are counted (`…Omitted`); the audit log and
 * `report --failed-csv` have every one.
 */
const LISTED = 50_000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the runs did, in a sentence: `a dry run of 60: 55 would be deleted, 5 not found`; `a dry run of 60, then 60 deleted in 1 resume`; `58 of 60 deleted, 2 failed, in 3 runs`. */
export function storyText(r: Pick<RunReport, 'runs' | 'selected' | 'deleted' | 'alreadyAbsent' | 'failed' | 'wouldDelete' | 'pending' | 'notChecked' | 'auditLogs'>): string {
  const rest = (absentWord: string) => [
    r.alreadyAbsent > 0 ? `${r.alreadyAbsent} ${absentWord}` : '', r.failed > 0 ? `${r.failed} failed` : '', r.pending > 0 ? `${r.pending} not yet done` : '',
    r.notChecked > 0 ? `${r.notChecked} not checked` : '',
  ].filter(Boolean).map((part) => `, ${part}`).join('');
  const logs = r.auditLogs.length > 1 ? ` (${r.auditLogs.length} audit logs)` : '';
  if (r.runs.every((run) => run.dryRun)) return `a dry run of ${r.selected}: ${r.wouldDelete} would be deleted${rest('not found')}${logs}`;
  if (r.runs[0]?.dryRun) {
    // Its resumes, and the new runs of a night that went on after them (a fresh run.start: not a resume).
    const resumes = r.runs.filter((run) => !run.dryRun && run.resume).length;
    const fresh = r.runs.filter((run) => !run.dryRun && !run.resume).length;
    const by = [resumes > 0 ? plural(resumes, 'resume') : '', fresh > 0 ? plural(fresh, 'new run') : ''].filter(Boolean).join(' and ');
    return `a dry run of ${r.selected}, then ${r.deleted} deleted in ${by}${rest('already absent')}${logs}`;
  }
  return `${r.deleted} of ${r.selected} deleted${rest('already absent')}${r.runs.length > 1 ? `, in ${plural(r.runs.length, 'run')}` : ''}${logs}`;
}

/** The story as scripts read it: `--summary-json` and `report --json`. */
export function storyJson(r: RunReport, told: { end?: StoryEnd; htmlReport?: string; endedAt?: number } = {}): SummaryJson {
  const last = r.runs.at(-1);
  const first = r.runs[0];
  // Read from the logs, the story ends as the process that made it ended (nightEnd): `report` of a night's logs says what the night said.
  const lastEnd = { status: last?.status ?? null, exitCode: last?.exitCode ?? null, cause: last?.stopCause, ...(last?.reason ? { reason: last.reason } : {}) };
  const end = told.end ?? (lastEnd.status !== null && lastEnd.exitCode !== null ? nightEnd(r, lastEnd as StoryEnd) : lastEnd);
  const startedAt = first ? Date.parse(first.startedAt) : Number.NaN;
  const endedAt = told.endedAt ?? (Number.isFinite(startedAt) ? startedAt + r.spanMs : Date.now());
  return {
    schemaVersion: 2, status: end.status, exitCode: end.exitCode, ...(end.cause ? { stopCause: end.cause } : {}), ...(end.reason ? { reason: end.reason } : {}),
    started: true, dryRun: r.dryRun,
    story: storyText(r), host: r.host, input: r.input, runId: last?.runId ?? null, auditLog: r.auditLogs.at(-1) ?? null, auditLogs: r.auditLogs,
    ...(first ? { startedAt: first.startedAt } : {}),
    endedAt: new Date(endedAt).toISOString(),
    durationMs: r.activeMs, spanMs: r.spanMs,
    counts: {
      selected: r.selected, deleted: r.deleted, alreadyAbsent: r.alreadyAbsent, failed: r.failed, wouldDelete: r.wouldDelete, pending: r.pending,
      notChecked: r.notChecked, retries: r.retries, ratePerSecond: r.ratePerSecond,
    },
    throttling: r.throttling, tokens: r.tokens,
    runs: r.runs.map((run) => ({
      runId: run.runId, auditLog: run.auditLog, mode: run.dryRun ? 'dry_run' : 'deleting', resume: run.resume, startedAt: run.startedAt,
      status: run.status, exitCode: run.exitCode, durationMs: run.durationMs, ...(run.stopCause ? { stopCause: run.stopCause } : {}),
      ...(run.reason ? { reason: run.reason } : {}), counts: run.counts,
    })),
    failureCauses: r.topFailureCauses, failedOrders: r.failedOrders.slice(0, LISTED), absentOrders: r.absentOrders.slice(0, LISTED),
    ...(r.failedOrders.length > LISTED ? { failedOrdersOmitted: r.failedOrders.length - LISTED } : {}),
    ...(r.absentOrders.length > LISTED ? { absentOrdersOmitted: r.absentOrders.length - LISTED } : {}),
    unfinished: r.unfinished, unreadableLines: r.unreadableLines, earlierRuns: r.earlierRuns,
    ...(told.htmlReport ? { htmlReport: told.htmlReport } : {}),
  };
}

/** A run that never started (refused, unreachable, stopped before its first DELETE): the same shape, nothing counted. */
export interface NotStarted {
  status: 'refused' | 'unreachable' | 'interrupted' | 'halted' | 'crashed';
  exitCode: number;
  cause: StopCause;
  reason: string;
  host: string | undefined;
  auditLog: string | undefined;
  dryRun: boolean;
  startedAt: number;
  /** When it was told to have ended, ms: its duration, the same in the summary and the metrics. */
  endedAt: number;
  /** Tokens obtained from the token endpoint, and taken from the cache, before it stopped (a filter's listing needs one). */
  tokens?: { obtained: number; shared: number };
}

export function notStartedJson(run: NotStarted): SummaryJson {
  const now = run.endedAt;
  return {
    schemaVersion: 2, status: run.status, exitCode: run.exitCode, stopCause: run.cause, reason: run.reason, started: false, dryRun: run.dryRun,
    story: `${run.status} before it started: nothing was deleted`, host: run.host ?? null, runId: null, auditLog: run.auditLog ?? null,
    auditLogs: run.auditLog ? [run.auditLog] : [], startedAt: new Date(run.startedAt).toISOString(), endedAt: new Date(now).toISOString(),
    durationMs: Math.max(0, now - run.startedAt), spanMs: Math.max(0, now - run.startedAt),
    counts: { selected: 0, deleted: 0, alreadyAbsent: 0, failed: 0, wouldDelete: 0, pending: 0, notChecked: 0, retries: 0, ratePerSecond: 0 },
    throttling: NO_THROTTLING, tokens: run.tokens ?? { obtained: 0, shared: 0 }, runs: [], failureCauses: [], failedOrders: [], absentOrders: [],
    unfinished: false, unreadableLines: 0, earlierRuns: 0,
  };
}

/**
 * How a story ends when the process made more than one run of it (an --auto-resume night: the run it
 * continued first, then the new one): the new run's end, unless it went well while orders of the night
 * still failed (the continued run's, which the new one did not delete): then failed, exit 1, as its counts say.
 */
export function nightEnd(story: Pick<RunReport, 'failed' | 'auditLogs'>, last: StoryEnd): StoryEnd {
  if (story.auditLogs.length > 1 && last.exitCode === 0 && story.failed > 0) {
    return { status: 'failed', exitCode: 1, cause: 'failed_orders', reason: `${story.failed} order${story.failed === 1 ? '' : 's'} of the run resumed first failed` };
  }
  return last;
}

/**
 * The story of a run whose log could not be read back (tellRun said why): its own counts, as its events
 * gave them, as one run. Every output is still written, and tells no more than the process knows.
 */
export function storyOfEnd(o: RunOutcome, start: { at: number; fields: RunStartFields }): RunReport {
  const s = o.summary;
  const source = start.fields.source as { kind?: string; path?: string; sha256?: string; count?: number };
  const counts = { deleted: s.deleted, alreadyAbsent: s.alreadyAbsent, failed: s.failed, wouldDelete: s.wouldDelete };
  // A dry run of a list checks each order: those it did not reach are not checked, and its resume leaves them out.
  const notChecked = o.dryRun === true && source.kind !== 'filter' ? s.pending : 0;
  return {
    auditLogs: [o.auditLog], host: start.fields.baseUrl, input: { kind: source.kind ?? '?', path: source.path ?? '?', sha256: source.sha256 ?? '', count: source.count ?? s.selected },
    dryRun: o.dryRun === true, selected: s.selected, ...counts, pending: s.pending - notChecked, notChecked, retries: s.retries, retriesByCause: {}, throttledMs: s.throttledMs,
    throttling: throttlingOf(s), tokens: s.tokens ?? { obtained: 0, shared: 0 }, activeMs: o.durationMs, spanMs: Date.now() - start.at, ratePerSecond: s.ratePerSecond,
    runs: [{
      auditLog: o.auditLog, runId: o.runId, startedAt: new Date(start.at).toISOString(), status: o.status, exitCode: o.exitCode, durationMs: o.durationMs,
      dryRun: o.dryRun === true, resume: start.fields.resumeOf !== undefined, counts: { ...counts, retries: s.retries }, ...(o.reason ? { reason: o.reason } : {}),
    }],
    unfinished: o.status === 'interrupted' || o.status === 'halted' || o.status === 'crashed', resume: { allowHosts: [], yes: false },
    topFailureCauses: [], failedOrders: [], failedChecksLeftOut: 0, absentOrders: [], unreadableLines: 0, earlierRuns: 0,
  };
}
