import { failureCause } from '../common/domain.js';
import type { OrderRecord, RunSummary } from '../common/records.js';
import type { RunEvents } from './events.js';

/** Orders that reached an outcome. */
export const finishedOrders = (s: Pick<RunSummary, 'deleted' | 'alreadyAbsent' | 'failed' | 'wouldDelete'>): number =>
  s.deleted + s.alreadyAbsent + s.failed + s.wouldDelete;

/** Finished orders per second over `ms`, to one decimal. */
export const ratePerSecond = (s: Pick<RunSummary, 'deleted' | 'alreadyAbsent' | 'failed' | 'wouldDelete'>, ms: number): number =>
  (ms > 0 ? Math.round((finishedOrders(s) * 10_000) / ms) / 10 : 0);

const FAILURES_KEPT = 10;

/**
 * The run's counts, kept from its events: what the progress line, the summary, run.end and the summary
 * files all read, so that they can never disagree.
 */
export class RunTally {
  readonly summary: RunSummary;
  /** The first failures, for the summary. */
  readonly firstFailures: OrderRecord[] = [];
  /** Failures by cause (failureCause), each with its count and first example, in the order first met. */
  readonly causes = new Map<string, { count: number; example: OrderRecord }>();

  constructor(selected: number, skipped: number, events: RunEvents) {
    this.summary = {
      selected, deleted: 0, alreadyAbsent: 0, failed: 0, skipped, wouldDelete: 0, pending: selected - skipped, retries: 0, throttledMs: 0, ratePerSecond: 0,
    };
    events.on('order.finished', ({ record }) => this.count(record)).on('retry.scheduled', () => void this.summary.retries++);
  }

  get finished(): number {
    return finishedOrders(this.summary);
  }

  private count(record: OrderRecord): void {
    const s = this.summary;
    s.pending--;
    if (record.outcome === 'deleted') s.deleted++;
    else if (record.outcome === 'already_absent') s.alreadyAbsent++;
    else if (record.outcome === 'failed') s.failed++;
    else s.wouldDelete++;
    if (record.outcome !== 'failed') return;
    if (this.firstFailures.length < FAILURES_KEPT) this.firstFailures.push(record);
    const cause = failureCause(record);
    const seen = this.causes.get(cause);
    if (seen) seen.count++;
    else this.causes.set(cause, { count: 1, example: record });
  }
}
