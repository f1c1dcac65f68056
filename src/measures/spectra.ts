/**
 * Heavy-tailed spectra of weight matrices, WeightWatcher's measures: Martin & Mahoney, "Implicit
 * Self-Regularization in Deep Neural Networks: Evidence from Random Matrix Theory and Implications
 * for Learning", JMLR 22(165), 2021; Martin, Peng & Mahoney, "Predicting trends in the quality of
 * state-of-the-art neural networks without access to training or testing data", Nature
 * Communications 12, 4122 (2021); the power-law fit of Clauset, Shalizi & Newman, "Power-Law
 * Distributions in Empirical Data", SIAM Review 51(4), 2009 (CSN). Conventions follow the
 * WeightWatcher source (CalculatedContent/WeightWatcher at d6fd015, June 2025: weightwatcher.py,
 * WW_powerlaw.py)
 * and the `powerlaw` package (Alstott et al.), as said at each point below.
 *
 * Matrices. A layer is every parameter `….weight` of two or more dims, unfolded (no BatchNorm folded
 * in: WeightWatcher reads the raw weights), read by `foldedLayers` in float64. A Linear weight
 * [out, in] is one N×M matrix, N = max(out, in) ≥ M = min(out, in) (transposed when out < in: the
 * singular values are the same). A convolution [out, in, k₁, k₂, …] is WeightWatcher's pooled
 * Conv2D: one [out, in] matrix per kernel position, k₁·k₂·… matrices whose eigenvalues are pooled
 * into one ESD of k₁·k₂·…·M values.
 *
 * ESD. With s_i the singular values of each matrix (the engine's `svdvals`, float64), the
 * eigenvalues of the correlation matrix X = WᵀW / N (JMLR's normalisation) are
 *
 *   λ_i = s_i² / N,   ascending.
 *
 * Norms (WeightWatcher's conventions: log₁₀ of squared norms of W itself, not of X; a conv layer's
 * ‖W‖_F is that of the whole tensor, its ‖W‖₂ the largest singular value over the kernel positions):
 *
 *   lambdaMax        = max_i λ_i = ‖W‖₂² / N
 *   logSpectralNorm  = log₁₀ ‖W‖₂²                      (WeightWatcher's log_spectral_norm)
 *   logFrobeniusNorm = log₁₀ ‖W‖_F² = log₁₀ Σ_i s_i²
 *   logNorm          = log₁₀ Σ_i s_i²                   (WeightWatcher's log_norm: log₁₀ of the sum of its
 *                                                       eigenvalues s_i², unnormalised since 0.6.5; equal to
 *                                                       logFrobeniusNorm)
 *   stableRank       = ‖W‖_F² / ‖W‖₂² = Σ_i λ_i / λ_max  (WeightWatcher's stable_rank)
 *   alphaWeighted    = α · log₁₀ ‖W‖₂²                  (Nature Comms' α̂ = α log λ_max with λ_max the top
 *                                                       eigenvalue of the unnormalised WᵀW, as WeightWatcher's
 *                                                       alpha_weighted = alpha · log_spectral_norm; so
 *                                                       alphaWeighted = α (log₁₀ lambdaMax + log₁₀ N))
 *
 * WeightWatcher by default (conv2d_norm) multiplies a pooled Conv2D's weights by √(1/2) first,
 * which shifts its log_norm and log_spectral_norm by log₁₀ ½ ≈ −0.301 on those layers (and its
 * alpha_weighted by α times that); that heuristic is not applied here, so every value above is of W
 * as stored. For Linear layers the
 * values equal WeightWatcher's defaults.
 *
 * Power law (CSN §3.1 and §3.3). For a lower bound x_min and the n eigenvalues λ_i ≥ x_min, the
 * continuous maximum-likelihood exponent is
 *
 *   α = 1 + n / Σ_{λ_i ≥ x_min} ln(λ_i / x_min)          (standard error (α − 1)/√n)
 *
 * and x_min is the candidate whose fit has the smallest Kolmogorov–Smirnov distance
 *
 *   D = max_{x distinct, x ≥ x_min} | (1 − (x/x_min)^{1−α}) − #{λ_i ∈ [x_min, x)} / n |,
 *
 * the empirical CDF taken just below each distinct value, as `powerlaw` (statistics.cdf) takes it
 * and WeightWatcher's WWFit does on distinct values; ties go to the smaller x_min (numpy's argmin). Candidates are the
 * distinct values except the largest, with at least `minTailSize` values in their tail (default 2,
 * the smallest tail whose α is finite, as in WeightWatcher). Only the nonzero eigenvalues are
 * fitted: WeightWatcher drops s_i² ≤ 1e-5; here a singular value counts as zero below numpy's
 * matrix_rank tolerance s_max · N · ε, so α stays invariant to rescaling W.
 *
 * Cost. Sorting is O(n log n); every candidate's α comes from one suffix recurrence,
 * T_k = T_{k+1} + t_{k+1} ln(u_{k+1}/u_k) over the distinct values u (t_k values ≥ u_k), a sum of
 * non-negative terms, so O(n) for all and without cancellation. Each D costs O(n), so scanning every
 * candidate is O(n²); above `maxCandidates` (default 1000) distinct candidates the scan tries that
 * many, log-spaced in value between the smallest and the largest candidate, as `powerlaw` caps its
 * search (log-spaced, find_xmin), but snapped to observed values so that x_min stays an eigenvalue:
 * O(n log n + K·n) for K = maxCandidates. A layer with up to 1001 distinct nonzero eigenvalues is
 * fitted exactly (every candidate tried).
 *
 * Small layers. WeightWatcher skips a layer with fewer than min_evals = 10 eigenvalues; here a layer
 * with fewer than `minEvals` (default 10) nonzero ones has α (and xmin, ksDistance, alphaWeighted)
 * NaN with the reason in `notes`, and keeps its norms.
 *
 * Summary. As WeightWatcher's get_summary: the mean over layers of alpha, alphaWeighted,
 * stableRank, logSpectralNorm and logNorm, each over the layers where it is defined (not NaN).
 */
