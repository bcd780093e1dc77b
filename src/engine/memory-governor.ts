import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the heap near what is live. V8 lets the old generation grow to several times the live heap
 * between full collections when collecting is cheap — and a run's heap is mostly one large, cheap to
 * mark set of order IDs — so a million-order run would peak at about four times its live memory. This
 * asks for a full collection whenever the heap has grown by `slackBytes` past what the last one left.
 * The check is a number comparison, made every `every` orders.
 */
export class MemoryGovernor {
  private readonly gc: (() => void) | undefined;
  private liveAfterLastGc = process.memoryUsage().heapUsed;
  private counter = 0;
  collections = 0;

  constructor(
    private readonly slackBytes = 48 * 1024 * 1024,
    private readonly every = 2000,
  ) {
    try {
      setFlagsFromString('--expose-gc');
      this.gc = runInNewContext('gc') as () => void;
    } catch {
      this.gc = undefined; // without it, V8's own schedule applies
    }
  }

  /** Called once per finished order. */
  tick(): void {
    if (!this.gc || ++this.counter % this.every !== 0) return;
    if (process.memoryUsage().heapUsed < this.liveAfterLastGc + this.slackBytes) return;
    this.gc();
    this.collections++;
    this.liveAfterLastGc = process.memoryUsage().heapUsed;
  }
}
