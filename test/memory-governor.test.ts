import { describe, expect, test } from '@jest/globals';
import { MemoryGovernor } from '../src/engine/memory-governor.js';

describe('MemoryGovernor', () => {
  test('collects once the heap has grown past the slack, and only then', () => {
    // A full collection first: garbage an earlier test file left in this worker would otherwise be collected
    // during the allocation below, and the heap would not seem to grow (it failed so after the browser test).
    new MemoryGovernor(0, 1).tick();
    const governor = new MemoryGovernor(8 * 1024 * 1024, 1);
    governor.tick();
    expect(governor.collections).toBe(0);
    const before = process.memoryUsage().heapUsed;
    // 32 MB of doubles (small integers may be stored in 4 bytes each: Node 26 held this to 16 MB)
    let garbage: number[][] | undefined = Array.from({ length: 40 }, () => new Array(100_000).fill(1.5));
    expect(process.memoryUsage().heapUsed - before).toBeGreaterThan(12 * 1024 * 1024); // the heap did grow past the slack
    garbage = undefined;
    governor.tick();
    expect(governor.collections).toBe(1);
    governor.tick();
    expect(governor.collections).toBe(1);
  });
});
