import type { AuditRecord, ThrottleLine } from '../audit/records.js';
import { failureCause, retryCause, type RunStatus } from '../common/domain.js';

/**
 * Slot widths a run's counts are gathered at, each dividing the next, so that counts gathered at one are
 * summed exactly into any later one: a run starts at 100 ms slots, and a long run moves to wider slots as
 * it goes, keeping at most MAX_SLOTS of them (memory stays flat however long the run).
 */
export const INTERVALS_MS = [100, 200, 1000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000];
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

export interface ThrottleMark {
  atMs: number;
  kind: ThrottleLine['kind'];
  rateBefore: number | null;
  rateAfter: number | null;
  share: number;
  pauseMs: number;
}

export interface Pause {
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
  dryRun: boolean;
  intervals: Interval[];
  throttles: ThrottleMark[];
  paces: Array<{ atMs: number; rps: number | null }>;
  pauses: Pause[];
}

export interface Latency {
  /** Orders with a duration (not a dry run's). */
  orders: number;
  percentiles: { p50: number; p90: number; p99: number; max: number } | null;
  /** Orders by duration, on 1-2-5 steps: [fromMs, toMs). */
  histogram: Array<{ fromMs: number; toMs: number; orders: number }>;
  /** Orders by the requests they took. */
  attempts: Array<{ attempts: number; orders: number }>;
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
 * The per-interval story of a run and its resumes, gathered while the audit log is read (never holding
 * its lines): outcomes per interval, retries and failures by cause, the rate controller's decisions, the
 * paced rate, the pauses, and the orders' durations. Give it every record of a log in order, through
 * `beginLog` / `chain` / `record`, as the report's reader does; `finish` cuts the counts into intervals.
 */
export class TimelineBuilder {
  private segments: Gathering[] = [];
  private logStart = 0;
  private durations = new Float64Array(1024);
  private durationCount = 0;
  private attempts: number[] = [];
  /** Durations and attempts gathered from the current log before its current chain, to drop with it. */
  private chainDurations = 0;
  private chainAttempts: number[] = [];
  private causes = new Set<string>();

  beginLog(): void {
    this.logStart = this.segments.length;
    this.chainDurations = this.durationCount;
    this.chainAttempts = [...this.attempts];
  }

  /** A fresh run in this log: what was gathered from it so far belongs to another run. */
  chain(): void {
    this.segments.length = this.logStart;
    this.durationCount = this.chainDurations;
    this.attempts = [...this.chainAttempts];
  }

  record(line: AuditRecord, auditLog: string): void {
    const at = Date.parse(line.time);
    if (line.event === 'run.start') {
      this.segments.push({
        runId: line.runId, auditLog, ...(line.resumeOf ? { resumeOf: line.resumeOf } : {}), startMs: at, endMs: at, status: null,
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
        run.throttles.push({ atMs: at, kind: line.kind, rateBefore: line.rateBefore, rateAfter: line.rateAfter, share: line.share, pauseMs: line.pauseMs });
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
        break;
    }
  }

  /** The timeline, at `intervalMs` (rounded up to a slot width) or at about TARGET_INTERVALS intervals across the runs. */
  finish(intervalMs?: number): RunTimeline {
    const working = this.segments.reduce((sum, run) => sum + (run.endMs - run.startMs), 0);
    const wanted = intervalMs ?? working / TARGET_INTERVALS;
    const chosen = Math.max(...this.segments.map((run) => run.slotMs), INTERVALS_MS.find((ms) => ms >= wanted) ?? (INTERVALS_MS.at(-1) as number));
    const totals = new Map<SeriesKey, number>();
    const segments = this.segments.map((run) => {
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

  private duration(ms: number): void {
    if (this.durationCount === this.durations.length) {
      const grown = new Float64Array(this.durations.length * 2);
      grown.set(this.durations);
      this.durations = grown;
    }
    this.durations[this.durationCount++] = ms;
  }

  private latency(): Latency {
    const sorted = this.durations.slice(0, this.durationCount).sort();
    const n = sorted.length;
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
    const histogram: Latency['histogram'] = [];
    if (n > 0) {
      let i = 0;
      for (const [fromMs, toMs] of steps125(sorted[n - 1] as number)) {
        const first = i;
        while (i < n && (sorted[i] as number) < toMs) i++;
        histogram.push({ fromMs, toMs, orders: i - first });
      }
    }
    return {
      orders: n,
      percentiles: n > 0 ? { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1] as number } : null,
      histogram,
      attempts: this.attempts.flatMap((orders, attempts) => (orders ? [{ attempts, orders }] : [])),
    };
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

/** [from, to) ranges on 1-2-5 steps from 0 up past `max` ms: [0,1), [1,2), [2,5), [5,10), … */
function steps125(max: number): Array<[number, number]> {
  const bounds = [0, 1];
  for (let decade = 1; bounds.at(-1)! <= max; decade *= 10) bounds.push(2 * decade, 5 * decade, 10 * decade);
  while (bounds.length > 2 && (bounds.at(-2) as number) > max) bounds.pop();
  return bounds.slice(1).map((to, i) => [bounds[i] as number, to]);
}
