import { setMaxListeners } from 'node:events';
import type { StopCause } from '../common/domain.js';
import { humanDuration } from '../common/durations.js';
import { ExitCode, type StopSignal } from '../common/errors.js';

export type StopReason =
  | { kind: 'signal'; signal: StopSignal }
  /** A refusal found mid-way (3), or a halt that a resume can continue (4). */
  | { kind: 'halt'; message: string; exitCode: typeof ExitCode.refused | typeof ExitCode.halted; cause: StopCause };

/** Runs `run` once `ms` have passed; never keeps the process alive. Tests on simulated time give their own. */
type Timer = (run: () => void, ms: number) => void;
const unrefTimer: Timer = (run, ms) => void setTimeout(run, ms).unref();

/**
 * How a run stops early. `stopping` fires first: no new order is dispatched, no new attempt starts and
 * backoff waits end, but requests in flight may finish. `aborting` fires after the grace period and
 * cancels what is still in flight; those orders stay pending for the resume.
 */
export class RunControl {
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  /** The deadline in force, ms from when it was set. */
  private deadlineMs: number | undefined;
  reason: StopReason | undefined;
  /** Whether orders are being deleted (rather than the run still being prepared): what a signal interrupts. */
  deleting = false;
  /**
   * The exit code its run.end recorded, once the run has ended: from then on it is the process's exit code
   * whatever happens (a signal while the last metrics are pushed must not tell another story).
   */
  endedWith: ExitCode | undefined;
  /** Once the run has ended: its summary files being written (a second signal waits for them, a second at most). */
  summaryWritten: Promise<void> | undefined;

  readonly stopping = this.stopController.signal;
  readonly aborting = this.abortController.signal;
  /** `aborting` as every request in flight hears it. */
  readonly inFlight: RequestSignal = new InFlightSignal(this.aborting);

  constructor(
    public graceMs: number,
    private readonly timer: Timer = unrefTimer,
  ) {
    // Every request in flight and every backoff wait listens on these: one listener per worker is expected.
    setMaxListeners(0, this.stopping, this.aborting);
  }

  /**
   * The run's own grace period and deadline, once they are known (a resume takes the recorded ones). One
   * deadline for the process, so that a run that first resumes an unfinished one (--auto-resume) keeps to
   * one for both; a shorter one given later (a resume's, lower than what the process started with) binds.
   */
  configure({ graceMs, deadlineMs }: { graceMs: number; deadlineMs?: number }): void {
    this.graceMs = graceMs;
    if (deadlineMs !== undefined) this.setDeadline(deadlineMs);
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.stopController.abort(new Error('run stopping'));
    if (this.graceMs <= 0) this.abortInFlight();
    else this.timer(() => this.abortInFlight(), this.graceMs);
  }

  /**
   * --max-duration: halt (exit 4, resumable) once `ms` have passed; a later deadline no shorter than the one
   * in force is ignored (red team: a resume's lower recorded --max-duration, which its run.start recorded, was).
   */
  setDeadline(ms: number): void {
    if (this.deadlineMs !== undefined && ms >= this.deadlineMs) return;
    this.deadlineMs = ms;
    this.timer(() => this.stop({
      kind: 'halt', exitCode: ExitCode.halted, cause: 'deadline', message: `the --max-duration deadline (${humanDuration(ms)}) was reached`,
    }), ms);
  }

  private abortInFlight(): void {
    this.abortController.abort(new Error('run aborted'));
  }
}

/** An abort signal as axios takes it (any object of this shape): it listens while a request is in flight. */
export interface RequestSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * One listener on `aborting` for all the requests in flight, which come and go through a Set: an AbortSignal
 * (an EventTarget) searches its list of listeners at each add, and with 64 requests and the backoff waits on
 * it, adding one was 2% of a run's CPU at full speed. A listener added after the abort is never called; axios
 * reads `aborted` first.
 */
class InFlightSignal implements RequestSignal {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => {
      for (const listener of [...this.listeners]) {
        if (!this.listeners.delete(listener)) continue; // removed meanwhile, by one called before it
        try {
          listener();
        } catch (error) {
          process.nextTick(() => { throw error; }); // as an EventTarget says it: the others are still called (red team)
        }
      }
    }, { once: true });
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.delete(listener);
  }
}