import { svdvals } from '../engine/linalg.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { linalgStep } from './finite.js';
import { foldedLayers } from './norms.js';

/** Options of `fitPowerLaw`. */
export interface PowerLawOptions {
  /** Fewest values a candidate x_min's tail may hold (an integer ≥ 2; default 2). */
  minTailSize?: number;
  /** Most x_min candidates tried (an integer ≥ 2, or Infinity for every distinct value; default 1000). */
  maxCandidates?: number;
}

/** A continuous power law p(x) ∝ x^(−alpha) for x ≥ xmin. */
export interface PowerLawFit {
  /** The MLE exponent; NaN when no candidate x_min has a tail to fit (see `reason`). */
  alpha: number;
  /** The lower bound, one of the values; NaN when alpha is. */
  xmin: number;
  /** The KS distance between the tail's empirical CDF and the fitted one; NaN when alpha is. */
  ksDistance: number;
  /** Values ≥ xmin (0 when alpha is NaN). */
  tailSize: number;
  /** Why alpha is NaN. */
  reason?: string;
}

/** Options of `weightSpectra`. */
export interface SpectraOptions extends PowerLawOptions {
  /** Fewest nonzero eigenvalues a layer needs for α (an integer ≥ 2; default 10, WeightWatcher's min_evals). */
  minEvals?: number;
  /** Called after each layer with (layers done, layers in all). */
  onProgress?: (done: number, total: number) => void;
}

/** One weight layer's spectrum. */
export interface LayerSpectrum {
  /** The parameter's name without `.weight`, e.g. `conv1`, `layers.0`. */
  name: string;
  /** The weight's shape, e.g. [out, in] or [out, in, kh, kw]. */
  shape: number[];
  /** N = max(out, in) and M = min(out, in) of each matrix. */
  n: number;
  m: number;
  /** How many N×M matrices are pooled: 1, or the kernel positions of a convolution. */
  matrices: number;
  /** λ_i = s_i²/N of every matrix, ascending (matrices·M values, zeros included). */
  eigenvalues: Float64Array;
  /** How many eigenvalues are nonzero (above round-off): the last `nonzero` of `eigenvalues`, the ones fitted. */
  nonzero: number;
  lambdaMax: number;
  alpha: number;
  xmin: number;
  ksDistance: number;
  tailSize: number;
  alphaWeighted: number;
  stableRank: number;
  logSpectralNorm: number;
  logFrobeniusNorm: number;
  logNorm: number;
  /** Why any value is NaN, and eigenvalues left out of the fit. */
  notes: string[];
}

/** The means over layers, each over the layers where it is defined; NaN when it is defined on none. */
export interface SpectraSummary {
  alpha: number;
  alphaWeighted: number;
  stableRank: number;
  logSpectralNorm: number;
  logNorm: number;
}

export const SUMMARY_FIELDS = ['alpha', 'alphaWeighted', 'stableRank', 'logSpectralNorm', 'logNorm'] as const;

const noFit = (reason: string): PowerLawFit => ({ alpha: NaN, xmin: NaN, ksDistance: NaN, tailSize: 0, reason });

