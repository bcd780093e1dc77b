/** Evidence is significant at e^SIGNIFICANT to one (about 1,000 to 1): how the estimator and the noise test decide. */
export const SIGNIFICANT = 6.9;

/**
 * How surprising `k` throttled answers of `n` are if each is throttled with chance `p`: the Chernoff bound's
 * exponent, n·KL(k/n ‖ p); seeing this many or more has a chance of at most e^-surprise.
 */
export function surprise(n: number, k: number, p: number): number {
  const q = k / n;
  if (q <= p) return 0;
  const kl = q * Math.log(q / p) + (q < 1 ? (1 - q) * Math.log((1 - q) / (1 - p)) : 0);
  return n * kl;
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
