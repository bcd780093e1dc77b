import type { AuditRecord } from '../audit/records.js';
import { runStartOf, type ThrottleFields } from '../common/records.js';
import { failureCause, retryCause, type RunStatus } from '../common/domain.js';
import { latencyOf, type Latency } from './order-latency.js';

/**
 * Slot widths a run's counts are gathered at, each dividing the next, so that counts gathered at one are
 * summed exactly into any later one: a run starts at 100 ms slots, and a long run moves to wider slots as
 * it goes, keeping at most MAX_SLOTS of them (memory stays flat however long the run).
 */
const INTERVALS_MS = [100, 200, 1000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000];
const MAX_SLOTS = 2000;
/** The interval a report picks by itself: about this many across all the runs. */
const TARGET_INTERVALS = 240;
/**
 * Causes kept apart, the first seen first. A cause can carry a server's error code, and a
 * hostile (or merely chatty) server can make every failure's code unique: a series each would be unbounded.
 * Further causes count as `retry (other causes)` or `failed (other causes)`.
 */
const MAX_CAUSES = 48;

/** What a series counts: orders by outcome, or requests retried and orders failed, by cause. */
export type SeriesKey = 'deleted' | 'alreadyAbsent' | 'failed' | 'wouldDelete' | `retry ${string}` | `failed ${string}`;
const OUTCOME_SERIES = { deleted: 'deleted', already_absent: 'alreadyAbsent', failed: 'failed', would_delete: 'wouldDelete' } as const;

export interface Interval {
  /** Start of the interval, ms since the epoch. */
  startMs: number;
  /** How many of the series' events fell in it, by series; series absent are 0. */
  counts: Partial<Record<SeriesKey, number>>;
  /** The paced rate at the end of the interval, requests/s; null: unpaced. */
  paceRps: number | null;
  /** Time in it during which every request waited: a Retry-After everyone waits out, or the service failing, ms. */
  pausedMs: number;
}

interface ThrottleMark {
  atMs: number;
  kind: ThrottleFields['kind'];
  rateBefore: number | null;
  rateAfter: number | null;
  share: number;
  /** The throttled share taken for noise (a noise decision's, told in its words). */
  baseline: number;
  /** The ceiling after it (a climb back's: where it climbs to; null: unpaced). */
  ceiling: number | null;
  pauseMs: number;
}

interface Pause {
  fromMs: number;
  toMs: number;
  why: 'throttled' | 'service failing';
}

/** One run (the first, or a resume): its own stretch of time. */
export interface Segment {
  runId: string;
  auditLog: string;
  resumeOf?: string;
  startMs: number;
  /** Its run.end, or its last line when it was killed. */
  endMs: number;
  status: RunStatus | null;
  /** The time at the consent question, within the segment: not working time. */
  consentWaitMs: number;
  /** Its working time, as its run.end counts it; a killed run has none (the time from its start less the consent wait). */
  workMs?: number;
  dryRun: boolean;
  intervals: Interval[];
  throttles: ThrottleMark[];
  paces: Array<{ atMs: number; rps: number | null }>;
  pauses: Pause[];
}

export interface RunTimeline {
  intervalMs: number;
  segments: Segment[];
  /** Every series that has a count, in the order a chart stacks them (the largest cause first), and each one's total. */
  series: { outcomes: SeriesKey[]; causes: SeriesKey[]; totals: Partial<Record<SeriesKey, number>> };
  latency: Latency;
}

interface Gathering extends Omit<Segment, 'intervals'> {
  slotMs: number;
  slots: Map<SeriesKey, number[]>;
  failingSince?: number;
}

/**
 * The per-interval story of a run and its resumes, gathered while the audit logs are read (never holding
 * their lines): outcomes per interval, retries and failures by cause, the rate controller's decisions, the
 * paced rate, the pauses, and the orders' durations. Each log's last run chain is gathered by a
 * `chain()` of its own, given every record of it in order (as the report's reader does) and then
 * `add`ed; `finish` cuts the counts into intervals.
 */
export class TimelineBuilder {
  private readonly chains: ChainTimeline[] = [];
  private readonly causes = new Set<string>();

