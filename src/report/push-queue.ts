import { humanDuration } from '../common/durations.js';

/**
 * Pushes of a state that only ever moves on (the run's metrics): one at a time, so that a slow receiver
 * never has two of ours in flight and they cannot arrive out of order; while one is in flight at most
 * one more waits, and a newer request replaces the waiting one — each push sends the state of the moment
 * it starts, so the latest state wins and nothing piles up. `drain` waits for what is in flight and
 * waiting, for a bounded time in all, then aborts it: nothing is left to hold the process.
 */
export class PushQueue {
  private inFlight: Promise<void> | undefined;
  private waiting = false;
  private closed = false;
  private controller: AbortController | undefined;

  /** `push` sends the current state; it stops when `signal` aborts, and handles its own failures. */
  constructor(private readonly push: (signal: AbortSignal) => Promise<void>) {}

  /** Send the state now, or as soon as the push in flight is done. */
  request(): void {
    if (this.closed) return;
    if (this.inFlight) this.waiting = true;
    else this.start();
  }

  /**
   * Waits for the push in flight and the one waiting, `ms` at most in all; then aborts what is left and
   * takes no more. Resolves true when everything requested went out in time.
   */
  async drain(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms);
      timer.unref();
    });
    try {
      while (this.inFlight) {
        if ((await Promise.race([this.inFlight, late])) === 'late') break;
      }
    } finally {
      clearTimeout(timer);
    }
    this.closed = true;
    const unfinished = this.inFlight !== undefined;
    this.waiting = false;
    this.controller?.abort(new Error(`no answer within ${humanDuration(ms)}`));
    await this.inFlight; // an aborted push ends at once (its socket destroyed), having said why
    return !unfinished;
  }

  private start(): void {
    const controller = (this.controller = new AbortController());
    this.inFlight = this.push(controller.signal).catch(() => undefined).finally(() => {
      this.inFlight = undefined;
      if (this.waiting && !this.closed) {
        this.waiting = false;
        this.start();
      }
    });
  }
}
