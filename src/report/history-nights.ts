import { usageError } from '../common/errors.js';
import type { RunStatus } from '../common/domain.js';

/** How a run or a night went, for the eye: failed or crashed (bad), stopped before the end (warn), or well. */
export type Tone = 'ok' | 'warn' | 'bad';

/** The runs of one night (a period of --expect-every, or a UTC day), added up. */
export interface Night {
  /** Its period: from `startMs` to `endMs`; `label`, its day (and time, for periods under a day). */
  startMs: number;
  endMs: number;
  label: string;
  runs: number;
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  wouldDelete: number;
  durationMs: number;
  throttledMs: number;
  /** The worst of its runs; `missed`: no run started in a period that has passed (with --expect-every only). */
  tone: Tone | 'missed';
}

interface NightRun {
  startedAt: string;
  status: RunStatus | null;
  running: boolean;
  durationMs: number;
  throttledMs: number;
  counts: { deleted: number; alreadyAbsent: number; failed: number; wouldDelete: number };
}

const DAY = 86_400_000;
/** Periods the history shows at most: --expect-every 1m over a year would be half a million. */
const MAX_NIGHTS = 10_000;

/** A run's tone: failed and crashed runs stand out, so do runs stopped before their end (halted, interrupted, killed); one going is neither. */
export function toneOf({ status, running }: { status: RunStatus | null; running: boolean }): Tone {
  if (status === 'failed' || status === 'crashed') return 'bad';
  return status === 'completed' || running ? 'ok' : 'warn';
}

/**
 * The runs by night, oldest first. With `everyMs` (--expect-every), the periods are `everyMs` long and
 * centred on the times a run was expected — the first run's start, then every `everyMs` — so that a cron
 * job's drift of minutes never moves a run to the next night; every period that has passed by `now`
 * without a run is a missed night, the ones after the last run included (a job that stopped running).
 * Without it, UTC days that hold a run (nothing can be missed: nothing was expected).
 */
export function nightsOf(all: NightRun[], everyMs: number | undefined, now: number): Night[] {
  // A run whose start is not a time (an edited line) has its row, but no night.
  const runs = all.filter((run) => Number.isFinite(Date.parse(run.startedAt)));
  if (runs.length === 0) return [];
  const starts = runs.map((run) => Date.parse(run.startedAt));
  const anchor = starts.reduce((a, b) => Math.min(a, b));
  const period = everyMs ?? DAY;
  const origin = everyMs ? anchor - everyMs / 2 : Math.floor(anchor / DAY) * DAY;
  const last = starts.reduce((a, b) => Math.max(a, b), everyMs ? now - everyMs / 2 : anchor);
  const count = Math.floor((last - origin) / period) + 1;
  // Only periods are made one by one (missed ones): days without a run are not.
  if (everyMs && count > MAX_NIGHTS) {
    throw usageError(`--expect-every: ${count.toLocaleString('en-US')} periods from the first run (${labelOf(anchor, 0)}) to ${labelOf(last, 0)}; the history shows at most ` +
      `${MAX_NIGHTS.toLocaleString('en-US')}: expect runs less often`);
  }
  const nights = new Map<number, Night>();
  const nightAt = (index: number): Night => {
    const startMs = origin + index * period;
    const night = nights.get(index) ?? {
      startMs, endMs: startMs + period, label: labelOf(everyMs ? startMs + period / 2 : startMs, period), runs: 0,
      deleted: 0, alreadyAbsent: 0, failed: 0, wouldDelete: 0, durationMs: 0, throttledMs: 0, tone: 'ok' as Night['tone'],
    };
    nights.set(index, night);
    return night;
  };
  runs.forEach((run, i) => {
    const night = nightAt(Math.floor(((starts[i] as number) - origin) / period));
    night.runs++;
    night.deleted += run.counts.deleted;
    night.alreadyAbsent += run.counts.alreadyAbsent;
    night.failed += run.counts.failed;
    night.wouldDelete += run.counts.wouldDelete;
    night.durationMs += run.durationMs;
    night.throttledMs += run.throttledMs;
    night.tone = worse(night.tone as Tone, toneOf(run));
  });
  if (everyMs) {
    for (let index = 0; index < count; index++) {
      if (!nights.has(index) && origin + (index + 1) * period <= now) nightAt(index).tone = 'missed';
    }
  }
  return [...nights.entries()].sort(([a], [b]) => a - b).map(([, night]) => night);
}

const RANK: Record<Tone, number> = { ok: 0, warn: 1, bad: 2 };
const worse = (a: Tone, b: Tone): Tone => (RANK[b] > RANK[a] ? b : a);

/** A night by its day; periods under a day by their time too (UTC). */
function labelOf(ms: number, period: number): string {
  const iso = new Date(ms).toISOString();
  return period >= DAY ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
