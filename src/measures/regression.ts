/**
 * The generalisation-gap predictor and how a measure is scored (docs/papers.md §1): Jiang,
 * Krishnan, Mobahi, Bengio (ICLR 2019) regress the gap on a measure's features; the PGDL competition
 * (Jiang et al., NeurIPS 2020) and "Fantastic Generalization Measures" (Jiang et al., ICLR 2020) rank
 * measures by Kendall's τ, its granulated form Ψ (ranking.ts) and a conditional mutual information.
 * Plain TypeScript on Float64Arrays: populations are hundreds of models × at most a few dozen
 * features. Rows are models.
 *
 * Least squares with intercept: β = argmin ‖y − Aβ‖², A = [𝟏 X] (n × (p+1)), solved by Householder
 * QR (A = QR, Rβ = Qᵀy). When A is rank-deficient (a column whose part orthogonal to the earlier
 * columns is below 1e-10 of its norm: a constant or duplicated feature, or n ≤ p) the normal
 * equations with a tiny ridge are solved instead, (AᵀA + λI)β = Aᵀy, λ = 1e-10·tr(AᵀA)/(p+1), by
 * Cholesky; `ridge` says so.
 *   R² = 1 − SS_res/SS_tot,  SS_res = Σ(y − ŷ)², SS_tot = Σ(y − ȳ)²   (NaN when SS_tot = 0)
 *   adjusted R² = 1 − (1 − R²)(n − 1)/(n − p − 1)                      (NaN when n − p − 1 ≤ 0)
 *   MSE = SS_res / n
 *
 * k-fold cross-validated R² (default k = 10): model i goes to fold f(i) = r(i) mod k, r(i) its rank
 * in a permutation drawn by the data layer's Rng(seed) (fold sizes differ by at most one). Each
 * fold's models are predicted by the fit on the other folds, giving ŷ_cv, and the predictions are
 * pooled:  CV R² = 1 − Σ(y − ŷ_cv)² / Σ(y − ȳ)², ȳ the mean of all y (not the mean of per-fold R²s).
 *
 * Kendall's τ-b: τ_b = Σ_{i<j} sgn(a_i − a_j)·sgn(b_i − b_j) / √(n_a·n_b), n_a (n_b) the number of
 * pairs not tied in a (b) — ties count in neither numerator nor the matching side of the denominator.
 *
 * Conditional mutual information, the PGDL score (Jiang et al., "NeurIPS 2020 Competition: Predicting
 * Generalization in Deep Learning", arXiv:2012.07976): over ordered pairs of distinct models (i, j),
 * V_g = [g_i > g_j] and V_μ = [μ_i > μ_j] (binary; a tie counts as "not greater", as in the
 * competition's scoring code). For a set S of hyper-parameters, U_S is the pair's values of S —
 * (model i's values, model j's values) — so the pairs are grouped into cells by U_S. With p(u) the
 * fraction of pairs in cell u, in bits,
 *   I(V_μ; V_g | U_S) = Σ_u p(u) Σ_{a,b} p(a, b | u) log₂ [p(a, b | u) / (p(a | u) p(b | u))]
 *   H(V_g | U_S)      = −Σ_u p(u) Σ_b p(b | u) log₂ p(b | u)
 *   K(μ) = min over S with |S| = 2 of I(V_μ; V_g | U_S) / H(V_g | U_S)   ∈ [0, 1]
 * S ranges over the pairs of hyper-parameters that take more than one value in the population (with
 * fewer than two such, |S| is 1 or 0, the last being the plain normalised mutual information). The
 * entry `seed` is never conditioned on: it is no hyper-parameter of the design (ranking.ts, SEED), and
 * models of different seeds share the cells of their other values. The competition's scoring code
 * differs from the formula in two details, and dltheory follows the formula: the code also counts each
 * model's pair with itself (a tie in both, so a pair on which any measure agrees with the gap, though
 * it says nothing about an ordering), and it weights the cells equally (the mean I over cells divided
 * by the mean H) instead of by p(u). With the self-pairs every cell of a full grid holds m² pairs (m
 * models a value of S) and the weightings agree; the self-pairs themselves raise K, e.g. from 0.198 to
 * 0.221 for μ = g + noise on the 3 × 3 × 2 grid × 3 seeds of test/regression.test.ts. MI is blind
 * to the sign: a measure that ranks the gap backwards scores as high as one that ranks it right (τ and
 * Ψ tell them apart).
 *
 * evaluateMeasures fits each measure's features to the gaps and reports adjusted R², CV R² and MSE of
 * that fit; τ, Ψ (the granulated Kendall coefficient, ranking.ts) and K are computed on the fitted
 * predictions ŷ (for a one-feature measure these are τ, Ψ and K of the feature itself, with the sign
 * turned to agree with the gap). Only CV R² is held out: the in-sample ŷ of a measure with many
 * features follows the gaps more closely than its features would on new models.
 */
