/**
 * Simulated time for code that takes its clock injected (`now`, `sleep`, a timer): time moves only when
 * nothing else can happen. `run` lets the event loop run everything that is ready — promises, and
 * callbacks queued with setImmediate — and only then jumps to the earliest timer and fires it. A run of
 * minutes takes milliseconds, and the same run gives the same times on any machine, however busy.
 */
export class VirtualClock {
  private current = 0;
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;

  readonly now = (): number => this.current;

  /** Runs `fire` once `ms` have passed; returns a cancel. */
  readonly timer = (fire: () => void, ms: number): (() => void) => {
    const entry = { at: this.current + Math.max(0, ms), seq: this.seq++, fire };
    // Kept in order by binary insertion: time, then the order scheduled.
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.timers[mid]!.at <= entry.at) low = mid + 1;
      else high = mid;
    }
    this.timers.splice(low, 0, entry);
    return () => {
      const index = this.timers.indexOf(entry);
      if (index >= 0) this.timers.splice(index, 1);
    };
  };

  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      cancel();
      reject(signal!.reason as Error);
    };
    const cancel = this.timer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

  /** Drives `work` to its end on simulated time; fails if it waits for something no timer will bring. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(() => (settled = true), () => (settled = true));
    for (;;) {
      await idle();
      if (settled) return work;
      const next = this.timers.shift();
      if (!next) throw new Error(`stuck at ${this.current} ms of simulated time: the work waits, and no timer is set`);
      this.current = next.at;
      next.fire();
    }
  }
}

/** A few turns of the event loop: what is ready (promise chains, setImmediate's callbacks and theirs) runs. */
async function idle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}
