import type { RunEvents } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';

export interface ProgressOptions {
  intervalMs: number;
  throttledMs: () => number;
}

/**
 * Progress on stderr while a run deletes: on a terminal, one line redrawn every second; elsewhere (cron,
 * pipelines, containers) a line every `intervalMs`. Done, total, the rate over the last interval, an
 * ETA at that rate, failures, retries and time spent throttled. A subscriber: it starts when deletion
 * starts (not for a dry run) and stops when the run ends.
 */
export function reportProgress(events: RunEvents, console: Console, tally: RunTally, options: ProgressOptions): void {
  let timer: NodeJS.Timeout | undefined;
  let total = 0;
  let lastDone = 0;
  let lastAt = Date.now();
  let drawn = false;
  const print = () => {
    const s = tally.summary;
    const done = tally.finished;
    const now = Date.now();
    const rate = ((done - lastDone) * 1000) / Math.max(1, now - lastAt);
    lastDone = done;
    lastAt = now;
    const left = total - done;
    const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '-';
    const percent = total > 0 ? Math.floor((done * 100) / total) : 100;
    const line = `progress: ${done}/${total} (${percent}%), ${rate.toFixed(1)} orders/s, ETA ${eta}, ` +
      `${s.failed} failed, ${s.retries} retries, throttled ${(options.throttledMs() / 1000).toFixed(1)} s`;
    if (console.isTerminal) {
      console.write(line, '\r', '\u001b[K');
      drawn = true;
    } else {
      console.say(line, 'info', { event: 'progress', done, total, ratePerSecond: Math.round(rate * 10) / 10, failed: s.failed, retries: s.retries });
    }
  };
  events
    .on('deletion.started', ({ total: count, dryRun }) => {
      if (dryRun) return;
      total = count;
      timer = setInterval(print, console.isTerminal ? 1000 : options.intervalMs).unref();
    })
    .on('run.ended', () => {
      clearInterval(timer);
      if (drawn) console.write('\n');
    });
}
