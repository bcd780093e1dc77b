/** The orders' durations and attempts, as the report's latency chart and table show them. */
export interface Latency {
  /** Orders with a duration (not a dry run's). */
  orders: number;
  percentiles: { p50: number; p90: number; p99: number; max: number } | null;
  /** Orders by duration, on 1-2-5 steps: [fromMs, toMs). */
  histogram: Array<{ fromMs: number; toMs: number; orders: number }>;
  /** Orders by the requests they took. */
  attempts: Array<{ attempts: number; orders: number }>;
}

/** The latency of orders that took `durations` ms (sorted here, in place), and `attempts`: orders by the requests they took. */
export function latencyOf(durations: Float64Array, attempts: number[]): Latency {
  const sorted = durations.sort();
  const n = sorted.length;
  const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
  const histogram: Latency['histogram'] = [];
  if (n > 0) {
    let i = 0;
    for (const [fromMs, toMs] of steps125(sorted[n - 1] as number)) {
      const first = i;
      while (i < n && (sorted[i] as number) < toMs) i++;
      histogram.push({ fromMs, toMs, orders: i - first });
    }
  }
  return {
    orders: n,
    percentiles: n > 0 ? { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1] as number } : null,
    histogram,
    attempts: attempts.flatMap((orders, attempts) => (orders ? [{ attempts, orders }] : [])),
  };
}

/** [from, to) ranges on 1-2-5 steps from 0 up past `max` ms: [0,1), [1,2), [2,5), [5,10), … */
function steps125(max: number): Array<[number, number]> {
  const bounds = [0, 1];
  for (let decade = 1; bounds.at(-1)! <= max; decade *= 10) bounds.push(2 * decade, 5 * decade, 10 * decade);
  while (bounds.length > 2 && (bounds.at(-2) as number) > max) bounds.pop();
  return bounds.slice(1).map((to, i) => [bounds[i] as number, to]);
}
