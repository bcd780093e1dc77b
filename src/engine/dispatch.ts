import { setTimeout as delay } from 'node:timers/promises';

export interface DispatchLimits {
  /** Items under way at most. */
  max: number;
  /**
   * Whether another item may start now, given how many are under way: e.g. while fewer than twice the
   * in-flight bound are sending or queued to send (items waiting to retry do not count).
   */
  ready?: (running: number) => boolean;
}

/** While `ready` says no, it is asked again this often (and whenever an item settles). */
const RECHECK_MS = 20;

/** Waits `ms`; never keeps the process alive. Tests on simulated time give their own. */
export type Wait = (ms: number) => Promise<void>;
const unrefDelay: Wait = (ms) => delay(ms, undefined, { ref: false });

/**
 * Runs `worker` over `items`, starting the next item only when fewer than `max` are under way and `ready`
 * agrees: memory holds the items under way, never one per pending item. Stops pulling once `stopping`
 * fires; the items already started finish. A worker that throws stops the dispatch, and its error is
 * rethrown once every started item has settled.
 */
export async function dispatch<T>(
  items: Iterable<T>, limits: DispatchLimits, worker: (item: T) => Promise<void>, stopping: AbortSignal, wait: Wait = unrefDelay,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const ready = limits.ready ?? (() => true);

  const settle = (task: Promise<void>) => {
    running.delete(task);
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  for (const item of items) {
    while ((running.size >= limits.max || !ready(running.size)) && !stopping.aborted && !failure) {
      const settled = new Promise<void>((resolve) => (wake = resolve));
      // An item that starts waiting to retry settles nothing: `ready` is asked again after a short while.
      await (running.size >= limits.max ? settled : Promise.race([settled, wait(RECHECK_MS)]));
    }
    if (stopping.aborted || failure) break;
    const task: Promise<void> = Promise.resolve()
      .then(() => (stopping.aborted || failure ? undefined : worker(item)))
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => settle(task));
    running.add(task);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
