import { describe, expect, test } from '@jest/globals';
import { parseLimit, parseOutage, RequestLimit } from '../src/fake-exsited/limits.js';

describe("the fake's limits", () => {
  test('a token bucket: a burst of R, then R a second, with the wait in Retry-After', () => {
    let now = 0;
    const bucket = new RequestLimit(parseLimit('bucket:10'), () => now);
    const first = Array.from({ length: 12 }, () => bucket.take().allowed);
    expect(first.filter(Boolean)).toHaveLength(10);
    expect(bucket.take()).toEqual({ allowed: false, retryAfterS: 1 });
    now = 500;
    expect(Array.from({ length: 6 }, () => bucket.take().allowed).filter(Boolean)).toHaveLength(5);
  });

  test('a fixed window: N per calendar second, whenever in the second they come', () => {
    let now = 900;
    const window = new RequestLimit(parseLimit('window:3'), () => now);
    expect([1, 2, 3, 4].map(() => window.take().allowed)).toEqual([true, true, true, false]);
    now = 1000;
    expect([1, 2, 3, 4].map(() => window.take().allowed)).toEqual([true, true, true, false]);
  });

  test('specs: bucket:R[:B], window:N, DURATIONs@STARTs; anything else is refused with the flag named', () => {
    expect(parseLimit('bucket:100:200')).toEqual({ kind: 'bucket', rate: 100, burst: 200 });
    expect(parseLimit('window:50')).toEqual({ kind: 'window', rate: 50 });
    expect(parseLimit('window:30:10')).toEqual({ kind: 'window', rate: 30, windowS: 10 });
    let now = 2000;
    const quota = new RequestLimit(parseLimit('window:2:10'), () => now);
    expect([quota.take(), quota.take(), quota.take()]).toEqual([{ allowed: true }, { allowed: true }, { allowed: false, retryAfterS: 8 }]); // until the window's end
    now = 10_000;
    expect(quota.take()).toEqual({ allowed: true });
    expect(parseOutage('10s@2.5s')).toEqual({ durationMs: 10_000, afterMs: 2500 });
    expect(parseOutage('30s@10s:429')).toEqual({ durationMs: 30_000, afterMs: 10_000, status: 429 });
    expect(parseOutage('30s@10s:503')).toEqual({ durationMs: 30_000, afterMs: 10_000 });
    for (const bad of ['bucket', 'bucket:0', 'window:x', 'leaky:5', 'bucket:5:0', 'window:5:0']) expect(() => parseLimit(bad)).toThrow(/^--limit: /);
    for (const bad of ['10s', '10@2', 's@s', '10s@2s:404', '10s@2s:']) expect(() => parseOutage(bad)).toThrow(/^--outage: /);
  });
});
