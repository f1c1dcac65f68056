/**
 * Sharpness of the training loss, after Keskar, Mudigere, Nocedal, Smelyanskiy, Tang, "On Large-Batch
 * Training for Deep Learning: Generalization Gap and Sharp Minima" (ICLR 2017), one of the baselines
 * of docs/papers.md §1:
 *
 *   sharpness = max_{δ ∈ C_α} L(w + δ) − L(w),   C_α = { δ : |δ_i| ≤ α·(|w_i| + 1) for every parameter i }
 *
 * and Keskar's normalised form 100·sharpness / (1 + L(w)). L is the mean cross-entropy over a fixed
 * sample of training points, in eval mode (BatchNorm on running statistics, no dropout); w is every
 * trainable parameter.
 *
 * Keskar et al. solve the inner maximisation with a few L-BFGS-B iterations; we use projected
 * gradient ascent (the ℓ∞-box version of PGD): from a uniform random start in C_α, `steps` updates
 * δ ← clip(δ + η·α(|w| + 1)·sign ∇L(w + δ), C_α), η = `stepSize`, over `restarts` random starts. The
 * result is the largest loss seen at any iterate (δ = 0 included, so it is ≥ 0 and exactly 0 for
 * α = 0). Defaults: α = 5e-4 (the smaller of Keskar's two boxes, 1e-3 and 5e-4), 5 steps, η = 2.5/steps
 * (Madry et al.'s PGD rule: the steps together can cross the box), 2 restarts, 1000 training points,
 * i.e. 13 forward and 10 backward passes over the sample (8 s for cnn:1x28x28-10 on two
 * cores). The sample and the starts come from the data layer's Rng seeded with `seed` (default 0), so
 * the value is repeatable. The model's parameters are restored before returning.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { tensor, zerosLike } from '../engine/creation.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { DType, Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { Rng } from '../data/rng.js';
import { crossEntropy } from '../nn/functional.js';
import { evalMode, type Module } from '../nn/module.js';
import { snapshot } from './landscape.js';

export interface SharpnessOptions {
  alpha?: number;
  steps?: number;
  stepSize?: number;
  restarts?: number;
  sampleSize?: number;
  seed?: number;
  batchSize?: number;
}

export interface SharpnessResult {
  /** L(w) on the sample. */
  baseLoss: number;
  /** The largest L(w + δ) found. */
  maxLoss: number;
  /** maxLoss − baseLoss (≥ 0). */
  value: number;
  /** log value (−Infinity for 0). */
  log: number;
  /** Keskar's 100·value / (1 + baseLoss). */
  keskar: number;
}

/**
 * The first min(size, n) points of a permutation of x [n, …] and y [n] drawn from `rng`, x in `dtype`
 * (kept: dispose them): sharpness's sample, which `dltheory flatness` gives its other measures too.
 */
export function seededSample(x: Tensor, y: Tensor, size: number, rng: Rng, dtype: DType = x.dtype): { x: Tensor; y: Tensor } {
  const m = Math.min(size, x.size(0));
  return scope(() => {
    const index = tensor(BigInt64Array.from(rng.permutation(x.size(0)).subarray(0, m), BigInt), [m], 'int64');
    return { x: keep(x.indexSelect(0, index).to(dtype)), y: keep(y.indexSelect(0, index)) };
  });
}

/**
 * The largest training-loss increase within the box C_α, by projected gradient ascent, on x [n, …] with int64 labels y [n].
 * Losses are mean cross-entropies in nats; `keskar` is a percentage.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, sharpness } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const s = sharpness(buildModel('mlp:20-64-3'), x, y, { alpha: 1e-3, seed: 1 });
 * s.value;  // max L(w + δ) − L(w) over the box, ≥ 0
 * s.keskar; // 100·value / (1 + L(w))
 * ```
 */
export function sharpness(model: Module, x: Tensor, y: Tensor, opts: SharpnessOptions = {}): SharpnessResult {
  const { alpha = 5e-4, steps = 5, restarts = 2, sampleSize = 1000, seed = 0, batchSize = 500 } = opts;
  const stepSize = opts.stepSize ?? (steps > 0 ? 2.5 / steps : 0);
  check(alpha >= 0 && Number.isFinite(alpha), () => `sharpness: alpha ${alpha} is not a finite number ≥ 0`);
  check([steps, restarts, sampleSize, batchSize].every((v) => Number.isInteger(v) && v >= 0) && sampleSize > 0 && batchSize > 0,
    'sharpness: steps and restarts must be integers ≥ 0, sampleSize and batchSize integers ≥ 1');
  const rng = new Rng(seed);
  const dtype = model.dtype;
  const { x: xs, y: ys } = seededSample(x, y, sampleSize, rng, dtype);
  const m = xs.size(0);
  const params = model.parameters();
  const original = snapshot(model);
  const box = params.map((p) => keep(scope(() => p.detach().abs().add(1).mul(alpha))));
  using _eval = evalMode(model);

  /** Mean loss over the sample at the current parameters, and its gradient when asked. */
  const lossAt = (withGrad: boolean): { loss: number; grads: Tensor[] } => {
    let loss = 0;
    const grads = withGrad ? params.map((p) => keep(zerosLike(p))) : [];
    for (let i = 0; i < m; i += batchSize) {
      scope(() =>
        enableGrad(() => {
          const len = Math.min(batchSize, m - i);
          const l = crossEntropy(model.forward(xs.narrow(0, i, len)), ys.narrow(0, i, len), 'sum').div(m);
          loss += l.item();
          if (withGrad) grad(l, params, { allowUnused: true }).forEach((g, k) => g && grads[k].add_(g));
        })
      );
    }
    return { loss, grads };
  };
  const setDelta = (delta: Tensor[]): void => noGrad(() => scope(() => params.forEach((p, k) => p.copy_(original[k].add(delta[k])))));

  try {
    const baseLoss = noGrad(() => lossAt(false).loss);
    let maxLoss = baseLoss;
    for (let r = 0; r < restarts; r++) {
      let delta = params.map((p, k) =>
        keep(scope(() => tensor(Float64Array.from({ length: p.numel }, () => 2 * rng.uniform() - 1), p.shape, dtype).mul(box[k])))
      );
      for (let t = 0; t <= steps; t++) {
        setDelta(delta);
        const { loss, grads } = t < steps ? lossAt(true) : noGrad(() => lossAt(false));
        maxLoss = Math.max(maxLoss, loss);
        if (t === steps) break;
        const next = delta.map((d, k) => keep(scope(() => d.add(grads[k].sign().mul(box[k]).mul(stepSize)).maximum(box[k].neg()).minimum(box[k]))));
        dispose([delta, grads]);
        delta = next;
      }
      dispose(delta);
    }
    const value = maxLoss - baseLoss;
    return { baseLoss, maxLoss, value, log: Math.log(value), keskar: (100 * value) / (1 + baseLoss) };
  } finally {
    noGrad(() => params.forEach((p, k) => p.copy_(original[k])));
    dispose([original, box, xs, ys]);
  }
}
