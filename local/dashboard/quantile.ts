// PromQL's histogram_quantile over classic buckets, so the dashboard's p50/p95/p99 are the numbers
// Prometheus answers for the same buckets: linear interpolation inside the bucket the rank falls
// in, the lowest bucket starting at 0, and the +Inf bucket answering the highest finite bound.
export type Buckets = Array<[number, number]>;

export function histogramQuantile(q: number, buckets: Buckets): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = coalesce(buckets);
  if (sorted.length < 2 || sorted[sorted.length - 1][0] !== Infinity) return NaN;
  // Cumulative counts must not fall (they can, when series are scraped mid-update).
  for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) sorted[i][1] = sorted[i - 1][1];
  const observations = sorted[sorted.length - 1][1];
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = sorted.findIndex(([, count]) => count >= rank);
  if (b === sorted.length - 1) return sorted[sorted.length - 2][0];
  if (b === 0 && sorted[0][0] <= 0) return sorted[0][0];
  let start = 0;
  const end = sorted[b][0];
  let count = sorted[b][1];
  if (b > 0) {
    start = sorted[b - 1][0];
    count -= sorted[b - 1][1];
    rank -= sorted[b - 1][1];
  }
  return start + (end - start) * (rank / count);
}

/** Sorted by bound, equal bounds merged (their counts added). */
function coalesce(buckets: Buckets): Buckets {
  const sorted = buckets.map(([le, c]): [number, number] => [le, c]).sort((a, b) => a[0] - b[0]);
  const out: Buckets = [];
  for (const [le, c] of sorted) {
    if (out.length && out[out.length - 1][0] === le) out[out.length - 1][1] += c;
    else out.push([le, c]);
  }
  return out;
}

/** `sum by (le)` over several series. */
export function addBuckets(a: Buckets, b: Buckets): Buckets {
  const byLe = new Map<number, number>();
  for (const [le, c] of [...a, ...b]) byLe.set(le, (byLe.get(le) ?? 0) + c);
  return [...byLe.entries()].sort((x, y) => x[0] - y[0]);
}

/**
 * What was observed between two scrapes of the same buckets (`increase()` without the
 * extrapolation); a bucket that fell was reset, and then counts from zero.
 */
export function bucketIncrease(later: Buckets, earlier: Buckets): Buckets {
  const before = new Map(earlier);
  const reset = later.some(([le, c]) => c < (before.get(le) ?? 0));
  return later.map(([le, c]) => [le, reset ? c : c - (before.get(le) ?? 0)]);
}