import { check } from '../errors.js';
import { Rng } from '../data/rng.js';
import { type AxisPsi, codeHyperParameters, granulatedKendall, type HParams, SEED } from './ranking.js';

export type { HParams };
export type Rows = readonly Float64Array[];

export interface LinearFit {
  /** β₀ (the intercept), then β₁ … β_p. */
  coefficients: Float64Array;
  predictions: Float64Array;
  r2: number;
  adjustedR2: number;
  mse: number;
  /** True when A was rank-deficient and the ridge fallback solved it. */
  ridge: boolean;
}

/** Least squares by Householder QR on the columns of A; null when A is rank-deficient. */
function qrSolve(columns: Float64Array[], y: Float64Array): Float64Array | null {
  const n = y.length;
  const m = columns.length;
  if (n < m) return null;
  const a = columns.map((c) => Float64Array.from(c));
  const b = Float64Array.from(y);
  const diag = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const v = a[j];
    let full = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) full += columns[j][i] ** 2;
    for (let i = j; i < n; i++) tail += v[i] ** 2;
    const norm = Math.sqrt(tail);
    if (norm <= 1e-10 * Math.sqrt(full)) return null;
    // Reflect v[j:] onto −sign(v_j)·‖v‖·e_j; v[j:] becomes the Householder vector.
    diag[j] = v[j] > 0 ? -norm : norm;
    v[j] -= diag[j];
    let vv = 0;
    for (let i = j; i < n; i++) vv += v[i] ** 2;
    for (const c of [...a.slice(j + 1), b]) {
      let dot = 0;
      for (let i = j; i < n; i++) dot += v[i] * c[i];
      const f = (2 * dot) / vv;
      for (let i = j; i < n; i++) c[i] -= f * v[i];
    }
  }
  // Back substitution: R[j][k] = a[k][j] for k > j, R[j][j] = diag[j].
  const beta = new Float64Array(m);
  for (let j = m - 1; j >= 0; j--) {
    let s = b[j];
    for (let k = j + 1; k < m; k++) s -= a[k][j] * beta[k];
    beta[j] = s / diag[j];
  }
  return beta;
}

/** (AᵀA + λI)β = Aᵀy by Cholesky, λ = 1e-10·tr(AᵀA)/m. */
function ridgeSolve(columns: Float64Array[], y: Float64Array): Float64Array {
  const m = columns.length;
  const dot = (u: Float64Array, v: Float64Array): number => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const g = columns.map((u) => columns.map((v) => dot(u, v)));
  const lambda = (1e-10 * g.reduce((s, row, i) => s + row[i], 0)) / m || 1e-300;
  for (let i = 0; i < m; i++) g[i][i] += lambda;
  // G = LLᵀ, then Lw = Aᵀy and Lᵀβ = w.
  const l = g.map(() => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = g[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  }
  const w = Float64Array.from(columns, (u) => dot(u, y));
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < i; k++) w[i] -= l[i][k] * w[k];
    w[i] /= l[i][i];
  }
  const beta = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = w[i];
    for (let k = i + 1; k < m; k++) s -= l[k][i] * beta[k];
    beta[i] = s / l[i][i];
  }
  return beta;
}