/** Indices k ∈ [0, last] of `count` log-spaced targets in [u_0, u_last], each snapped down to the nearest u_k (u ascending, positive). */
function logSpacedIndices(u: Float64Array, last: number, count: number): number[] {
  const [lo, hi] = [Math.log(u[0]), Math.log(u[last])];
  const out: number[] = [];
  let k = 0;
  for (let j = 0; j < count; j++) {
    const target = j === count - 1 ? u[last] : Math.exp(lo + (j / (count - 1)) * (hi - lo));
    while (k < last && u[k + 1] <= target) k++;
    if (out[out.length - 1] !== k) out.push(k);
  }
  return out;
}

/** The fit's options with their defaults; a bad one is an InputError. */
function fitOptions(opts: PowerLawOptions): Required<PowerLawOptions> {
  const { minTailSize = 2, maxCandidates = 1000 } = opts;
  check(Number.isInteger(minTailSize) && minTailSize >= 2, `power-law fit: minTailSize must be an integer ≥ 2, got ${minTailSize}`);
  check(maxCandidates === Infinity || (Number.isInteger(maxCandidates) && maxCandidates >= 2),
    `power-law fit: maxCandidates must be an integer ≥ 2 or Infinity, got ${maxCandidates}`);
  return { minTailSize, maxCandidates };
}

/**
 * The power law of CSN §3: α by maximum likelihood for each candidate x_min, x_min by the smallest
 * KS distance (see the file's doc comment for the conventions and the cost). `values` are positive
 * and finite (any order); a non-finite or non-positive value is an InputError. With fewer than two
 * distinct values, or no candidate whose tail holds `minTailSize` values, every field is NaN and
 * `reason` says why.
 *
 * @example
 * ```ts
 * import { fitPowerLaw } from 'dltheory';
 * const fit = fitPowerLaw(eigenvalues);      // { alpha, xmin, ksDistance, tailSize }
 * fitPowerLaw(eigenvalues, { maxCandidates: Infinity }); // every distinct value tried: O(n²)
 * ```
 */
export function fitPowerLaw(values: ArrayLike<number>, opts: PowerLawOptions = {}): PowerLawFit {
  const { minTailSize, maxCandidates } = fitOptions(opts);
  const x = Float64Array.from(values);
  const bad = x.findIndex((v) => !(v > 0 && v < Infinity));
  if (bad >= 0) throw new InputError(`power-law fit: value ${bad} is ${x[bad]}; a power law needs positive, finite values`);
  x.sort();
  // Distinct values u_k ascending, with t_k = #{x ≥ u_k}.
  const u: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (i === 0 || x[i] !== x[i - 1]) {
      u.push(x[i]);
      t.push(x.length - i);
    }
  }
  const m = u.length;
  if (m < 2) return noFit(`${x.length} value${x.length === 1 ? '' : 's'} with ${m} distinct: a power law needs two distinct values`);
  // Candidates 0..last: every distinct value but the largest, with a tail of at least minTailSize.
  let last = m - 2;
  while (last >= 0 && t[last] < minTailSize) last--;
  if (last < 0) return noFit(`no x_min has ${minTailSize} or more values in its tail (${x.length} values)`);
  const uu = Float64Array.from(u);
  const logU = uu.map(Math.log);
  // T_k = Σ_{x ≥ u_k} ln(x/u_k), by the non-negative recurrence T_k = T_{k+1} + t_{k+1} ln(u_{k+1}/u_k).
  const T = new Float64Array(m);
  for (let k = m - 2; k >= 0; k--) T[k] = T[k + 1] + t[k + 1] * Math.log1p((uu[k + 1] - uu[k]) / uu[k]);
  const candidates = last + 1 > maxCandidates ? logSpacedIndices(uu, last, maxCandidates) : Array.from({ length: last + 1 }, (_, k) => k);
  let [best, bestD] = [-1, Infinity];
  for (const k of candidates) {
    const alpha = 1 + t[k] / T[k];
    let d = 0;
    for (let l = k + 1; l < m; l++) {
      const fitted = 1 - Math.exp((1 - alpha) * (logU[l] - logU[k]));
      d = Math.max(d, Math.abs(fitted - (t[k] - t[l]) / t[k]));
    }
    if (d < bestD) [best, bestD] = [k, d];
  }
  return { alpha: 1 + t[best] / T[best], xmin: uu[best], ksDistance: bestD, tailSize: t[best] };
}

/** The pooled singular values of one weight: [matrices, M] from the [out, in] matrix of each kernel position. */
function singularValues(name: string, w: Tensor): { s: Float64Array; n: number; m: number; matrices: number } {
  const [out, inp] = w.shape;
  const matrices = w.shape.slice(2).reduce((a, b) => a * b, 1);
  const kernelFirst = [...w.shape.keys()].slice(2).concat([0, 1]);
  const s = scope(() => {
    const batch = w.permute(kernelFirst).reshape([matrices, out, inp]);
    return linalgStep(`weight spectra: layer '${name}'`, batch, svdvals).toArray() as Float64Array;
  });
  return { s, n: Math.max(out, inp), m: Math.min(out, inp), matrices };
}

