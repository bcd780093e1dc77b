import { describe, expect, test } from '@jest/globals';
import { MemoryGovernor } from '../src/engine/memory-governor.js';

describe('MemoryGovernor', () => {
  test('collects once the heap has grown past the slack, and only then', () => {
    const governor = new MemoryGovernor(8 * 1024 * 1024, 1);
    governor.tick();
    expect(governor.collections).toBe(0);
    let garbage: number[][] | undefined = Array.from({ length: 40 }, () => new Array(100_000).fill(1)); // ~32 MB
    expect(garbage.length).toBe(40);
    garbage = undefined;
    governor.tick();
    expect(governor.collections).toBe(1);
    governor.tick();
    expect(governor.collections).toBe(1);
  });
});