/** The columns of A = [𝟏 X] for rows X (n × p). */
function designColumns(rows: Rows): Float64Array[] {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  const cols = [new Float64Array(n).fill(1)];
  for (let j = 0; j < p; j++) cols.push(Float64Array.from(rows, (r) => r[j]));
  return cols;
}

function checkRows(rows: Rows, n: number, what: string): void {
  check(rows.length === n, () => `${what}: ${rows.length} rows for ${n} targets`);
  const p = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    check(r.length === p, () => `${what}: row ${i} has ${r.length} features, row 0 has ${p}`);
    const bad = r.findIndex((v) => !Number.isFinite(v));
    check(bad < 0, () => `${what}: feature ${bad} of row ${i} is ${r[bad]}`);
  });
}

/** ŷ = β₀ + Σ_j β_j x_j for each row. */
export function predictLinear(coefficients: Float64Array, rows: Rows): Float64Array {
  return Float64Array.from(rows, (r) => r.reduce((s, v, j) => s + coefficients[j + 1] * v, coefficients[0]));
}

/** 1 − Σ(y − ŷ)²/Σ(y − ȳ)². */
export function r2Score(y: Float64Array, yHat: Float64Array): number {
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  let res = 0;
  let tot = 0;
  y.forEach((v, i) => {
    res += (v - yHat[i]) ** 2;
    tot += (v - mean) ** 2;
  });
  return tot > 0 ? 1 - res / tot : NaN;
}

/**
 * Least squares of y [n] on rows (n rows of p features) with an intercept, with R², adjusted R² and MSE.
 *
 * @example
 * ```ts
 * import { fitLinear } from 'dltheory';
 * const fit = fitLinear([1, 2, 3, 4].map((v) => Float64Array.of(v)), Float64Array.of(3, 5, 7, 9));
 * fit.coefficients; // ≈ [1, 2]: y = 1 + 2x, intercept first
 * fit.r2;           // ≈ 1
 * ```
 */
export function fitLinear(rows: Rows, y: Float64Array): LinearFit {
  checkRows(rows, y.length, 'least squares');
  const n = y.length;
  const p = rows[0]?.length ?? 0;
  const cols = designColumns(rows);
  const qr = qrSolve(cols, y);
  const coefficients = qr ?? ridgeSolve(cols, y);
  const predictions = predictLinear(coefficients, rows);
  const r2 = r2Score(y, predictions);
  const mse = y.reduce((s, v, i) => s + (v - predictions[i]) ** 2, 0) / n;
  const adjustedR2 = n - p - 1 > 0 ? 1 - ((1 - r2) * (n - 1)) / (n - p - 1) : NaN;
  return { coefficients, predictions, r2, adjustedR2, mse, ridge: qr === null };
}

/** Fold of each of n items: rank in a permutation drawn by Rng(seed), mod k. */
export function foldAssignment(n: number, k: number, seed: number): Int32Array {
  check(Number.isInteger(k) && k >= 2 && k <= n, () => `cross-validation: ${k} folds for ${n} models; need an integer in [2, ${n}]`);
  const perm = new Rng(seed).permutation(n);
  const folds = new Int32Array(n);
  perm.forEach((item, rank) => (folds[item] = rank % k));
  return folds;
}

/**
 * Pooled k-fold cross-validated R²; `folds` is k (assigned by foldAssignment(n, k, seed)) or a fold per row.
 * `predictions` [n] are the out-of-fold ŷ_cv.
 *
 * @example
 * ```ts
 * import { crossValidatedR2 } from 'dltheory';
 * const rows = Array.from({ length: 20 }, (_, i) => Float64Array.of(i));
 * const y = Float64Array.from(rows, ([v]) => 2 * v + Math.sin(v));
 * crossValidatedR2(rows, y, 5).r2; // ≈ 0.99
 * ```
 */
