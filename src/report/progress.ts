import { secrets } from '../common/secrets.js';
import { finishedOrders, type RunSummary } from './summary.js';
import { say } from './terminal.js';

export interface ProgressOptions {
  /** Orders this run has to finish (selected less those skipped). */
  total: number;
  summary: RunSummary;
  throttledMs: () => number;
  intervalMs: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Progress on stderr while a run deletes: on a terminal, one line redrawn every second; elsewhere (cron,
 * pipelines, containers) a line every `intervalMs`. Done, total, the rate over the last interval, an
 * ETA at that rate, failures, retries and time spent throttled.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastDone = 0;
  private lastAt = Date.now();
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
  }

  start(): void {
    this.timer = setInterval(() => this.print(), this.tty ? 1000 : this.options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty && this.lastDone > 0) this.stream.write('\n');
  }

  private print(): void {
    const s = this.options.summary;
    const done = finishedOrders(s);
    const now = Date.now();
    const rate = ((done - this.lastDone) * 1000) / Math.max(1, now - this.lastAt);
    this.lastDone = done;
    this.lastAt = now;
    const { total } = this.options;
    const left = total - done;
    const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '-';
    const percent = total > 0 ? Math.floor((done * 100) / total) : 100;
    const line = `progress: ${done}/${total} (${percent}%), ${rate.toFixed(1)} orders/s, ETA ${eta}, ` +
      `${s.failed} failed, ${s.retries} retries, throttled ${(this.options.throttledMs() / 1000).toFixed(1)} s`;
    if (this.tty) this.stream.write(`\r\u001b[K${secrets.scrub(line)}`);
    else say(line, 'info', { event: 'progress', done, total, ratePerSecond: Math.round(rate * 10) / 10, failed: s.failed, retries: s.retries });
  }
}
