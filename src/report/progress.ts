import { humanDuration } from '../common/durations.js';
import type { RunEvents } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';

export interface ProgressOptions {
  /** Off a terminal: how often a progress line is printed. */
  intervalMs: number;
  /** Throttling so far, in its figures (report/throttling-words): requests answered 429, and everyone waiting. */
  throttling: () => { answered429: number; waitedMs: number };
  /** What holds the run back right now, in a few words (throttled, orders waiting to retry), or ''. */
  state: () => string;
  now?: () => number;
}

/** A terminal's progress line is redrawn this often; off a terminal, a line every `intervalMs`. */
const REDRAW_MS = 500;
/** Weight of the newest rate sample: the rate and the ETA move smoothly, not 254 → 95 → 25 → 133. */
const SMOOTHING = 0.25;

/**
 * Progress on stderr while a run deletes. On a terminal: one live line, a bar like pv's or GNU parallel's
 * --bar with the count, the rate and an ETA (both smoothed), failures and what holds the run back, cut to
 * the terminal's width and cleared at the end, so the summary follows on a clean screen. Elsewhere (cron,
 * pipelines, containers): a line every `intervalMs`. A subscriber: it starts when deletion starts (not for
 * a dry run) and stops when the run ends.
 */
export function reportProgress(events: RunEvents, console: Console, tally: RunTally, options: ProgressOptions): void {
  let timer: NodeJS.Timeout | undefined;
  let total = 0;
  let meter = new SmoothedRate(options.now);
  const tick = () => {
    const done = tally.finished;
    const rate = meter.sample(done);
    const s = tally.summary;
    const text = progressText({ done, total, rate, failed: s.failed, retries: s.retries, state: options.state() });
    if (console.isTerminal) console.live(withBar(text, done, total, console.columns));
    else {
      const t = options.throttling();
      console.say(`progress: ${text}, ${t.answered429} answered 429, everyone waited ${humanDuration(t.waitedMs)}`, 'info', {
        event: 'progress', done, total, ratePerSecond: Math.round(rate * 10) / 10, failed: s.failed, retries: s.retries,
      });
    }
  };
  events
    .on('deletion.started', ({ total: count, dryRun }) => {
      if (dryRun) return;
      total = count;
      meter = new SmoothedRate(options.now);
      timer = setInterval(tick, console.isTerminal ? REDRAW_MS : options.intervalMs).unref();
    })
    .on('run.ended', () => {
      clearInterval(timer);
      console.clearLive();
    });
}

/** A rate from counts sampled now and then, smoothed (an exponentially weighted moving average). */
export class SmoothedRate {
  private lastCount = 0;
  private lastAt: number;
  private rate: number | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.lastAt = now();
  }

  /** The smoothed rate per second, given the count reached by now. */
  sample(count: number): number {
    const at = this.now();
    const instant = ((count - this.lastCount) * 1000) / Math.max(1, at - this.lastAt);
    this.rate = this.rate === undefined ? instant : SMOOTHING * instant + (1 - SMOOTHING) * this.rate;
    this.lastCount = count;
    this.lastAt = at;
    return this.rate;
  }
}

export interface ProgressFigures {
  done: number;
  total: number;
  /** Orders a second, smoothed. */
  rate: number;
  failed: number;
  retries: number;
  state: string;
}

/** `120/400 (30%), 85.2 orders/s, ETA 3 s, 2 failed, 14 retries, throttled`. */
export function progressText(f: ProgressFigures): string {
  const percent = f.total > 0 ? Math.floor((f.done * 100) / f.total) : 100;
  // Whole seconds: tenths of a smoothed estimate are noise.
  const eta = f.rate > 0.05 ? humanDuration(Math.ceil((f.total - f.done) / f.rate) * 1000) : '-';
  return `${f.done}/${f.total} (${percent}%), ${f.rate.toFixed(1)} orders/s, ETA ${eta}, ${f.failed} failed, ${f.retries} retries` +
    (f.state ? `, ${f.state}` : '');
}

/** The text behind a bar that takes what room the terminal leaves (none below 10 columns). */
export function withBar(text: string, done: number, total: number, columns: number): string {
  const width = Math.min(40, columns - 1 - text.length - 3);
  if (width < 10) return text;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
}
