/**
 * Plain gradient descent, as the convergence theorems state it (docs/papers.md §3–§4):
 *   θ(k+1) = θ(k) − η ∇L(θ(k)),
 * full-batch by default, on the squared loss of Du et al.,
 *   L(θ) = ½ Σ_i ‖u(x_i; θ) − y_i‖²      (a sum, not a mean: their rates are stated for it),
 * or on the mean cross-entropy. With `batchSize`, each step takes a minibatch of a seeded
 * permutation per epoch (SGD as Allen-Zhu et al. analyse it), and the loss is the full-data loss
 * after each epoch. `onStep` sees every step's (full-batch) loss before the update; returning true
 * stops. Every step runs in its own scope, so memory stays flat over long runs.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { manualSeed, randperm } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { crossEntropy } from '../nn/functional.js';
import type { Module } from '../nn/module.js';

export type DescentLoss = 'squared' | 'cross-entropy';

export interface DescentOptions {
  lr: number;
  /** Full-batch steps, or epochs with `batchSize`. */
  steps: number;
  loss: DescentLoss;
  batchSize?: number;
  seed?: number;
  /** Called with the step (or epoch) and the full-data loss (and accuracy for cross-entropy); true stops. */
  onStep?: (step: number, loss: number, accuracy?: number) => boolean | undefined;
}

/** L as a tensor from the outputs u on (·, y): ½ Σ ‖u − y‖² or the mean cross-entropy. */
function lossOf(u: Tensor, y: Tensor, loss: DescentLoss): Tensor {
  if (loss === 'cross-entropy') return crossEntropy(u, y);
  return u.sub(y.ndim === 1 && u.ndim === 2 ? y.unsqueeze(1) : y).square().sum().mul(0.5);
}

/** L(θ) on (x, y) as a tensor: ½ Σ ‖u − y‖² or the mean cross-entropy. */
export function objective(model: Module, x: Tensor, y: Tensor, loss: DescentLoss): Tensor {
  return lossOf(model.forward(x), y, loss);
}

interface Seen {
  loss: number;
  /** For cross-entropy: the fraction of points classified right, from the same outputs. */
  accuracy?: number;
}

function seen(u: Tensor, L: Tensor, y: Tensor, loss: DescentLoss): Seen {
  return { loss: L.item(), accuracy: loss === 'cross-entropy' ? noGrad(() => u.detach().argmax(1).eq(y).double().mean().item()) : undefined };
}

/** One update on (x, y); the loss (and accuracy) of the weights before it, from the step's own forward pass. */
function step(model: Module, x: Tensor, y: Tensor, o: DescentOptions): Seen {
  return scope(() => {
    const params = model.parameters();
    const [u, L] = enableGrad(() => {
      const out = model.forward(x);
      return [out, lossOf(out, y, o.loss)];
    });
    const grads = grad([L], params);
    noGrad(() => params.forEach((p, i) => p.add_(grads[i]!, -o.lr)));
    return seen(u, L, y, o.loss);
  });
}

/** Runs descent; returns the losses seen (one per step, or per epoch with minibatches). */
export function descend(model: Module, x: Tensor, y: Tensor, o: DescentOptions): Float64Array {
  check(o.lr > 0 && Number.isFinite(o.lr), () => `gradient descent: learning rate ${o.lr} must be a positive number`);
  check(Number.isInteger(o.steps) && o.steps >= 1, () => `gradient descent: ${o.steps} steps; need an integer ≥ 1`);
  check(o.batchSize === undefined || (Number.isInteger(o.batchSize) && o.batchSize >= 1),
    () => `gradient descent: batch size ${o.batchSize}; need an integer ≥ 1`);
  const n = x.size(0);
  const losses: number[] = [];
  if (o.batchSize === undefined) {
    for (let k = 0; k < o.steps; k++) {
      // The accuracy and the loss both of θ(k), before the update.
      const { loss: L, accuracy } = step(model, x, y, o);
      losses.push(L);
      if (!Number.isFinite(L) || o.onStep?.(k, L, accuracy)) break;
    }
    return Float64Array.from(losses);
  }
  const batch = o.batchSize;
  manualSeed(o.seed ?? 0);
  for (let epoch = 0; epoch < o.steps; epoch++) {
    const order = randperm(n);
    for (let i = 0; i < n; i += batch)
      scope(() => {
        const idx = order.narrow(0, i, Math.min(batch, n - i));
        step(model, x.indexSelect(0, idx), y.indexSelect(0, idx), o);
      });
    order.dispose();
    const { loss: L, accuracy } = noGrad(() =>
      scope(() => {
        const u = model.forward(x);
        return seen(u, lossOf(u, y, o.loss), y, o.loss);
      })
    );
    losses.push(L);
    if (!Number.isFinite(L) || o.onStep?.(epoch, L, accuracy)) break;
  }
  return Float64Array.from(losses);
}