export function crossValidatedR2(rows: Rows, y: Float64Array, folds: number | Int32Array = 10,
  seed = 0): { r2: number; predictions: Float64Array; folds: Int32Array }
{
  checkRows(rows, y.length, 'cross-validation');
  const n = y.length;
  const assign = typeof folds === 'number' ? foldAssignment(n, folds, seed) : folds;
  check(assign.length === n, () => `cross-validation: ${assign.length} fold labels for ${n} models`);
  const predictions = new Float64Array(n);
  for (const f of new Set(assign)) {
    const train = [...assign.keys()].filter((i) => assign[i] !== f);
    const test = [...assign.keys()].filter((i) => assign[i] === f);
    check(train.length > 0, 'cross-validation: a fold holds every model');
    const fit = fitLinear(train.map((i) => rows[i]), Float64Array.from(train, (i) => y[i]));
    const yHat = predictLinear(fit.coefficients, test.map((i) => rows[i]));
    test.forEach((i, t) => (predictions[i] = yHat[t]));
  }
  return { r2: r2Score(y, predictions), predictions, folds: assign };
}

/**
 * Kendall's τ-b of a and b (ties handled); NaN when either is constant.
 *
 * @example
 * ```ts
 * import { kendallTauB } from 'dltheory';
 * kendallTauB([1, 2, 3, 4], [10, 20, 40, 30]); // (5 − 1)/6 ≈ 0.667: one discordant pair of six
 * kendallTauB([1, 2, 3], [5, 5, 5]);           // NaN: b is constant
 * ```
 */
export function kendallTauB(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a.length === b.length, () => `Kendall τ: ${a.length} and ${b.length} values`);
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      s += da * db;
      na += da !== 0 ? 1 : 0;
      nb += db !== 0 ? 1 : 0;
    }
  }
  return s / Math.sqrt(na * nb);
}

export interface CmiResult {
  /** K(μ): the smallest normalised CMI over the conditioning sets. */
  score: number;
  /** I(V_μ; V_g | U_S)/H(V_g | U_S) for each conditioning set S. */
  bySubset: { hparams: string[]; value: number }[];
}

/** Subsets of `items` of size k, in order. */
function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((x, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
}

/** I(V_μ; V_g | U_S)/H(V_g | U_S) for one conditioning set, given each model's code for its values of S. */
function normalizedCmi(measure: ArrayLike<number>, gaps: ArrayLike<number>, code: Int32Array, codes: number): number {
  const cells = new Map<number, Float64Array>();
  const n = code.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const key = code[i] * codes + code[j];
      const c = cells.get(key) ?? new Float64Array(4);
      cells.set(key, c);
      c[(gaps[i] > gaps[j] ? 2 : 0) + (measure[i] > measure[j] ? 1 : 0)]++;
    }
  }
  const plogp = (p: number): number => (p > 0 ? p * Math.log2(p) : 0);
  let mi = 0;
  let h = 0;
  for (const c of cells.values()) {
    const t = c[0] + c[1] + c[2] + c[3];
    const g = [(c[0] + c[1]) / t, (c[2] + c[3]) / t];
    const m = [(c[0] + c[2]) / t, (c[1] + c[3]) / t];
    // I = H(V_g) + H(V_μ) − H(V_g, V_μ) in the cell, weighted by the cell's share of pairs.
    const hg = -plogp(g[0]) - plogp(g[1]);
    const hm = -plogp(m[0]) - plogp(m[1]);
    const hj = -c.reduce((s, v) => s + plogp(v / t), 0);
    const w = t / (n * (n - 1));
    mi += w * (hg + hm - hj);
    h += w * hg;
  }
  return h > 0 ? Math.max(0, mi) / h : NaN;
}

/**
 * The PGDL score K(μ) of a measure against the gaps, conditioning on `subsetSize` (2) hyper-parameters at a time.
 * A fraction in [0, 1] (NaN when no cell has pairs of different gaps): 1 when the measure orders every pair as the gaps do.
 *
 * @example
 * ```ts
 * import { conditionalMutualInformation } from 'dltheory';
 * const gaps = [0.1, 0.15, 0.3, 0.35];
 * const hparams = [{ lr: 0.1 }, { lr: 0.1 }, { lr: 0.01 }, { lr: 0.01 }];
 * conditionalMutualInformation(gaps.map((g) => -g), gaps, hparams).score; // 1: MI is blind to the sign
 * conditionalMutualInformation([1, 1, 1, 1], gaps, hparams).score;         // 0: a constant measure tells nothing
 * ```
 */
