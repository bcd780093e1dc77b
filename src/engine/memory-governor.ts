import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the old generation near what is live. V8 lets it grow to several times the live heap between full
 * collections when collecting is cheap, and at full speed each order's request objects (axios's config,
 * Node's request and response) often outlive two scavenges and are promoted there: a 30,000-order run held
 * 55 MB of them. This asks for a full collection whenever the old generation has grown by `slackBytes`
 * past what the last one left. The young generation is not counted: a scavenge frees its garbage without
 * help (counting it, as this once did, collected on every filling of it). Checked every `every` orders.
 */
export class MemoryGovernor {
  private readonly gc: (() => void) | undefined;
  private liveAfterLastGc = oldGeneration();
  private counter = 0;
  collections = 0;

  constructor(
    private readonly slackBytes = 16 * 1024 * 1024,
    private readonly every = 100,
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
    if (oldGeneration() < this.liveAfterLastGc + this.slackBytes) return;
    this.gc();
    this.collections++;
    this.liveAfterLastGc = oldGeneration();
  }
}

/** Bytes in use in the heap outside the young generation. */
function oldGeneration(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) bytes += space.space_used_size;
  return bytes;
}