  /** A gatherer for a run chain of `auditLog`, to `add` if it is the log's last. */
  chain(auditLog: string): ChainTimeline {
    return new ChainTimeline(auditLog, (key) => this.cause(key));
  }

  add(chain: ChainTimeline): void {
    this.chains.push(chain);
  }

  /** The timeline, at `intervalMs` (rounded up to a slot width) or at about TARGET_INTERVALS intervals across the runs. */
  finish(intervalMs?: number): RunTimeline {
    const runs = this.chains.flatMap((chain) => chain.segments);
    const working = runs.reduce((sum, run) => sum + (run.endMs - run.startMs), 0);
    const wanted = intervalMs ?? working / TARGET_INTERVALS;
    const chosen = Math.max(...runs.map((run) => run.slotMs), INTERVALS_MS.find((ms) => ms >= wanted) ?? (INTERVALS_MS.at(-1) as number));
    const totals = new Map<SeriesKey, number>();
    const segments = runs.map((run) => {
      if (run.failingSince !== undefined) run.pauses.push({ fromMs: run.failingSince, toMs: run.endMs, why: 'service failing' });
      regroup(run, chosen);
      for (const [key, slots] of run.slots) totals.set(key, (totals.get(key) ?? 0) + slots.reduce((a, b) => a + b, 0));
      const count = Math.max(1, Math.ceil((run.endMs - run.startMs + 1) / chosen));
      const intervals: Interval[] = [];
      let pace = 0;
      let rps: number | null = null;
      for (let i = 0; i < count; i++) {
        const startMs = run.startMs + i * chosen;
        const endMs = startMs + chosen;
        const counts: Interval['counts'] = {};
        for (const [key, slots] of run.slots) if (slots[i]) counts[key] = slots[i];
        while (pace < run.paces.length && (run.paces[pace] as { atMs: number }).atMs < endMs) rps = (run.paces[pace++] as { rps: number | null }).rps;
        intervals.push({ startMs, counts, paceRps: rps, pausedMs: overlap(run.pauses, startMs, Math.min(endMs, run.endMs)) });
      }
      const { slots: _slots, slotMs: _slotMs, failingSince: _failingSince, ...segment } = run;
      return { ...segment, intervals };
    });
    const byTotal = (keys: SeriesKey[]) => keys.sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
    const present = [...totals.keys()].filter((key) => (totals.get(key) ?? 0) > 0);
    return {
      intervalMs: chosen,
      segments,
      series: {
        outcomes: (Object.values(OUTCOME_SERIES) as SeriesKey[]).filter((key) => present.includes(key)),
        causes: byTotal(present.filter((key) => key.startsWith('retry ') || key.startsWith('failed '))),
        totals: Object.fromEntries(totals),
      },
      latency: this.latency(),
    };
  }

  private cause(key: `retry ${string}` | `failed ${string}`): SeriesKey {
    if (this.causes.has(key) || this.causes.size < MAX_CAUSES) {
      this.causes.add(key);
      return key;
    }
    return key.startsWith('retry ') ? 'retry (other causes)' : 'failed (other causes)';
  }

  private latency(): Latency {
    const durations = new Float64Array(this.chains.reduce((n, chain) => n + chain.orderDurations.length, 0));
    const attempts: number[] = [];
    let filled = 0;
    for (const chain of this.chains) {
      durations.set(chain.orderDurations, filled);
      filled += chain.orderDurations.length;
      chain.attempts.forEach((orders, i) => (attempts[i] = (attempts[i] ?? 0) + orders));
    }
    return latencyOf(durations, attempts);
  }
}

/** One run chain of one log: its runs (a segment each), and its orders' durations and attempts. */
export class ChainTimeline {
  readonly segments: Gathering[] = [];
  /** Orders by the requests they took. */
  readonly attempts: number[] = [];
  private durations = new Float64Array(1024);
  private durationCount = 0;

  constructor(
    private readonly auditLog: string,
    private readonly cause: (key: `retry ${string}` | `failed ${string}`) => SeriesKey,
  ) {}

