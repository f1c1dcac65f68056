/**
 * The plain output margin, the unnormalised baseline beside Jiang et al.'s normalised margin
 * distributions (ICLR 2019; docs/papers.md §1):
 *
 *   γ(x, y) = f_y(x) − max_{k≠y} f_k(x)
 *
 * over the training set, in eval mode (BatchNorm on running statistics, no dropout), computed in
 * float64 from the logits in the model's dtype (convert the model with Module.to('float64') for
 * float64 logits). γ < 0 for a misclassified point.
 *
 * The summary follows the normalised-margin signature (src/measures/margins.ts): only points with
 * γ > 0 enter the distribution (the dropped fraction is reported), then Q1, median, Q3 and the Tukey
 * fences (quantiles.ts), and as regression features their logs with the fences clamped into the
 * range of the kept margins.
 */
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/memory.js';
import { oneHot } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { evalMode, type Module } from '../nn/module.js';
import { boxSummary, logBoxSummary, type BoxSummary } from './quantiles.js';

export interface OutputMarginResult {
  /** γ of every point, in input order. */
  margins: Float64Array;
  /** Fraction of points with γ ≤ 0, left out of the summary. */
  droppedFraction: number;
  summary: BoxSummary;
  logSummary: BoxSummary;
}

/**
 * γ = f_y − max_{k≠y} f_k of every point of x [n, …] with int64 labels y [n], in eval mode: [n], in logit units.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, outputMargins } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const g = outputMargins(buildModel('mlp:20-64-3'), x, y); // Float64Array of 300
 * g.filter((m) => m <= 0).length;                          // misclassified (or tied) points
 * ```
 */
export function outputMargins(model: Module, x: Tensor, y: Tensor, opts: { batchSize?: number } = {}): Float64Array {
  const n = x.size(0);
  check(y.ndim === 1 && y.size(0) === n && y.dtype === 'int64', () => `output margins: labels [${y.shape}] ${y.dtype} for ${n} inputs; need int64 [${n}]`);
  const batch = opts.batchSize ?? 1000;
  const dtype = model.dtype;
  const out = new Float64Array(n);
  using _eval = evalMode(model);
  noGrad(() => {
    for (let i = 0; i < n; i += batch) {
      scope(() => {
        const len = Math.min(batch, n - i);
        const f = model.forward(x.narrow(0, i, len).to(dtype)).double();
        const yb = y.narrow(0, i, len);
        const wrong = f.maskedFill(oneHot(yb, f.size(1)).to('bool'), -Infinity).amax(1);
        out.set(f.gather(1, yb.unsqueeze(1)).squeeze(1).sub(wrong).toArray() as Float64Array, i);
      });
    }
  });
  return out;
}

/**
 * The output margins [n] and the box summary (and log summary) of the positive ones.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, outputMarginSummary } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const s = outputMarginSummary(buildModel('mlp:20-64-3'), x, y);
 * s.summary.median; // median γ of the correctly classified points; s.droppedFraction, the others
 * ```
 */
export function outputMarginSummary(model: Module, x: Tensor, y: Tensor, opts: { batchSize?: number } = {}): OutputMarginResult {
  const margins = outputMargins(model, x, y, opts);
  const kept = margins.filter((m) => m > 0);
  return {
    margins,
    droppedFraction: margins.length ? 1 - kept.length / margins.length : NaN,
    summary: boxSummary(kept),
    logSummary: logBoxSummary(kept),
  };
}
