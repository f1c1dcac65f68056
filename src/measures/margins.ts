/**
 * Margin distributions: Jiang, Krishnan, Mobahi, Bengio, "Predicting the Generalization Gap in Deep
 * Networks with Margin Distributions", ICLR 2019, arXiv:1810.00113 (docs/papers.md §1).
 *
 * For a point (x, y) with logits f(x), let j = argmax_{k≠y} f_k(x), the highest wrong logit. At a
 * probe point l with activation h_l(x), the first-order distance to the y/j decision boundary is
 *
 *   d_l(x) = (f_y − f_j) / sqrt(ε + ‖∇_{h_l}(f_y − f_j)‖²),   ε = 1e-6, norm over all non-batch axes,
 *
 * negative for misclassified points. It is divided by the total variation of h_l,
 * TV_l = sqrt(Σ_units Var(h_l)), the population variance over the same points (all measured points,
 * misclassified ones too), from per-unit sums of h − c and (h − c)² (c the first point's activation,
 * which keeps the difference of sums from cancelling and makes identical points exactly 0): each
 * batch's sums in the model's dtype, added up across batches in float64, so memory stays bounded by
 * one batch. The reference code also divides by the number of points; with a fixed number of points
 * that only shifts every log feature by a constant, so it is left out.
 *
 * Undefined results are NaN and named in `undefined` ("field: reason"), never round-off noise or
 * ±Infinity: a TV at round-off level (≤ ROUNDOFF·ε·RMS(h_l), ε of the model's dtype: the points are
 * indistinguishable at that probe point) leaves the normalised margins undefined; a sample whose
 * spread is at round-off level (≤ ROUNDOFF·ε·|mean|, scipy.stats' test for a constant sample, with
 * the dtype's ε) has std 0 and no skewness or kurtosis; no kept point leaves every statistic undefined.
 *
 * One backward pass per batch: grad(output, probes, {gradOutputs: [onehot(y) − onehot(j)]}) is
 * ∂/∂h_l of Σ_i (f_y − f_j)(x_i), whose i-th row is point i's own gradient because points do not
 * interact. That holds in eval mode only (BatchNorm on running statistics, no dropout), so the model
 * is put in eval mode for the measurement and its mode restored after. The inputs are a
 * requires-grad copy of each batch (for the `input` probe) in the dtype of the model's parameters:
 * convert the model (Module.to('float64')) for float64 measurements.
 *
 * The distribution holds the normalised margins of the points with f_y − f_j > 0; the others
 * (misclassified, or tied with a wrong class) are dropped and their fraction reported. Per probe:
 * - signature: Q1, median, Q3 (linear interpolation, numpy's default), lower fence Q1 − 1.5·IQR,
 *   upper fence Q3 + 1.5·IQR;
 * - log signature, the regression's features: the log of each of the five after clamping the fences
 *   into [min, max] of the kept margins, as box-plot whiskers do (a lower fence ≤ 0 becomes the
 *   smallest margin, a fence beyond the data the extreme margin), so every log is finite;
 * - moments (the paper's moments variant, our choice of moments): mean, standard deviation
 *   (population), skewness m3/m2^1.5 and Pearson's kurtosis m4/m2² (≥ 1, not the excess) of the
 *   kept normalised margins; their features are log mean, log std, skewness (can be negative, so
 *   not logged) and log kurtosis.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { tensor, zeros } from '../engine/creation.js';
import { keep, scope, dispose } from '../engine/memory.js';
import { oneHot } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { evalMode, type Module } from '../nn/module.js';
import { checkFinite } from './finite.js';
import { boxSummary, logBoxSummary, type BoxSummary } from './quantiles.js';

export const EPSILON = 1e-6;

/** Multiples of the dtype's machine ε below which a spread is taken for round-off (see the module note). */
export const ROUNDOFF = 64;

/** Machine ε of the dtypes measurements run in. */
export const MACHINE_EPSILON = { float32: 2 ** -23, float64: 2 ** -52 } as const;

/** Q1, median, Q3, lower and upper fence. */
export type Signature = BoxSummary;
export interface Moments {
  mean: number;
  std: number;
  skewness: number;
  kurtosis: number;
}

