/**
 * Dice overlap of volumes [N, …] (docs/papers.md §6, Yu & Sabuncu 2018), per sample over every other dim:
 * - soft Dice loss 1 − (2Σpt + 1)/(Σp² + Σt² + 1) for probabilities p and a target t (the +1 keeps
 *   it defined, and 0, when both are empty);
 * - Dice score 2|A ∩ B|/(|A| + |B|) of masks thresholded at 0.5 (1 when both are empty), for evaluation.
 */
import type { Tensor } from '../engine/tensor.js';
import { scope } from '../engine/memory.js';
import { check } from '../errors.js';
import type { Reduction } from './functional.js';

function checkPair(p: Tensor, t: Tensor, what: string): void {
  check(p.ndim >= 2 && p.shape.join() === t.shape.join(), () => `${what} needs two tensors [N, …] of one shape, got [${p.shape}] and [${t.shape}]`);
}

const reduce = (perSample: Tensor, reduction: Reduction): Tensor => reduction === 'none' ? perSample : reduction === 'sum' ? perSample.sum() : perSample.mean();

/** The soft Dice loss of p, t [N, …]: 0-d averaged (default) or summed, [N] with 'none' (differentiable in p and t). */
export function softDiceLoss(p: Tensor, t: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair(p, t, 'softDiceLoss');
  return scope(() => {
    const [a, b] = [p.flatten(1), t.flatten(1)];
    const overlap = a.mul(b).sum(1).mul(2).add(1);
    const total = a.square().sum(1).add(b.square().sum(1)).add(1);
    return reduce(overlap.div(total).rsub(1), reduction);
  });
}

/** The Dice score per sample [N] of p and t thresholded at 0.5 (float64). */
export function diceScore(p: Tensor, t: Tensor): Tensor {
  checkPair(p, t, 'diceScore');
  return scope(() => {
    const [a, b] = [p.flatten(1).ge(0.5).double(), t.flatten(1).ge(0.5).double()];
    const total = a.sum(1).add(b.sum(1));
    const both = a.mul(b).sum(1).mul(2);
    // Two empty masks agree perfectly.
    return both.add(total.eq(0).double()).div(total.clamp(1));
  });
}