  record(line: AuditRecord): void {
    const at = Date.parse(line.time);
    if (line.event === 'run.start') {
      // From its start as every report tells it (run-ledger): its log opened, before the listing and the consent.
      const { startedAt, consentWaitMs } = runStartOf(line);
      const startMs = Date.parse(startedAt);
      this.segments.push({
        runId: line.runId, auditLog: this.auditLog, ...(line.resumeOf ? { resumeOf: line.resumeOf } : {}), startMs, endMs: at, status: null, consentWaitMs,
        dryRun: line.options.dryRun === true, throttles: [], paces: [], pauses: [], slotMs: INTERVALS_MS[0] as number, slots: new Map(),
      });
      return;
    }
    const run = this.segments.at(-1);
    if (!run || Number.isNaN(at)) return;
    run.endMs = Math.max(run.endMs, at);
    switch (line.event) {
      case 'order':
        add(run, OUTCOME_SERIES[line.outcome], at);
        if (line.outcome === 'failed') add(run, this.cause(`failed ${failureCause(line)}`), at);
        if (line.outcome !== 'would_delete') {
          this.duration(line.durationMs);
          this.attempts[line.attempts] = (this.attempts[line.attempts] ?? 0) + 1;
        }
        break;
      case 'order.retry':
        add(run, this.cause(`retry ${retryCause(line)}`), at);
        break;
      case 'throttle':
        run.throttles.push({ atMs: at, kind: line.kind, rateBefore: line.rateBefore, rateAfter: line.rateAfter, share: line.share, baseline: line.baseline, ceiling: line.ceiling, pauseMs: line.pauseMs });
        run.paces.push({ atMs: at, rps: line.rateAfter });
        if (line.pauseMs > 0) run.pauses.push({ fromMs: at, toMs: at + line.pauseMs, why: 'throttled' });
        break;
      case 'pace':
        run.paces.push({ atMs: at, rps: line.rps });
        break;
      case 'service':
        if (line.state === 'failing') run.failingSince ??= at;
        else if (run.failingSince !== undefined) {
          run.pauses.push({ fromMs: run.failingSince, toMs: at, why: 'service failing' });
          delete run.failingSince;
        }
        break;
      case 'run.end':
        run.status = line.status;
        run.workMs = line.durationMs;
        break;
    }
  }

  /** The orders' durations, ms (not a dry run's). */
  get orderDurations(): Float64Array {
    return this.durations.subarray(0, this.durationCount);
  }

  private duration(ms: number): void {
    if (this.durationCount === this.durations.length) {
      const grown = new Float64Array(this.durations.length * 2);
      grown.set(this.durations);
      this.durations = grown;
    }
    this.durations[this.durationCount++] = ms;
  }
}

function add(run: Gathering, key: SeriesKey, at: number): void {
  // (A line stamped before its run.start — a clock stepped back — counts in the first slot.)
  let slot = Math.max(0, Math.floor((at - run.startMs) / run.slotMs));
  if (slot >= MAX_SLOTS) {
    const wider = INTERVALS_MS.find((ms) => ms > run.slotMs && (at - run.startMs) / ms < MAX_SLOTS / 2) ?? (INTERVALS_MS.at(-1) as number);
    regroup(run, wider);
    slot = Math.max(0, Math.floor((at - run.startMs) / run.slotMs));
  }
  let slots = run.slots.get(key);
  if (!slots) run.slots.set(key, (slots = []));
  while (slots.length <= slot) slots.push(0);
  slots[slot] = (slots[slot] as number) + 1;
}

/** Sums a run's slots into wider ones (`slotMs` divides `wider`). */
function regroup(run: Gathering, wider: number): void {
  if (wider === run.slotMs) return;
  const factor = wider / run.slotMs;
  for (const [key, slots] of run.slots) {
    const merged: number[] = [];
    slots.forEach((n, i) => {
      const j = Math.floor(i / factor);
      merged[j] = (merged[j] ?? 0) + n;
    });
    run.slots.set(key, Array.from(merged, (n) => n ?? 0));
  }
  run.slotMs = wider;
}

/** Time within [from, to) covered by the pauses (overlapping pauses counted once), ms. */
function overlap(pauses: Pause[], from: number, to: number): number {
  const clipped = pauses.map((p) => [Math.max(from, p.fromMs), Math.min(to, p.toMs)] as const).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reached = from;
  for (const [a, b] of clipped) {
    total += Math.max(0, b - Math.max(a, reached));
    reached = Math.max(reached, b);
  }
  return total;
}