export interface ProbeMargins {
  name: string;
  totalVariation: number;
  /** Fraction of the measured points dropped (f_y − f_j ≤ 0); the same at every probe point. */
  droppedFraction: number;
  /** d_l of every measured point, signed and not normalised, aligned with MarginResult.index. */
  distances: Float64Array;
  /** d_l / TV_l of every measured point, aligned with MarginResult.index; NaN when the TV is round-off (see `undefined`). */
  normalized: Float64Array;
  /** The distribution: d_l / TV_l of the kept points, in input order. */
  margins: Float64Array;
  signature: Signature;
  logSignature: Signature;
  moments: Moments;
  /** Why a statistic is NaN, as "field: reason" (e.g. "moments.skewness: constant sample"); empty when every one is defined. */
  undefined: string[];
}

export interface MarginResult {
  /** Positions in x of the measured points, ascending. */
  index: Int32Array;
  label: Int32Array;
  /** f_y − f_j of each measured point. */
  logitMargin: Float64Array;
  probes: ProbeMargins[];
}

export interface MarginOptions {
  /** Probe points to measure (default: all of the model's, in forward order). */
  probes?: string[];
  /** Points per forward/backward pass (default 256). */
  batchSize?: number;
  /** Measure the first `limit` points only. */
  limit?: number;
  /** Measure `n` points drawn without replacement by a permutation seeded with `seed` (kept in input order). */
  sample?: { n: number; seed: number };
}

/** The positions of the points to measure. */
function selectPoints(total: number, opts: MarginOptions): Int32Array {
  check(!(opts.limit !== undefined && opts.sample), 'margins: give limit or sample, not both');
  const n = opts.limit ?? opts.sample?.n ?? total;
  check(Number.isInteger(n) && n >= 1, () => `margins: ${n} points requested; need an integer ≥ 1`);
  if (!opts.sample) return Int32Array.from({ length: Math.min(n, total) }, (_, i) => i);
  check(n <= total, () => `margins: a sample of ${n} from ${total} points`);
  return new Rng(opts.sample.seed).permutation(total).subarray(0, n).sort();
}

/**
 * Quartiles and Tukey fences of `values`, and their logs with the fences clamped into [min, max] (quantiles.ts).
 *
 * @example
 * ```ts
 * import { signatureOf } from 'dltheory';
 * const { signature, logSignature } = signatureOf(Float64Array.of(5, 1, 4, 2, 3));
 * signature;               // { q1: 2, median: 3, q3: 4, lowerFence: -1, upperFence: 7 }
 * logSignature.lowerFence; // 0 = log 1: the fence −1 clamped to the smallest value first
 * ```
 */
export function signatureOf(values: Float64Array): { signature: Signature; logSignature: Signature } {
  return { signature: boxSummary(values), logSignature: logBoxSummary(values) };
}

/**
 * Mean, population standard deviation, skewness and Pearson's kurtosis of `values`, with the reasons
 * any of them is undefined: no value, or a constant sample — a spread ≤ `resolution`·|mean|, which
 * takes round-off for no spread (std 0, skewness and kurtosis NaN, as scipy.stats returns).
 *
 * @example
 * ```ts
 * import { momentsOf } from 'dltheory';
 * momentsOf(Float64Array.of(1, 2, 3, 4)).moments; // { mean: 2.5, std: 1.118…, skewness: 0, kurtosis: 1.64 }
 * momentsOf(Float64Array.of(2, 2)).undefined;     // ['moments.skewness: constant sample', 'moments.kurtosis: constant sample']
 * ```
 */
export function momentsOf(values: Float64Array, resolution = ROUNDOFF * MACHINE_EPSILON.float64): { moments: Moments; undefined: string[] } {
  const n = values.length;
  if (n === 0) return { moments: { mean: NaN, std: NaN, skewness: NaN, kurtosis: NaN }, undefined: ['moments: no point kept'] };
  let mean = 0;
  for (const v of values) mean += v / n;
  let [m2, m3, m4] = [0, 0, 0];
  for (const v of values) {
    const d = v - mean;
    m2 += (d * d) / n;
    m3 += (d * d * d) / n;
    m4 += (d * d * d * d) / n;
  }
  if (Math.sqrt(m2) <= resolution * Math.abs(mean)) {
    return { moments: { mean, std: 0, skewness: NaN, kurtosis: NaN }, undefined: ['moments.skewness: constant sample', 'moments.kurtosis: constant sample'] };
  }
  return { moments: { mean, std: Math.sqrt(m2), skewness: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) }, undefined: [] };
}

const NO_STATISTICS: Pick<ProbeMargins, 'signature' | 'logSignature' | 'moments'> = (() => {
  const none = { q1: NaN, median: NaN, q3: NaN, lowerFence: NaN, upperFence: NaN };
  return { signature: none, logSignature: none, moments: { mean: NaN, std: NaN, skewness: NaN, kurtosis: NaN } };
})();