/** The spectrum and its measures for one weight (float64). */
function layerSpectrum(name: string, w: Tensor, opts: SpectraOptions): LayerSpectrum {
  const { minEvals = 10 } = opts;
  const { s, n, m, matrices } = singularValues(name, w);
  const eigenvalues = s.map((v) => (v * v) / n).sort();
  let [sMax, sumSquares] = [0, 0];
  for (const v of s) [sMax, sumSquares] = [Math.max(sMax, v), sumSquares + v * v];
  const notes: string[] = [];
  const layer: LayerSpectrum = {
    name,
    shape: w.shape,
    n,
    m,
    matrices,
    eigenvalues,
    nonzero: 0,
    lambdaMax: (sMax * sMax) / n,
    alpha: NaN,
    xmin: NaN,
    ksDistance: NaN,
    tailSize: 0,
    alphaWeighted: NaN,
    stableRank: NaN,
    logSpectralNorm: NaN,
    logFrobeniusNorm: NaN,
    logNorm: NaN,
    notes,
  };
  if (sMax === 0) {
    notes.push('the weight is zero: no spectrum to fit, and the norms have no logarithm or ratio');
    return layer;
  }
  layer.stableRank = sumSquares / (sMax * sMax);
  layer.logSpectralNorm = 2 * Math.log10(sMax);
  layer.logFrobeniusNorm = layer.logNorm = Math.log10(sumSquares);
  // numpy.linalg.matrix_rank's tolerance: singular values below it are zero to round-off.
  const tolerance = sMax * n * 2 ** -52;
  const nonzero = eigenvalues.filter((v) => v > (tolerance * tolerance) / n);
  layer.nonzero = nonzero.length;
  if (nonzero.length < eigenvalues.length) {
    notes.push(`${eigenvalues.length - nonzero.length} of ${eigenvalues.length} eigenvalues are zero to round-off (s ≤ s_max·N·ε), left out of the fit`);
  }
  if (nonzero.length < minEvals) {
    notes.push(`alpha: ${nonzero.length} nonzero eigenvalues, fewer than minEvals = ${minEvals}, too few to fit (WeightWatcher skips such layers)`);
    return layer;
  }
  const fit = fitPowerLaw(nonzero, opts);
  if (fit.reason !== undefined) notes.push(`alpha: ${fit.reason}`);
  return { ...layer, alpha: fit.alpha, xmin: fit.xmin, ksDistance: fit.ksDistance, tailSize: fit.tailSize, alphaWeighted: fit.alpha * layer.logSpectralNorm };
}

/** The mean of the defined (non-NaN) values, NaN when there are none. */
function definedMean(values: number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v));
  return ok.length === 0 ? NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
}

/**
 * The ESD and WeightWatcher's measures of every weight layer of `model` (every `….weight` of two or
 * more dims, in parameter order), and their means (see the file's doc comment). Eigenvalues are
 * dimensionless like the weights; the norms' logs are log₁₀. A model with no such weight, or a weight
 * holding NaN or ±Inf, is an InputError.
 *
 * @example
 * ```ts
 * import { buildModel, weightSpectra } from 'dltheory';
 * const { layers, summary } = weightSpectra(buildModel('cnn:1x28x28-10:w=16'));
 * layers.map((l) => [l.name, l.alpha]); // conv1's 9 eigenvalues are too few: NaN, with l.notes saying so
 * summary.alpha;                         // the mean α over conv2, fc1 and fc2
 * ```
 */
export function weightSpectra(model: Module, opts: SpectraOptions = {}): { layers: LayerSpectrum[]; summary: SpectraSummary } {
  const { minEvals = 10 } = opts;
  check(Number.isInteger(minEvals) && minEvals >= 2, `weight spectra: minEvals must be an integer ≥ 2, got ${minEvals}`);
  fitOptions(opts);
  const layers = scope(() => {
    const weights = foldedLayers(model, { foldBatchNorm: false });
    if (weights.length === 0) throw new InputError(`${model.label} has no weight matrix (no parameter '….weight' of two or more dims)`);
    return weights.map((l, i) => {
      const spectrum = layerSpectrum(l.name, l.weight, opts);
      opts.onProgress?.(i + 1, weights.length);
      return spectrum;
    });
  });
  const summary = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, definedMean(layers.map((l) => l[f]))])) as unknown as SpectraSummary;
  return { layers, summary };
}
