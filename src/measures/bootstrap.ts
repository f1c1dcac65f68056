/**
 * The uncertainty of a population's scores (src/measures/regression.ts) by a paired bootstrap over
 * models: how far a measure's cross-validated R² or Kendall τ — or the difference of two measures'
 * scores on the same models — would move had another population of the same size been drawn.
 * Efron & Tibshirani, An Introduction to the Bootstrap (1993), ch. 6 (the bootstrap of a statistic)
 * and ch. 13 (percentile intervals); Bouthillier et al., "Accounting for variance in machine learning
 * benchmarks" (MLSys 2021), on why a difference between two scores needs its spread before it is read.
 *
 * Resample b (b = 1 … B) draws n model indices i_b1 … i_bn uniformly with replacement by the data
 * layer's Rng(seed) (B arrays of Rng.int(n) draws, in order). Every measure is scored again on the
 * same resamples (paired):
 *   CV R²*_b = the pooled k-fold CV R² of the resampled rows and gaps, each copy of model i in its
 *              original fold f(i) — copies never sit on both sides of a fit, where one would predict
 *              the other; a fold the resample misses is simply empty
 *   τ*_b     = Kendall τ-b of the least-squares fit on the resampled rows against the resampled gaps
 *              (as in evaluateMeasures; copies of one model tie in both, so their pair counts nowhere)
 * The percentile interval at level 1 − 2α (95%: α = 0.025) of a statistic θ with draws θ*_1 … θ*_B is
 *   [θ*(α), θ*(1 − α)],  θ*(q) the q-quantile of the draws, linearly interpolated between the order
 *   statistics at position q·(B − 1) (numpy.percentile's default);
 * for the difference of two measures' scores the draws are θ*_b = s*_b(μ₁) − s*_b(μ₂) on the same b,
 * so the part of the spread the two share (which models happened to be drawn) cancels. A NaN draw
 * (a resample on which a score is undefined) makes both ends NaN: no interval is claimed.
 *
 * A resample holds about 1 − 1/e ≈ 63% distinct models, so each fit sees fewer distinct points than
 * the original one: for a measure with many features (the 20-feature signature on ~70 models) the
 * draws of CV R² run below the estimate and those of the in-sample τ above it, more than for a
 * one-feature measure, and the percentile interval is shifted accordingly rather than centred.
 */
import { check } from '../errors.js';
import { Rng } from '../data/rng.js';
import { crossValidatedR2, fitLinear, kendallTauB, type Rows } from './regression.js';

/** A point estimate with the ends of its percentile interval. */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** B draws of one measure's scores, draw b on resample b. */
export interface ScoreDraws {
  cvR2: Float64Array;
  kendallTau: Float64Array;
}

/** `resamples` (B) arrays of n model indices drawn with replacement by Rng(seed). */
export function bootstrapResamples(n: number, resamples: number, seed: number): Int32Array[] {
  check(Number.isInteger(n) && n >= 1, () => `bootstrap: ${n} models`);
  check(Number.isInteger(resamples) && resamples >= 1, () => `bootstrap: ${resamples} resamples`);
  const rng = new Rng(seed);
  return Array.from({ length: resamples }, () => Int32Array.from({ length: n }, () => rng.int(n)));
}

/**
 * One measure's CV R² and τ on each resample: `rows` (n rows of p features) and `gaps` [n] as for
 * evaluateMeasures, `folds` [n] the fold of each original model, `resamples` from bootstrapResamples.
 *
 * @example
 * ```ts
 * import { bootstrapResamples, bootstrapScores, crossValidatedR2, percentileInterval } from 'dltheory';
 * const rows = Array.from({ length: 40 }, (_, i) => Float64Array.of(i));
 * const gaps = Float64Array.from(rows, ([v]) => v + 5 * Math.sin(v));
 * const cv = crossValidatedR2(rows, gaps, 10);
 * const draws = bootstrapScores(rows, gaps, cv.folds, bootstrapResamples(40, 1000, 1));
 * percentileInterval(cv.r2, draws.cvR2); // { estimate: CV R², lower, upper }: its 95% interval
 * ```
 */
export function bootstrapScores(rows: Rows, gaps: Float64Array, folds: Int32Array, resamples: readonly Int32Array[]): ScoreDraws {
  check(rows.length === gaps.length && folds.length === gaps.length, () => `bootstrap: ${rows.length} rows, ${gaps.length} gaps, ${folds.length} fold labels`);
  const cvR2 = new Float64Array(resamples.length);
  const kendallTau = new Float64Array(resamples.length);
  resamples.forEach((idx, b) => {
    const r = Array.from(idx, (i) => rows[i]);
    const y = Float64Array.from(idx, (i) => gaps[i]);
    cvR2[b] = crossValidatedR2(r, y, Int32Array.from(idx, (i) => folds[i])).r2;
    kendallTau[b] = kendallTauB(fitLinear(r, y).predictions, y);
  });
  return { cvR2, kendallTau };
}

/** The percentile interval of `draws` at `level` (default 0.95) around `estimate`; NaN ends when a draw is NaN. */
export function percentileInterval(estimate: number, draws: ArrayLike<number>, level = 0.95): Interval {
  check(draws.length > 0 && level > 0 && level < 1, () => `percentile interval: ${draws.length} draws at level ${level}`);
  const sorted = Float64Array.from(draws).sort();
  if (sorted.some((v) => Number.isNaN(v))) return { estimate, lower: NaN, upper: NaN };
  const quantile = (q: number): number => {
    const at = q * (sorted.length - 1);
    const lo = Math.floor(at);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
  };
  const alpha = (1 - level) / 2;
  return { estimate, lower: quantile(alpha), upper: quantile(1 - alpha) };
}

/** Draw by draw, a − b: the paired draws of a difference of two measures' scores. */
export function pairedDifference(a: Float64Array, b: Float64Array): Float64Array {
  check(a.length === b.length, () => `paired difference: ${a.length} and ${b.length} draws`);
  return a.map((v, i) => v - b[i]);
}