/** The statistics of one probe point's kept normalised margins, or the reason there are none. */
function probeStatistics(margins: Float64Array, tvUndefined: string | undefined,
  dtype: 'float32' | 'float64'): Pick<ProbeMargins, 'signature' | 'logSignature' | 'moments' | 'undefined'>
{
  if (tvUndefined !== undefined) return { ...NO_STATISTICS, undefined: [`normalized_margin: ${tvUndefined}`] };
  if (margins.length === 0) return { ...NO_STATISTICS, undefined: ['signature: no point kept (every point misclassified)', 'moments: no point kept'] };
  return { ...signatureOf(margins), ...momentsOf(margins, ROUNDOFF * MACHINE_EPSILON[dtype]) };
}

/**
 * The margin distribution of `model` on inputs x [n, ...] with int64 labels y [n], at each probe point.
 * `index`, `label`, `logitMargin` and each probe's `distances` have one entry per measured point (n, or fewer with `limit` or
 * `sample`); `margins` holds the kept points only. d_l is in the units of the activation h_l, and d_l / TV_l is unitless.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, marginDistribution } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const r = marginDistribution(buildModel('mlp:20-64-3'), x, y); // probe points 'input' and 'layers.0'
 * r.probes[1].signature.median; // median of d/TV at layers.0 over the points with f_y − f_j > 0
 * r.probes[1].droppedFraction;  // the fraction left out (misclassified or tied)
 * ```
 */
