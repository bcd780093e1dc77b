import pLimit from 'p-limit';

/**
 * Runs `worker` over `items` with at most `concurrency` at once (p-limit), pulling the next item only
 * when the queue in front of the workers is short: memory holds about 2 × concurrency tasks, never one per
 * pending item. Stops pulling once `stopping` fires; the tasks already started finish. A worker that
 * throws stops the dispatch, and its error is rethrown once every started task has settled.
 */
export async function dispatch<T>(items: Iterable<T>, concurrency: number, worker: (item: T) => Promise<void>, stopping: AbortSignal): Promise<void> {
  const limit = pLimit(concurrency);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  const settle = (task: Promise<void>) => {
    running.delete(task);
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  for (const item of items) {
    while (limit.pendingCount >= concurrency && !stopping.aborted && !failure) {
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (stopping.aborted || failure) break;
    const task: Promise<void> = limit(() => (stopping.aborted || failure ? undefined : worker(item)))
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => settle(task));
    running.add(task);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
