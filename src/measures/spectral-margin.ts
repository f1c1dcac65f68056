/**
 * The spectrally-normalised margin of Bartlett, Foster, Telgarsky, "Spectrally-normalized margin
 * bounds for neural networks" (NeurIPS 2017, arXiv:1706.08498; docs/papers.md §1):
 *
 *   R = Π_i ‖W_i‖₂ · ( Σ_i ‖W_iᵀ‖_{2,1}^{2/3} / ‖W_i‖₂^{2/3} )^{3/2} · ‖X‖_F / n
 *   normalised margin = γ / R,   log γ/R = log γ − log R   (the regressed quantity)
 *
 * - W_i: the weight layers of norms.ts (Linear [out, in]; Conv [out, in, k, k] reshaped to the matrix
 *   [out, in·k·k]; BatchNorm folded into the layer before it). For a convolution ‖·‖₂ of that matrix
 *   is an approximation: the convolution operator's norm is different (it depends on the input size,
 *   stride and padding). Biases are left out, as in the bound; residual networks get the product over
 *   all their layers, shortcuts included, a heuristic (the bound is for chains of layers).
 * - ‖·‖₂ the spectral norm (largest singular value). ‖A‖_{2,1} is Bartlett's ‖A‖_{p,q} with p = 2,
 *   q = 1: the sum over the columns of A of their ℓ2 norms. The bound takes it of W_iᵀ − M_iᵀ; we take
 *   the reference matrices M_i = 0, so ‖W_iᵀ‖_{2,1} = Σ_j ‖W_i[j, :]‖₂, the sum over output units of
 *   the ℓ2 norm of each unit's incoming weights.
 * - ‖X‖_F = √(Σ_i ‖x_i‖²) over the n training inputs, flattened.
 * - γ: the q-quantile (default q = 0.5, the median; Fantastic (Jiang et al. 2020) takes q = 0.1) of the
 *   output margins f_y − max_{k≠y} f_k over all training points, misclassified ones included, in
 *   eval mode (output-margin.ts). The log is NaN when γ ≤ 0 (more than a fraction q misclassified).
 * Everything is computed in float64 and R in log space, so deep products do not overflow.
 */
import { scope } from '../engine/memory.js';
import { matrixNorm } from '../engine/linalg.js';
import { linalgStep } from './finite.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import type { Module } from '../nn/module.js';
import { asMatrix, foldedLayers } from './norms.js';
import { outputMargins } from './output-margin.js';
import { boxSummary, quantile, type BoxSummary } from './quantiles.js';

export interface SpectralMarginOptions {
  /** Which quantile of the output margins is γ (default 0.5). */
  quantile?: number;
  /** Fold BatchNorm into the layer before it (default true). */
  foldBatchNorm?: boolean;
  batchSize?: number;
}

export interface LayerSpectrum {
  name: string;
  /** ‖W‖₂ */
  spectral: number;
  /** ‖Wᵀ‖_{2,1} = Σ over rows of W of their ℓ2 norms */
  l21: number;
}

export interface SpectralMarginResult {
  /** γ, the chosen quantile of the output margins. */
  margin: number;
  layers: LayerSpectrum[];
  /** ‖X‖_F of the training inputs. */
  dataNorm: number;
  n: number;
  /** log R. */
  logComplexity: number;
  /** γ / R */
  value: number;
  /** log γ − log R (NaN for γ ≤ 0). */
  log: number;
  /** Box summary of every point's margin divided by R. */
  normalizedSummary: BoxSummary;
}

/** ‖W‖₂ and ‖Wᵀ‖_{2,1} of each weight layer. */
export function layerSpectra(model: Module, opts: { foldBatchNorm?: boolean } = {}): LayerSpectrum[] {
  return scope(() =>
    foldedLayers(model, opts).map(({ name, weight }) => {
      const m = asMatrix(weight);
      return { name, spectral: linalgStep(`spectral norm of ${name}`, m, (w) => matrixNorm(w, 2)).item(), l21: m.norm(2, 1).sum().item() };
    })
  );
}

/** log R from the layer norms, ‖X‖_F and n. */
export function logSpectralComplexity(layers: LayerSpectrum[], dataNorm: number, n: number): number {
  const logProduct = layers.reduce((s, l) => s + Math.log(l.spectral), 0);
  const correction = layers.reduce((s, l) => s + (l.l21 / l.spectral) ** (2 / 3), 0);
  return logProduct + 1.5 * Math.log(correction) + Math.log(dataNorm) - Math.log(n);
}

/** ‖X‖_F in float64, a chunk of rows at a time. */
function frobenius(x: Tensor, chunk = 1000): number {
  let sq = 0;
  for (let i = 0; i < x.size(0); i += chunk) sq += scope(() => x.narrow(0, i, Math.min(chunk, x.size(0) - i)).double().square().sum().item());
  return Math.sqrt(sq);
}

/**
 * Bartlett et al.'s normalised margin γ/R of `model` on training inputs x [n, …] (flattened for ‖X‖_F) with int64 labels y [n].
 * γ is in logit units; `log` is the regressed feature.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, spectralMargin } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const s = spectralMargin(buildModel('mlp:20-64-3'), x, y, { quantile: 0.1 });
 * s.layers.map((l) => l.name); // ['layers.0', 'layers.1'], each with ‖W‖₂ and ‖Wᵀ‖_{2,1}
 * s.log;                       // log γ − log R; NaN while γ ≤ 0 (an untrained model, as here)
 * ```
 */
export function spectralMargin(model: Module, x: Tensor, y: Tensor, opts: SpectralMarginOptions = {}): SpectralMarginResult {
  const q = opts.quantile ?? 0.5;
  check(q >= 0 && q <= 1, () => `spectral margin: quantile ${q} is not in [0, 1]`);
  const n = x.size(0);
  const margins = outputMargins(model, x, y, { batchSize: opts.batchSize });
  const margin = quantile(Float64Array.from(margins).sort(), q);
  const layers = layerSpectra(model, opts);
  const dataNorm = frobenius(x);
  const logComplexity = logSpectralComplexity(layers, dataNorm, n);
  const scale = Math.exp(-logComplexity);
  return {
    margin,
    layers,
    dataNorm,
    n,
    logComplexity,
    value: margin * scale,
    log: margin > 0 ? Math.log(margin) - logComplexity : NaN,
    normalizedSummary: boxSummary(margins.map((m) => m * scale)),
  };
}
