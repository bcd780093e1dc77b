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
/** Missed periods marked at most, the latest: --expect-every 1m over a year would be half a million. */
const MAX_NIGHTS = 10_000;
/** Phases tried as the expected one: the latest runs' (the count against all runs is then bounded). */
const CANDIDATES = 200;

/** A run's tone: failed and crashed runs stand out, so do runs stopped before their end (halted, interrupted, killed); one going is neither. */
export function toneOf({ status, running }: { status: RunStatus | null; running: boolean }): Tone {
  if (status === 'failed' || status === 'crashed') return 'bad';
  return status === 'completed' || running ? 'ok' : 'warn';
}

/**
 * The runs by night, oldest first. With `everyMs` (--expect-every), the periods are `everyMs` long and
 * centred on the times a run is expected: the time of day (the phase in the period) most runs started
 * at, so that a cron job's drift of minutes never moves a run to the next night, and a person's run at
 * another hour never moves the nights. Every period that has passed by `now` without a run is a missed
 * night, those after the last run included (a job that stopped running) — the latest MAX_NIGHTS periods
 * at most (a run from a clock set to 1970 does not fill fifty years with gaps). Without `everyMs`, UTC days
 * that hold a run (nothing can be missed: nothing was expected). A run whose start is not a time (an edited
 * line, a year past 9999) has its row, but no night.
 */
export function nightsOf(all: NightRun[], everyMs: number | undefined, now: number): Night[] {
  const runs = all.filter((run) => isDrawable(Date.parse(run.startedAt)));
  if (runs.length === 0) return [];
  const starts = runs.map((run) => Date.parse(run.startedAt));
  const period = everyMs ?? DAY;
  // Period k runs from origin + k·period: its expected time, the phase, is its middle.
  const origin = everyMs ? expectedPhase(starts, everyMs) - everyMs / 2 : 0;
  const indexOf = (ms: number) => Math.floor((ms - origin) / period);
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
    const night = nightAt(indexOf(starts[i] as number));
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
    // The periods that have ended by now, from the first run's on (the latest MAX_NIGHTS of them).
    const first = starts.reduce((a, b) => Math.min(a, b));
    const lastEnded = indexOf(now) - 1;
    for (let index = Math.max(indexOf(first), lastEnded - MAX_NIGHTS + 1); index <= lastEnded; index++) {
      if (!nights.has(index)) nightAt(index).tone = 'missed';
    }
  }
  return [...nights.entries()].sort(([a], [b]) => a - b).map(([, night]) => night);
}

/**
 * The phase (time in the period, ms) runs are expected at: of the latest runs' phases, the one with the
 * most runs within a quarter period of it (the latest on a tie) — a cron job's time, not a person's.
 */
function expectedPhase(starts: number[], period: number): number {
  const phases = starts.map((ms) => ((ms % period) + period) % period);
  const near = (a: number, b: number) => Math.min(Math.abs(a - b), period - Math.abs(a - b)) <= period / 4;
  let best = phases.at(-1) as number;
  let bestCount = -1;
  for (const candidate of phases.slice(-CANDIDATES).reverse()) {
    const count = phases.reduce((n, phase) => n + (near(phase, candidate) ? 1 : 0), 0);
    if (count > bestCount) [best, bestCount] = [candidate, count];
  }
  return best;
}

/** A start a night can be made of: a time from 1970 to 9999 (one beyond, an edit's, has its row and no night). */
const isDrawable = (ms: number) => ms >= 0 && ms <= LAST_DRAWABLE_MS;
const LAST_DRAWABLE_MS = Date.UTC(9999, 11, 30);

/** The nights by how they went: how many went well, failed, stopped early, were missed. */
export function nightsByTone(nights: Night[]): Record<Night['tone'], number> {
  const counts = { ok: 0, warn: 0, bad: 0, missed: 0 };
  for (const night of nights) counts[night.tone]++;
  return counts;
}

/** The nights that stand out, in words, those there are: `1 failed, 2 stopped early, 1 missed` (the listing's and the page's). */
export function standingOut(counts: Record<Night['tone'], number>): string[] {
  return ([['bad', 'failed'], ['warn', 'stopped early'], ['missed', 'missed']] as const).filter(([tone]) => counts[tone] > 0).map(([tone, words]) => `${counts[tone]} ${words}`);
}

const RANK: Record<Tone, number> = { ok: 0, warn: 1, bad: 2 };
const worse = (a: Tone, b: Tone): Tone => (RANK[b] > RANK[a] ? b : a);

/** A night by its day; periods under a day by their time too (UTC). */
function labelOf(ms: number, period: number): string {
  const iso = new Date(ms).toISOString();
  return period >= DAY ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
