/**
 * Margin distributions: Jiang, Krishnan, Mobahi, Bengio, "Predicting the Generalization Gap in Deep
 * Networks with Margin Distributions", ICLR 2019 (../shared/papers.md §1).
 *
 * For a point (x, y) with logits f(x), let j = argmax_{k≠y} f_k(x), the highest wrong logit. At a
 * probe point l with activation h_l(x), the first-order distance to the y/j decision boundary is
 *
 *   d_l(x) = (f_y − f_j) / sqrt(ε + ‖∇_{h_l}(f_y − f_j)‖²),   ε = 1e-6, norm over all non-batch axes,
 *
 * negative for misclassified points. It is divided by the total variation of h_l,
 * TV_l = sqrt(Σ_units Var(h_l)), the population variance over the same points (all measured points,
 * misclassified ones too), from per-unit sums of h − c and (h − c)² (c the first batch's mean,
 * which keeps the difference of sums from cancelling): each batch's sums in the model's dtype, added
 * up across batches in float64, so memory stays bounded by one batch. The reference code also divides by the number of points; with a fixed
 * number of points that only shifts every log feature by a constant, so it is left out.
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
 * With no kept point every statistic is NaN.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { tensor, zeros } from '../engine/creation.js';
import { keep, scope, dispose } from '../engine/memory.js';
import { oneHot } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import type { Module } from '../nn/module.js';
import { boxSummary, logBoxSummary, type BoxSummary } from './quantiles.js';

export const EPSILON = 1e-6;

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
  /** The distribution: d_l / TV_l of the kept points, in input order. */
  margins: Float64Array;
  signature: Signature;
  logSignature: Signature;
  moments: Moments;
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

/** Quartiles and Tukey fences of `values`, and their logs with the fences clamped into [min, max] (quantiles.ts). */
export function signatureOf(values: Float64Array): { signature: Signature; logSignature: Signature } {
  return { signature: boxSummary(values), logSignature: logBoxSummary(values) };
}

/** Mean, population standard deviation, skewness and Pearson's kurtosis of `values`. */
export function momentsOf(values: Float64Array): Moments {
  const n = values.length;
  let mean = 0;
  for (const v of values) mean += v / n;
  let [m2, m3, m4] = [0, 0, 0];
  for (const v of values) {
    const d = v - mean;
    m2 += (d * d) / n;
    m3 += (d * d * d) / n;
    m4 += (d * d * d * d) / n;
  }
  return { mean: n ? mean : NaN, std: n ? Math.sqrt(m2) : NaN, skewness: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/** The margin distribution of `model` on inputs x [n, ...] with int64 labels y [n], at each probe point. */
export function marginDistribution(model: Module, x: Tensor, y: Tensor, opts: MarginOptions = {}): MarginResult {
  const known = model.probePoints();
  const names = opts.probes ?? known;
  for (const p of names) check(known.includes(p), () => `no probe point '${p}' in ${model.spec ?? 'the model'} (have: ${known.join(', ')})`);
  check(names.length > 0, 'margins: no probe points to measure');
  const total = x.size(0);
  check(y.ndim === 1 && y.size(0) === total, () => `margins: ${y.shape} labels for ${total} inputs`);
  check(y.dtype === 'int64', () => `margins: labels are ${y.dtype}, not int64`);
  const batch = opts.batchSize ?? 256;
  check(Number.isInteger(batch) && batch >= 1, () => `margins: batch size ${batch} is not an integer ≥ 1`);
  const index = selectPoints(total, opts);
  const n = index.length;
  const dtype = model.parameters()[0]?.dtype === 'float64' ? 'float64' : 'float32';
  const contiguous = !opts.sample;
  const rows = (start: number, len: number): Tensor =>
    contiguous ? x.narrow(0, start, len) : x.indexSelect(0, tensor(BigInt64Array.from(index.subarray(start, start + len), BigInt), [len], 'int64'));

  const logitMargin = new Float64Array(n);
  const distances = names.map(() => new Float64Array(n));
  // Per probe: the shift c and the running sums of (h − c) and (h − c)² over units, in float64.
  const sums: { shift: Tensor; s1: Tensor; s2: Tensor }[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    // One point through the model: the number of classes, and an input shape it cannot take is the user's error.
    const classes = noGrad(() =>
      scope(() => {
        try {
          return model.forward(rows(0, 1).to(dtype)).size(1);
        } catch (e) {
          throw new InputError(`inputs of shape [${x.shape}] do not fit model ${model.spec ?? ''}: ${(e as Error).message.split('\n')[0]}`);
        }
      }),
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
          const m = diff.toArray() as Float64Array;
          logitMargin.set(m, start);
          names.forEach((_, l) => {
            const sq = grads[l]!.flatten(1).square().sum(1).double();
            distances[l].set(diff.div(sq.add(EPSILON).sqrt()).toArray() as Float64Array, start);
            const h = hs[l].detach().flatten(1);
            if (!sums[l]) sums[l] = { shift: keep(h.mean(0)), s1: keep(zeros([h.size(1)], 'float64')), s2: keep(zeros([h.size(1)], 'float64')) };
            const c = h.sub(sums[l].shift);
            sums[l].s1.add_(c.sum(0).double());
            sums[l].s2.add_(c.square().sum(0).double());
          });
        }),
      );
    }
    const tv = sums.map(({ s1, s2 }) => scope(() => Math.sqrt(Math.max(0, s2.sum().item() / n - s1.square().sum().item() / (n * n)))));
    const kept = Array.from(logitMargin, (m, i) => (m > 0 ? i : -1)).filter((i) => i >= 0);
    return {
      index,
      label: labels,
      logitMargin,
      probes: names.map((name, l) => {
        const margins = Float64Array.from(kept, (i) => distances[l][i] / tv[l]);
        return { name, totalVariation: tv[l], droppedFraction: 1 - kept.length / n, distances: distances[l], margins, ...signatureOf(margins), moments: momentsOf(margins) };
      }),
    };
  } finally {
    model.train(wasTraining);
    dispose(sums);
  }
}

/** The kinds of feature vector a regression on margin distributions takes. */
export type SignatureVariant = 'quartiles' | 'moments';

/**
 * The "total signature": per probe point (in the result's order) the five log-signature features,
 * or with 'moments' the four moment features (log mean, log std, skewness, log kurtosis).
 */
export function totalSignature(result: MarginResult, variant: SignatureVariant = 'quartiles'): { names: string[]; values: Float64Array } {
  const names: string[] = [];
  const values: number[] = [];
  for (const p of result.probes) {
    const features: [string, number][] =
      variant === 'quartiles'
        ? Object.entries(p.logSignature).map(([k, v]) => [`log_${k}`, v])
        : [['log_mean', Math.log(p.moments.mean)], ['log_std', Math.log(p.moments.std)], ['skewness', p.moments.skewness], ['log_kurtosis', Math.log(p.moments.kurtosis)]];
    for (const [k, v] of features) {
      names.push(`${p.name}.${k}`);
      values.push(v);
    }
  }
  return { names, values: Float64Array.from(values) };
}
