/**
 * The readout alone: the linear maps straight into the logits optimised with everything before them
 * frozen. For an MLP that is its last Linear layer (z = W·h + b, h the last hidden activations); for
 * Nguyen et al.'s skip-to-output net (src/nn/models/skip.ts) it is the trunk's last layer together
 * with the skip weights V (z = W·h + b + V·s(x)). Either way the logits are linear in the readout,
 * z = Θ·φ(x) with φ(x) = [h; 1; s(x)] ∈ ℝᴰ and Θ [C, D], so the mean cross-entropy
 *   L(Θ) = −(1/N) Σ_i log softmax(Θ·φ(x_i))_{y_i},     ∇L = (1/N) (P − Y)ᵀ Φ   [C, D]
 * (P the softmax probabilities [N, C], Y the one-hot labels, Φ [N, D] the rows φ(x_i)) is convex in
 * Θ. Nguyen, Mukkamala, Hein (ICLR 2019) argue from exactly this: when the N×M skip features have
 * rank N, any labels are realised by some V, so inf L = 0 and the convex problem has no other
 * valleys; without the skip units the D = W + 1 trunk features rarely separate N random labels and
 * the convex minimum is a positive floor.
 *
 * fitReadout minimises L(Θ) by L-BFGS (lbfgs.ts) in float64 from the model's own readout weights.
 */
import { noGrad } from '../engine/autograd.js';
import { ones, tensor } from '../engine/creation.js';
import { keep, scope } from '../engine/memory.js';
import { cat, oneHot } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { MLP } from '../nn/models/mlp.js';
import { SkipToOutput } from '../nn/models/skip.js';
import { withForwardHooks } from '../nn/module.js';
import { lbfgs, type LbfgsResult } from './lbfgs.js';

export interface ReadoutOptions {
  /** Stop once L ≤ this (default 0: run to the gradient tolerance or the iteration limit). */
  target?: number;
  /** L-BFGS iterations at most (default 5000). */
  maxIterations?: number;
  /** Stop once ‖∇L‖∞ ≤ this (default 1e-9). */
  gradientTolerance?: number;
}

export interface ReadoutFit {
  /** D·C: the readout's parameters. */
  parameters: number;
  /** L at the model's own readout weights, and at the end. */
  initialLoss: number;
  loss: number;
  /** ‖∇L‖∞ at the end: how close to the convex minimum the end is. */
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  reason: LbfgsResult['reason'];
}

/** The readout's layers: the MLP (the trunk of a skip net) whose last Linear feeds the logits, and the skip net if any. */
function parts(model: MLP | SkipToOutput): { mlp: MLP; skip: SkipToOutput | null } {
  const mlp = model instanceof SkipToOutput ? model.trunk : model;
  check(mlp instanceof MLP && mlp.layers.at(-1)!.bias !== null, 'readout: the model must be an MLP with output bias or a skip net on one');
  return { mlp: mlp as MLP, skip: model instanceof SkipToOutput ? model : null };
}

/**
 * Φ [N, D] (float64, kept: dispose it) of x [N, …], with everything but the readout as it is now, and
 * the readout's current Θ [C, D]; D = W + 1 (+ M for a skip net).
 */
export function readoutProblem(model: MLP | SkipToOutput, x: Tensor): { features: Tensor; weights: Tensor } {
  const { mlp, skip } = parts(model);
  const last = mlp.layers.at(-1)!;
  return noGrad(() =>
    scope(() => {
      let h: Tensor | undefined;
      withForwardHooks([[last, 'input', (t) => {
        h = t;
      }]], () => mlp.forward(x.to(mlp.dtype)));
      const columns = [h!.double(), ones([h!.size(0), 1], 'float64')];
      const rows = [last.weight.double(), last.bias!.unsqueeze(1).double()];
      if (skip) {
        columns.push(skip.skipFeatures(x.to(skip.dtype)).double());
        rows.push(skip.skipOut.weight.double());
      }
      return { features: keep(cat(columns, 1)), weights: keep(cat(rows, 1)) };
    })
  );
}

/** Minimises the mean cross-entropy over the readout alone (see the module comment) on x [N, …] with int64 labels y [N]; the model is unchanged. */
export function fitReadout(model: MLP | SkipToOutput, x: Tensor, y: Tensor, opts: ReadoutOptions = {}): ReadoutFit {
  const { features, weights } = readoutProblem(model, x);
  try {
    const [classes, d] = weights.shape;
    using targets = scope(() => keep(oneHot(y, classes).double()));
    const objective = (theta: Float64Array) =>
      scope(() => {
        const w = tensor(theta, [classes, d], 'float64');
        const logits = features.matmul(w.t());
        const value = -logits.logSoftmax(1).mul(targets).sum().item() / features.size(0);
        const gradient = logits.softmax(1).sub(targets).t().matmul(features).div(features.size(0));
        return { value, gradient: gradient.toArray() as Float64Array };
      });
    const start = weights.toArray() as Float64Array;
    const r = lbfgs(objective, start, {
      maxIterations: opts.maxIterations ?? 5000,
      gradientTolerance: opts.gradientTolerance ?? 1e-9,
      stop: (value) => value <= (opts.target ?? 0),
    });
    return {
      parameters: classes * d,
      initialLoss: objective(start).value,
      loss: r.value,
      gradientNorm: r.gradientNorm,
      iterations: r.iterations,
      evaluations: r.evaluations,
      reason: r.reason,
    };
  } finally {
    features.dispose();
    weights.dispose();
  }
}
