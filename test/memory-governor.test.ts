import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
    // Into the old generation while still live (newer V8s allocate large arrays young, where the governor does
    // not look): another full collection promotes them; then they become the old generation's garbage.
    new MemoryGovernor(0, 1).tick();
    garbage = undefined;
    governor.tick();
    expect(governor.collections).toBe(1);
    governor.tick();
    expect(governor.collections).toBe(1);
  });
});

describe('MemoryGovernor and the young generation', () => {
  test('garbage a scavenge frees on its own does not count: 10 MB of short-lived objects, no full collection', async () => {
    // A young generation fixed at 16 MB, so that no scavenge empties it while the garbage is made: the governor
    // once counted it (heapUsed) and asked for a full collection on each filling of the young generation.
    const script = `
      const { MemoryGovernor } = await import(${JSON.stringify(new URL('../dist/engine/memory-governor.js', import.meta.url).href)});
      const governor = new MemoryGovernor(4 * 1024 * 1024, 1);
      const before = process.memoryUsage().heapUsed;
      let garbage = [];
      for (let i = 0; i < 150_000; i++) garbage.push({ i, text: 'order ' + i }); // about 10 MB of small objects
      const grown = process.memoryUsage().heapUsed - before;
      garbage = undefined;
      governor.tick();
      process.stdout.write(JSON.stringify({ grown, collections: governor.collections }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--min-semi-space-size=16', '--max-semi-space-size=16', '--input-type=module', '-e', script]);
    const result = JSON.parse(stdout) as { grown: number; collections: number };
    expect(result.grown).toBeGreaterThan(4 * 1024 * 1024); // the heap did grow past the slack, in the young generation
    expect(result.collections).toBe(0);
  });
});
