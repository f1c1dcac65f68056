/**
 * A deep belief network (Hinton, Osindero, Teh 2006, "A fast learning algorithm for deep belief
 * nets"), as Schilling et al. (2018, docs/papers.md §5) train it unsupervised on MNIST: L RBMs of width W
 * stacked greedily. RBM 1 is trained on the data with CD-k (src/nn/rbm.ts); RBM l + 1 on the hidden
 * probabilities p(h | v) of RBM l over the training set, which is also the representation of layer l.
 *
 * First layer, a choice: binary–binary on the pixel intensities in [0, 1] read as probabilities of
 * a pixel being on (Hinton & Salakhutdinov 2006 do the same for MNIST). Every layer above is then
 * binary–binary on probabilities too, one kind of unit throughout, and binary visibles take a
 * learning rate one or two orders of magnitude larger than Gaussian ones (Hinton 2010, §13.2), which
 * matters at 40 layers on 2 cores. `visible: 'gaussian'` is kept for real-valued data: each input
 * dimension is then z-scored with the training set's statistics (a constant dimension becomes 0),
 * as unit-variance Gaussian visibles assume.
 *
 * `propagate: 'samples'` passes binary states h ~ p(h | v) up instead of the probabilities (Hinton
 * 2010 §3.1 weighs the two; one seeded draw per layer for the training set): RBM l + 1 then trains on
 * states of RBM l, and layer l's representation is p(h | the sampled states of layer l − 1).
 */
import { noGrad } from '../engine/autograd.js';
import { manualSeed } from '../engine/creation.js';
import { scope, keep } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { createRbm, disposeRbm, hiddenProbs, sampleBernoulli, trainRbm, type Rbm, type RbmTrainOptions, type VisibleKind } from './rbm.js';

/** What a layer passes to the next: its hidden probabilities (the default) or a draw of its binary states. */
export type Propagate = 'probabilities' | 'samples';

export interface DbnOptions extends RbmTrainOptions {
  layers: number;
  width: number;
  /** Visible units of the first RBM (default binary). */
  visible?: VisibleKind;
  propagate?: Propagate;
}

/** What rbm passes up for inputs v [n, V]: p(h | v) [n, H], or binary states drawn from it (libtorch's generator). */
export function propagateUp(rbm: Rbm, v: Tensor, propagate: Propagate = 'probabilities'): Tensor {
  return noGrad(() => scope(() => (propagate === 'samples' ? sampleBernoulli(hiddenProbs(rbm, v)) : hiddenProbs(rbm, v))));
}

/**
 * The first RBM's inputs for train [n, V] and any other sets [m, V] (new tensors, shapes unchanged), from the
 * training set's statistics: copies for binary visibles (checked to lie in [0, 1]), z-scored per dimension for Gaussian ones.
 */
export function dbnInputs(kind: VisibleKind, train: Tensor, ...others: Tensor[]): Tensor[] {
  return noGrad(() =>
    scope(() => {
      if (kind === 'binary') {
        for (const t of [train, ...others])
          check(t.amin().item() >= 0 && t.amax().item() <= 1,
            () => `binary visible units need inputs in [0, 1], got [${t.amin().item()}, ${t.amax().item()}] (use Gaussian visibles)`);
        return [train, ...others].map((t) => t.clone());
      }
      const mean = train.mean(0);
      const std = train.std(0, { correction: 0 });
      const scale = std.gt(0).to(std.dtype).div(std.clamp(1e-12));
      return [train, ...others].map((t) => t.sub(mean).mul(scale));
    })
  );
}

/**
 * Trains L RBMs greedily on x [n, V] (already prepared by dbnInputs); RBM l is seeded with seed + l.
 * `onLayer(l, rbm, reconstructionErrors)` is called as each is trained (l from 1). The caller
 * disposes the returned RBMs: weights [width, V] for RBM 1, [width, width] above it.
 */
export function trainDbn(x: Tensor, o: DbnOptions, onLayer?: (layer: number, rbm: Rbm, errors: number[]) => void): Rbm[] {
  check(Number.isInteger(o.layers) && o.layers >= 1, () => `layers ${o.layers}: need an integer ≥ 1`);
  check(Number.isInteger(o.width) && o.width >= 1, () => `width ${o.width}: need an integer ≥ 1`);
  const rbms: Rbm[] = [];
  let input = x;
  try {
    for (let l = 1; l <= o.layers; l++) {
      manualSeed(o.seed + l);
      const rbm = createRbm(input.size(1), o.width, l === 1 ? (o.visible ?? 'binary') : 'binary', input.dtype);
      rbms.push(rbm);
      const errors = trainRbm(rbm, input, { ...o, seed: o.seed + l });
      onLayer?.(l, rbm, errors);
      if (l === o.layers) break;
      const next = keep(propagateUp(rbm, input, o.propagate));
      if (input !== x) input.dispose();
      input = next;
    }
  } catch (e) {
    rbms.forEach(disposeRbm);
    throw e;
  } finally {
    if (input !== x) input.dispose();
  }
  return rbms;
}
