/**
 * Loss-landscape slices, for the optimisation lab (docs/papers.md §2–§4):
 *
 * - the straight path from θ₀ (say, the initialisation) to θ₁ (the trained weights),
 *     L(α) = L((1 − α)·θ₀ + α·θ₁),   α over a grid (values outside [0, 1] extrapolate);
 *   a loss that falls monotonically along it is the picture of "no barrier" (Goodfellow et al. 2015);
 * - a 2-D slice around θ* with filter-normalised random directions (Li, Xu, Taylor, Studer,
 *   Goldstein, "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018):
 *     L(a, b) = L(θ* + a·δ + b·η),
 *   δ, η Gaussian, then every filter (for a weight of shape [out, …], each slice along dim 0: a row of
 *   a Linear, an output channel of a convolution) rescaled to the norm of the same filter of θ*:
 *     δ_i ← δ_i · ‖θ*_i‖ / ‖δ_i‖.
 *   One-dimensional parameters (biases, norm scales) get a zero direction, Li et al.'s "ignore
 *   biasbn" choice, so the slice moves the weights alone and scale-invariant layers compare fairly.
 *
 * `loss` is evaluated with the model's parameters set to each point (in place, without autograd); the
 * parameters are restored before returning, also on error.
 */
import { noGrad } from '../engine/autograd.js';
import { manualSeed, randn } from '../engine/creation.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import type { Module } from '../nn/module.js';

/**
 * Copies of the model's parameters, in parameter order and in their shapes (kept: dispose them when done).
 *
 * @example
 * ```ts
 * import { buildModel, dispose, snapshot } from 'dltheory';
 * const model = buildModel('mlp:20-64-3');
 * const theta = snapshot(model); // [W0 [64, 20], b0 [64], W1 [3, 64], b1 [3]]
 * dispose(theta);
 * ```
 */
export function snapshot(model: Module): Tensor[] {
  return noGrad(() => scope(() => model.parameters().map((p) => keep(p.detach().clone()))));
}

/** Runs `loss` with the parameters set to `point(i)` for each i, restoring them after. */
function lossesAt(model: Module, count: number, point: (k: number, p: number) => Tensor, loss: () => number): number[] {
  const params = model.parameters();
  const saved = snapshot(model);
  try {
    return Array.from({ length: count }, (_, k) =>
      noGrad(() => {
        scope(() => params.forEach((p, i) => p.copy_(point(k, i))));
        return loss();
      }));
  } finally {
    noGrad(() => params.forEach((p, i) => p.copy_(saved[i])));
    dispose(saved);
  }
}

/**
 * L((1 − α)θ₀ + αθ₁) for each α; from and to list the model's parameters in order (as snapshot gives them).
 *
 * @example
 * ```ts
 * import { F, buildModel, gaussianMixture, linePath, scope, snapshot } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 200, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const model = buildModel('mlp:20-64-3');
 * const theta0 = snapshot(model); // … then train model
 * const loss = () => scope(() => F.crossEntropy(model.forward(x), y).item());
 * linePath(model, theta0, snapshot(model), [0, 0.5, 1], loss); // [{ alpha: 0, loss }, { alpha: 0.5, loss }, { alpha: 1, loss }]
 * ```
 */
export function linePath(model: Module, from: Tensor[], to: Tensor[], alphas: number[], loss: () => number): { alpha: number; loss: number }[] {
  check(from.length === model.parameters().length && to.length === from.length, 'landscape: the end points must list every parameter');
  const values = lossesAt(model, alphas.length, (k, i) => from[i].mul(1 - alphas[k]).add(to[i].mul(alphas[k])), loss);
  return alphas.map((alpha, k) => ({ alpha, loss: values[k] }));
}

/**
 * A filter-normalised Gaussian direction for the parameters `center` (kept: dispose it), one tensor per parameter in
 * its shape. Drawn from the engine's generator after manualSeed(seed), so it reseeds that generator.
 *
 * @example
 * ```ts
 * import { buildModel, filterNormalizedDirection, snapshot } from 'dltheory';
 * const center = snapshot(buildModel('mlp:20-64-3'));
 * const d = filterNormalizedDirection(center, 1);
 * d[0].norm(2, 1);    // [64]: each row has the norm of the same row of center[0]
 * d[1].abs().sum();   // 0: biases get no direction
 * ```
 */
export function filterNormalizedDirection(center: Tensor[], seed: number): Tensor[] {
  manualSeed(seed);
  return center.map((w) =>
    keep(scope(() => {
      if (w.ndim < 2) return w.mul(0);
      const d = randn(w.shape, w.dtype);
      const dims = w.shape.slice(1).map((_, k) => k + 1);
      return d.mul(w.norm(2, dims, true).div(d.norm(2, dims, true).add(1e-12)));
    }))
  );
}

/**
 * L(θ* + a·δ + b·η) over the grid a × b: rows follow `as`, columns `bs` ([as.length][bs.length], in the loss's units).
 *
 * @example
 * ```ts
 * import { F, buildModel, filterNormalizedDirection, gaussianMixture, lossSurface, scope, snapshot } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 200, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const model = buildModel('mlp:20-64-3');
 * const loss = () => scope(() => F.crossEntropy(model.forward(x), y).item());
 * const [center, grid] = [snapshot(model), [-1, -0.5, 0, 0.5, 1]];
 * lossSurface(model, center, filterNormalizedDirection(center, 1), filterNormalizedDirection(center, 2), grid, grid, loss); // 5 × 5
 * ```
 */
export function lossSurface(model: Module, center: Tensor[], d1: Tensor[], d2: Tensor[], as: number[], bs: number[], loss: () => number): number[][] {
  const values = lossesAt(model, as.length * bs.length, (k, i) => center[i].add(d1[i].mul(as[Math.floor(k / bs.length)])).add(d2[i].mul(bs[k % bs.length])),
    loss);
  return as.map((_, r) => values.slice(r * bs.length, (r + 1) * bs.length));
}
