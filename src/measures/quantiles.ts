/**
 * Quantiles and the five-number box summary shared by the margin measures (Jiang et al., ICLR 2019;
 * docs/papers.md §1).
 *
 *   quantile(s, q) = s[⌊h⌋] + (h − ⌊h⌋)·(s[⌊h⌋+1] − s[⌊h⌋]),   h = q·(n − 1),  s ascending
 *
 * — linear interpolation between order statistics, numpy's default (`np.quantile(..., method='linear')`).
 *
 *   box summary: Q1, median, Q3, lower fence Q1 − 1.5·IQR, upper fence Q3 + 1.5·IQR,  IQR = Q3 − Q1.
 *
 * The log summary (the regression features) clamps each fence into [min, max] of the values first,
 * as box-plot whiskers do, so a lower fence ≤ 0 becomes the smallest value and stays loggable when
 * every value is positive. Values are expected finite; an empty array gives NaN everywhere.
 */

export interface BoxSummary {
  q1: number;
  median: number;
  q3: number;
  lowerFence: number;
  upperFence: number;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` with linear interpolation; NaN when empty.
 *
 * @example
 * ```ts
 * import { quantile } from 'dltheory';
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * quantile([0, 10], 0.1);      // 1
 * ```
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = q * (n - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** An ascending copy (Float64Array sorts numerically). */
function ascending(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

function summaryOfSorted(s: Float64Array): BoxSummary {
  const [q1, median, q3] = [0.25, 0.5, 0.75].map((q) => quantile(s, q));
  const iqr = q3 - q1;
  return { q1, median, q3, lowerFence: q1 - 1.5 * iqr, upperFence: q3 + 1.5 * iqr };
}

/**
 * Quartiles and Tukey fences of `values` (any order).
 *
 * @example
 * ```ts
 * import { boxSummary } from 'dltheory';
 * boxSummary(Float64Array.of(5, 1, 4, 2, 3)); // { q1: 2, median: 3, q3: 4, lowerFence: -1, upperFence: 7 }
 * boxSummary(new Float64Array(0));            // every field NaN
 * ```
 */
export function boxSummary(values: Float64Array): BoxSummary {
  return summaryOfSorted(ascending(values));
}

/**
 * The log of each box-summary number, the fences first clamped into [min, max] of `values`.
 *
 * @example
 * ```ts
 * import { logBoxSummary } from 'dltheory';
 * logBoxSummary(Float64Array.of(5, 1, 4, 2, 3)); // log of { q1: 2, median: 3, q3: 4, lowerFence: 1, upperFence: 5 }
 * logBoxSummary(Float64Array.of(-1, 2)).q1;      // NaN: Q1 = −0.25 has no log
 * ```
 */
export function logBoxSummary(values: Float64Array): BoxSummary {
  const s = ascending(values);
  const b = summaryOfSorted(s);
  const [min, max] = [s[0] ?? NaN, s[s.length - 1] ?? NaN];
  const clamp = (v: number): number => Math.min(Math.max(v, min), max);
  return {
    q1: Math.log(b.q1),
    median: Math.log(b.median),
    q3: Math.log(b.q3),
    lowerFence: Math.log(clamp(b.lowerFence)),
    upperFence: Math.log(clamp(b.upperFence)),
  };
}
