/** What every optimiser shares: its parameters, a learning rate a schedule may change, and zeroGrad. */
import type { Tensor } from '../../engine/tensor.js';
import { noGrad } from '../../engine/autograd.js';
import { scope } from '../../engine/memory.js';

export abstract class Optimizer {
  constructor(readonly params: Tensor[], public lr: number) {}

  /** Updates one parameter from its gradient; runs without autograd, inside a scope. */
  protected abstract update(p: Tensor, g: Tensor, index: number): void;

  /** One step over every parameter that has a gradient. */
  step(): void {
    noGrad(() =>
      scope(() => {
        this.params.forEach((p, i) => {
          const g = p.grad;
          if (g) this.update(p, g, i);
        });
      })
    );
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Frees the optimiser's state tensors. */
  abstract dispose(): void;
}
