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
import jstat from 'jstat';
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

/*
 * Intervals for verdicts that compare a measured number with a threshold, and the three-way verdict.
 * A rule reads an interval, not a point estimate, against its threshold: holds when the interval lies
 * on the right side, does not hold when it lies wholly on the wrong side, inconclusive in between.
 */

// Quantiles come from jStat: a statistics library, not a measure of dltheory's own.
const { jStat } = jstat;

/** The z with Φ(z) = p for the standard normal, 0 < p < 1. */
const normalQuantile = (p: number): number => jStat.normal.inv(p, 0, 1);

/**
 * The Wilson score interval of a proportion, `successes` of `trials` (Wilson, JASA 1927; Brown, Cai,
 * DasGupta, Statistical Science 2001, who recommend it over the Wald interval p̂ ± z√(p̂(1 − p̂)/n)):
 * with z = Φ⁻¹(1 − α/2),
 *   (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n).
 * For a test accuracy it is the uncertainty from which test points were drawn, nothing else.
 */
export function wilsonInterval(successes: number, trials: number, level = 0.95): Interval {
  check(Number.isInteger(trials) && trials >= 1 && successes >= 0 && successes <= trials, () => `Wilson interval: ${successes} of ${trials}`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / trials;
  const centre = (p + (z * z) / (2 * trials)) / (1 + (z * z) / trials);
  const half = (z / (1 + (z * z) / trials)) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return { estimate: p, lower: centre - half, upper: centre + half };
}

/** The arithmetic mean of `values` (NaN when empty). */
export const mean = (values: ArrayLike<number>): number => Array.from(values).reduce((s, v) => s + v, 0) / values.length;

/**
 * The Student t interval of the mean of `values` (n ≥ 2 independent repeats, e.g. runs from several
 * initialisation seeds): x̄ ± t_{1−α/2, n−1} · s/√n, s the sample standard deviation. With few repeats
 * it is wide, as it should be: t_{0.975} is 2.78 at n = 5 and 4.30 at n = 3.
 */
export function meanInterval(values: ArrayLike<number>, level = 0.95): Interval {
  const n = values.length;
  check(n >= 2, () => `mean interval: ${n} values`);
  const xs = Array.from(values);
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
  const half = jStat.studentt.inv(1 - (1 - level) / 2, n - 1) * sd / Math.sqrt(n);
  return { estimate: m, lower: m - half, upper: m + half };
}

/**
 * B draws of the mean proportion over groups by a two-stage (hierarchical) bootstrap — Davison &
 * Hinkley, Bootstrap Methods (1997), §3.8; Saravanan, Berman, Sober, "Application of the hierarchical
 * bootstrap to multi-level data in neuroscience" (2020): stage one draws as many groups as there are,
 * with replacement; stage two draws each drawn group's trials with replacement, which for a group
 * known only by its count is a Binomial(trials, successes/trials) draw (made as a sum of Bernoulli
 * draws). Draw b is the mean over the drawn groups of their drawn successes over trials. Rng(seed) makes the draws.
 * The spread between groups comes from stage one, so with few groups it is itself uncertain: two
 * groups give a stage-one spread of (n − 1)/n = ½ the variance of the mean's usual estimate.
 */
export function twoStageDraws(groups: readonly { successes: number; trials: number }[], resamples: number, seed: number): Float64Array {
  check(groups.length >= 1 && Number.isInteger(resamples) && resamples >= 1, () => `two-stage bootstrap: ${groups.length} groups, ${resamples} resamples`);
  const rng = new Rng(seed);
  return Float64Array.from({ length: resamples }, () => {
    let sum = 0;
    for (let k = 0; k < groups.length; k++) {
      const { successes, trials } = groups[rng.int(groups.length)];
      let drawn = 0;
      for (let i = 0; i < trials; i++) drawn += rng.uniform() * trials < successes ? 1 : 0;
      sum += drawn / trials;
    }
    return sum / groups.length;
  });
}

/** A band [low, high] a quantity must lie in; low = −∞ or high = ∞ for a one-sided threshold. */
export interface Band {
  low: number;
  high: number;
}

/**
 * The three-way verdict of intervals against their bands: 'holds' when every interval lies inside its
 * band, 'does not hold' when some interval lies wholly outside its band (whatever the others show),
 * 'inconclusive' otherwise — an interval across an end of its band, or with a NaN end. For an
 * equivalence band (e.g. 10% ± 2 points) this is the two one-sided tests of Schuirmann (1987).
 */
export function verdictOfBands(checks: readonly (readonly [Interval, Band])[]): 'holds' | 'does not hold' | 'inconclusive' {
  if (checks.some(([i, b]) => i.upper < b.low || i.lower > b.high)) return 'does not hold';
  return checks.every(([i, b]) => i.lower >= b.low && i.upper <= b.high) ? 'holds' : 'inconclusive';
}

/** `estimate [lower, upper]`, each number written by `f`. */
export const formatInterval = (i: Interval, f: (v: number) => string): string => `${f(i.estimate)} [${f(i.lower)}, ${f(i.upper)}]`;
