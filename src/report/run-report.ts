import { readAuditLog } from '../audit/log-reader.js';
import type { OrderLine } from '../audit/records.js';
import type { RunStatus } from '../common/domain.js';
import { usageError } from '../common/errors.js';
import { finishedOrders, ratePerSecond } from '../engine/tally.js';

export interface FailedOrder {
  orderId: string;
  httpStatus: number | null;
  code: string;
  message: string;
}

/** A run and all its resumes, as one audit log tells it. */
export interface RunReport {
  auditLog: string;
  runs: Array<{ runId: string; startedAt: string; status: RunStatus | null; exitCode: number | null; durationMs: number | null }>;
  /** Distinct orders of the input, as the first run.start recorded them. */
  selected: number;
  /** Each order counted once, by its latest outcome. */
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  wouldDelete: number;
  /** Selected orders with no outcome yet. */
  pending: number;
  retries: number;
  throttledMs: number;
  /** Time the runs were working, added up; and from the first start to the last end. */
  activeMs: number;
  spanMs: number;
  ratePerSecond: number;
  /** The last run stopped early or was killed: a resume would continue it. */
  unfinished: boolean;
  topFailureCauses: Array<{ cause: string; orders: number; example: string }>;
  failedOrders: FailedOrder[];
  unreadableLines: number;
  /** Unrelated runs earlier in the same log, not part of this report. */
  earlierRuns: number;
}

/** Reads an audit log whole: the report behind `exsited-order-cleanup report`, over the log's last run chain. */
export async function buildRunReport(auditLog: string): Promise<RunReport> {
  let latest = new Map<string, OrderLine>();
  let runs: RunReport['runs'] = [];
  let selected: number | undefined;
  let retries = 0;
  let throttledMs = 0;
  let activeMs = 0;
  let firstStart: number | undefined;
  let lastTime: number | undefined;
  let earlierRuns = 0;
  const read = await readAuditLog(auditLog, {
    chain: () => {
      earlierRuns += runs.length;
      latest = new Map();
      runs = [];
      selected = undefined;
      retries = throttledMs = activeMs = 0;
      firstStart = undefined;
    },
    record: (line) => {
      lastTime = Date.parse(line.time);
      if (line.event === 'order') latest.set(line.orderId, line);
      else if (line.event === 'order.retry') retries++;
      else if (line.event === 'run.start') {
        selected ??= line.source.count;
        firstStart ??= lastTime;
        runs.push({ runId: line.runId, startedAt: line.time, status: null, exitCode: null, durationMs: null });
      } else if (line.event === 'run.end') {
        const run = runs.at(-1);
        if (run) Object.assign(run, { status: line.status, exitCode: line.exitCode, durationMs: line.durationMs });
        throttledMs += line.summary?.throttledMs ?? 0;
        activeMs += line.durationMs;
      }
    },
  });
  if (runs.length === 0) throw usageError(`report: ${auditLog} holds no run.start line; it is not an audit log of this tool`);

  const counts = { deleted: 0, already_absent: 0, failed: 0, would_delete: 0 };
  const failedOrders: FailedOrder[] = [];
  const causes = new Map<string, { orders: number; example: string }>();
  for (const line of latest.values()) {
    counts[line.outcome]++;
    if (line.outcome !== 'failed') continue;
    const failure = { orderId: line.orderId, httpStatus: line.httpStatus, code: line.error?.code ?? '', message: line.error?.message ?? '' };
    failedOrders.push(failure);
    const cause = `${failure.httpStatus === null ? 'no response' : `HTTP ${failure.httpStatus}`} ${failure.code}`.trim();
    const entry = causes.get(cause) ?? { orders: 0, example: `${failure.orderId}: ${failure.message}` };
    entry.orders++;
    causes.set(cause, entry);
  }
  const outcomes = { deleted: counts.deleted, alreadyAbsent: counts.already_absent, failed: counts.failed, wouldDelete: counts.would_delete };
  const last = runs.at(-1);
  return {
    auditLog,
    runs,
    selected: selected ?? latest.size,
    ...outcomes,
    pending: Math.max(0, (selected ?? latest.size) - finishedOrders(outcomes)),
    retries,
    throttledMs,
    activeMs,
    spanMs: firstStart !== undefined && lastTime !== undefined ? lastTime - firstStart : 0,
    ratePerSecond: ratePerSecond(outcomes, activeMs),
    unfinished: !last || last.status === null || last.status === 'interrupted' || last.status === 'halted' || last.status === 'crashed',
    topFailureCauses: [...causes].sort((a, b) => b[1].orders - a[1].orders).slice(0, 5).map(([cause, c]) => ({ cause, ...c })),
    failedOrders,
    unreadableLines: read.unreadableLines.length,
    earlierRuns,
  };
}

/** The report for people. */
export function formatRunReport(r: RunReport): string {
  const lines = [
    `Audit log ${r.auditLog}: ${r.runs.length} run${r.runs.length === 1 ? '' : 's'}${r.unfinished ? ' — unfinished: resume it to continue' : ''}`,
    ...r.runs.map((run) => `  ${run.startedAt}  ${run.runId}  ${run.status ?? 'no run.end (killed)'}${run.exitCode === null ? '' : `, exit ${run.exitCode}`}` +
      `${run.durationMs === null ? '' : `, ${(run.durationMs / 1000).toFixed(1)} s`}`),
    'Orders, each by its latest outcome:',
    `  selected       ${r.selected}`,
    `  deleted        ${r.deleted}`,
    `  already absent ${r.alreadyAbsent}`,
    `  failed         ${r.failed}`,
    ...(r.wouldDelete ? [`  would delete   ${r.wouldDelete}`] : []),
    `  pending        ${r.pending}`,
    `  retries        ${r.retries}`,
    `  throttled      ${(r.throttledMs / 1000).toFixed(1)} s`,
    `  duration       ${(r.activeMs / 1000).toFixed(1)} s working, ${(r.spanMs / 1000).toFixed(1)} s from first start to last line`,
    `  rate           ${r.ratePerSecond.toFixed(1)} orders/s while working`,
  ];
  if (r.topFailureCauses.length > 0) {
    lines.push('Top failure causes:');
    for (const c of r.topFailureCauses) lines.push(`  ${String(c.orders).padStart(6)}  ${c.cause}  (e.g. ${c.example})`);
  }
  if (r.unreadableLines > 0) lines.push(`${r.unreadableLines} unreadable line(s) skipped (writes torn by a kill, or edits)`);
  if (r.earlierRuns > 0) lines.push(`${r.earlierRuns} earlier, unrelated run(s) in this log are not part of this report`);
  return lines.join('\n');
}
