import { setMaxListeners } from 'node:events';

export type StopReason =
  | { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM' }
  | { kind: 'halt'; message: string; exitCode: 3 | 4 };

/**
 * How a run stops early. `stopping` fires first: no new order is dispatched, no new attempt starts and
 * backoff waits end, but requests in flight may finish. `aborting` fires after the grace period and
 * cancels what is still in flight; those orders stay pending for the resume.
 */
export class RunControl {
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  private graceTimer: NodeJS.Timeout | undefined;
  reason: StopReason | undefined;

  readonly stopping = this.stopController.signal;
  readonly aborting = this.abortController.signal;

  constructor(private readonly graceMs: number) {
    // Every request in flight and every backoff wait listens on these: one listener per worker is expected.
    setMaxListeners(0, this.stopping, this.aborting);
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.stopController.abort(new Error('run stopping'));
    if (this.graceMs <= 0) this.abortInFlight();
    else this.graceTimer = setTimeout(() => this.abortInFlight(), this.graceMs).unref();
  }

  /** Called when the run is over, so that no timer keeps the process alive. */
  dispose(): void {
    clearTimeout(this.graceTimer);
  }

  private abortInFlight(): void {
    this.abortController.abort(new Error('run aborted'));
  }
}