export function marginDistribution(model: Module, x: Tensor, y: Tensor, opts: MarginOptions = {}): MarginResult {
  const known = model.probePoints();
  const names = opts.probes ?? model.defaultProbePoints();
  for (const p of names) check(known.includes(p), () => `no probe point '${p}' in ${model.label} (have: ${known.join(', ')})`);
  check(names.length > 0, 'margins: no probe points to measure');
  const total = x.size(0);
  check(y.ndim === 1 && y.size(0) === total, () => `margins: ${y.shape} labels for ${total} inputs`);
  check(y.dtype === 'int64', () => `margins: labels are ${y.dtype}, not int64`);
  const batch = opts.batchSize ?? 256;
  check(Number.isInteger(batch) && batch >= 1, () => `margins: batch size ${batch} is not an integer ≥ 1`);
  const index = selectPoints(total, opts);
  const n = index.length;
  const dtype = model.dtype;
  const contiguous = !opts.sample;
  const rows = (start: number, len: number): Tensor =>
    contiguous ? x.narrow(0, start, len) : x.indexSelect(0, tensor(BigInt64Array.from(index.subarray(start, start + len), BigInt), [len], 'int64'));

  const logitMargin = new Float64Array(n);
  const distances = names.map(() => new Float64Array(n));
  // Per probe: the shift c and the running sums of (h − c) and (h − c)² over units, in float64.
  const sums: { shift: Tensor; s1: Tensor; s2: Tensor }[] = [];
  using _eval = evalMode(model);
  try {
    // One point through the model: the number of classes, and an input shape it cannot take is the user's error.
    const classes = noGrad(() =>
      scope(() => {
        try {
          return model.forward(rows(0, 1).to(dtype)).size(1);
        } catch (e) {
          throw new InputError(`inputs of shape [${x.shape}] do not fit model ${model.label}: ${(e as Error).message.split('\n')[0]}`);
        }
      })
    );
    check(classes >= 2, () => `margins: the model has ${classes} output(s); a margin needs at least 2 classes`);
    const all = y.toNumbers();
    for (const i of index) check(all[i] >= 0 && all[i] < classes, () => `label of point ${i} is ${all[i]}, outside the model's ${classes} classes`);
    const labels = Int32Array.from(index, (i) => all[i]);
    for (let start = 0; start < n; start += batch) {
      const len = Math.min(batch, n - start);
      scope(() =>
        enableGrad(() => {
          // A copy, so that requiring grad never touches the caller's tensor.
          const xb = rows(start, len).detach().to(dtype).clone().requiresGrad_(true);
          const yb = tensor(BigInt64Array.from(labels.subarray(start, start + len), BigInt), [len], 'int64');
          const { output, probes } = model.forwardWithProbes(xb, names);
          const f = output.detach();
          const hotY = oneHot(yb, classes);
          const j = f.maskedFill(hotY.to('bool'), -Infinity).argmax(1);
          const diff = f.gather(1, yb.unsqueeze(1)).sub(f.gather(1, j.unsqueeze(1))).squeeze(1).double();
          const hs = names.map((p) => probes.get(p)!);
          const grads = grad(output, hs, { gradOutputs: [hotY.sub(oneHot(j, classes)).to(output.dtype)] });
          // An overflow in the model's dtype would turn into margins of 0 or NaN; name it instead.
          const position = index.subarray(start, start + len);
          const overflow = `the model overflows ${dtype} (measure in float64)`;
          checkFinite(f, 'margins: logits', overflow, position);
          const m = diff.toArray() as Float64Array;
          logitMargin.set(m, start);
          names.forEach((name, l) => {
            checkFinite(hs[l].detach().flatten(1), `margins: activations at ${name}`, overflow, position);
            const sq = grads[l]!.flatten(1).square().sum(1).double();
            checkFinite(sq.unsqueeze(1), `margins: squared gradient norm at ${name}`, overflow, position);
            distances[l].set(diff.div(sq.add(EPSILON).sqrt()).toArray() as Float64Array, start);
            const h = hs[l].detach().flatten(1);
            if (!sums[l]) sums[l] = { shift: keep(h.select(0, 0).clone()), s1: keep(zeros([h.size(1)], 'float64')), s2: keep(zeros([h.size(1)], 'float64')) };
            const c = h.sub(sums[l].shift);
            sums[l].s1.add_(c.sum(0).double());
            sums[l].s2.add_(c.square().sum(0).double());
          });
        })
      );
    }
    // TV² = Σ_u Var(h_u) and the mean square Σ_u mean(h_u²) it is compared with, from the shifted sums.
    const spread = sums.map(({ shift, s1, s2 }) =>
      scope(() => {
        const b = s2.sum().item();
        const c = shift.double();
        const meanSquare = (b + 2 * c.mul(s1).sum().item()) / n + c.square().sum().item();
        return { tv: Math.sqrt(Math.max(0, b / n - s1.square().sum().item() / (n * n))), rms: Math.sqrt(Math.max(0, meanSquare)) };
      })
    );
    const kept = Array.from(logitMargin, (m, i) => (m > 0 ? i : -1)).filter((i) => i >= 0);
    return {
      index,
      label: labels,
      logitMargin,
      probes: names.map((name, l) => {
        const { tv, rms } = spread[l];
        const flat = tv === 0
          ? 'total variation 0: every point has the same activation'
          : tv <= ROUNDOFF * MACHINE_EPSILON[dtype] * rms
          ? `total variation ${tv.toPrecision(3)} is round-off (RMS activation ${rms.toPrecision(3)}): the points are indistinguishable here`
          : undefined;
        const normalized = distances[l].map((d) => (flat ? NaN : d / tv));
        const margins = flat ? new Float64Array(0) : Float64Array.from(kept, (i) => normalized[i]);
        return { name, totalVariation: tv, droppedFraction: 1 - kept.length / n, distances: distances[l], normalized, margins,
          ...probeStatistics(margins, flat, dtype) };
      }),
    };
  } finally {
    dispose(sums);
  }
}

/** The kinds of feature vector a regression on margin distributions takes. */
export type SignatureVariant = 'quartiles' | 'moments';

/**
 * The "total signature": per probe point (in the result's order) the five log-signature features,
 * or with 'moments' the four moment features (log mean, log std, skewness, log kurtosis); `names` and
 * `values` have 5 (or 4) entries per probe point.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, marginDistribution, totalSignature } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const { names, values } = totalSignature(marginDistribution(buildModel('mlp:20-64-3'), x, y));
 * names; // ['input.log_q1', 'input.log_median', …, 'layers.0.log_upperFence'], values a Float64Array of 10
 * ```
 */
export function totalSignature(result: MarginResult, variant: SignatureVariant = 'quartiles'): { names: string[]; values: Float64Array } {
  const names: string[] = [];
  const values: number[] = [];
  for (const p of result.probes) {
    const features: [string, number][] = variant === 'quartiles'
      ? Object.entries(p.logSignature).map(([k, v]) => [`log_${k}`, v])
      : [['log_mean', Math.log(p.moments.mean)], ['log_std', Math.log(p.moments.std)], ['skewness', p.moments.skewness], ['log_kurtosis',
        Math.log(p.moments.kurtosis)]];
    for (const [k, v] of features) {
      names.push(`${p.name}.${k}`);
      values.push(v);
    }
  }
  return { names, values: Float64Array.from(values) };
}