export function conditionalMutualInformation(measure: ArrayLike<number>, gaps: ArrayLike<number>, hparams: readonly HParams[],
  opts: { subsetSize?: number } = {}): CmiResult
{
  const n = gaps.length;
  check(measure.length === n && hparams.length === n, () => `CMI: ${measure.length} measure values, ${n} gaps, ${hparams.length} hyper-parameter sets`);
  // Only the hyper-parameters that vary can condition; the seed never does.
  const coded = codeHyperParameters(hparams, 'CMI').filter((c) => c.size > 1 && c.name !== SEED);
  const k = Math.min(opts.subsetSize ?? 2, coded.length);
  const bySubset = subsets(coded, k).map((set) => {
    // Mixed-radix code of the set's values.
    const code = new Int32Array(n);
    let codes = 1;
    for (const c of set) {
      for (let i = 0; i < n; i++) code[i] = code[i] * c.size + c.code[i];
      codes *= c.size;
    }
    return { hparams: set.map((c) => c.name), value: normalizedCmi(measure, gaps, code, codes) };
  });
  return { score: Math.min(...bySubset.map((s) => s.value)), bySubset };
}

export interface MeasureRow {
  measure: string;
  /** Number of features p. */
  features: number;
  adjustedR2: number;
  cvR2: number;
  /** In-sample MSE of the fit on all models. */
  mse: number;
  /** Kendall τ-b between the fitted predictions and the gaps. */
  kendallTau: number;
  /** K(μ) of the fitted predictions. */
  cmi: number;
  /** Ψ, the granulated Kendall coefficient of the fitted predictions (ranking.ts). */
  psi: number;
  /** ψ_i of each axis, with the groups, models and pairs it rests on (the same for every measure of a population). */
  psiByAxis: AxisPsi[];
}

/**
 * One row per measure: `features[name]` holds one feature vector per model (all the same length,
 * finite — log features of a non-positive value must be dealt with first), aligned with `gaps` and
 * `hparams` (the design's hyper-parameters, `seed` included where it varies: Ψ's groups agree on it, K
 * ignores it). Every measure uses the same fold assignment, Rng(seed) with k folds (defaults 10, 0).
 *
 * @example
 * ```ts
 * import { evaluateMeasures } from 'dltheory';
 * const gaps = Float64Array.from({ length: 20 }, (_, i) => 0.01 * i);
 * const hparams = Array.from(gaps, (_, i) => ({ width: i % 2 ? 64 : 256 }));
 * const rows = Array.from(gaps, (g, i) => Float64Array.of(Math.log(1 + g) + 0.001 * (i % 3)));
 * evaluateMeasures({ 'log(1 + gap)': rows }, gaps, hparams, { folds: 5 }); // [{ measure, features: 1, cvR2 ≈ 1, kendallTau ≈ 1, … }]
 * ```
 */
export function evaluateMeasures(
  features: Record<string, Rows>,
  gaps: Float64Array,
  hparams: readonly HParams[],
  opts: { folds?: number; seed?: number } = {},
): MeasureRow[] {
  const n = gaps.length;
  check(gaps.every(Number.isFinite), 'evaluate measures: a gap is not finite');
  const folds = foldAssignment(n, opts.folds ?? 10, opts.seed ?? 0);
  return Object.entries(features).map(([measure, rows]) => {
    checkRows(rows, n, `measure '${measure}'`);
    const fit = fitLinear(rows, gaps);
    const granulated = granulatedKendall(fit.predictions, gaps, hparams);
    return {
      measure,
      features: rows[0]?.length ?? 0,
      adjustedR2: fit.adjustedR2,
      cvR2: crossValidatedR2(rows, gaps, folds).r2,
      mse: fit.mse,
      kendallTau: kendallTauB(fit.predictions, gaps),
      cmi: conditionalMutualInformation(fit.predictions, gaps, hparams).score,
      psi: granulated.psi,
      psiByAxis: granulated.byAxis,
    };
  });
}
