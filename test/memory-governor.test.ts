import { describe, expect, test } from '@jest/globals';
import { MemoryGovernor } from '../src/engine/memory-governor.js';

describe('MemoryGovernor', () => {
  test('collects once the heap has grown past the slack, and only then', () => {
    const governor = new MemoryGovernor(8 * 1024 * 1024, 1);
    governor.tick();
    expect(governor.collections).toBe(0);
    const before = process.memoryUsage().heapUsed;
    let garbage: number[][] | undefined = Array.from({ length: 40 }, () => new Array(100_000).fill(1)); // ~32 MB
    expect(process.memoryUsage().heapUsed - before).toBeGreaterThan(16 * 1024 * 1024); // the heap did grow past the slack
    garbage = undefined;
    governor.tick();
    expect(governor.collections).toBe(1);
    governor.tick();
    expect(governor.collections).toBe(1);
  });
});
