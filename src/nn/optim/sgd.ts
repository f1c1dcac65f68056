/**
 * SGD as torch.optim.SGD: g ← g + λ·p (weight decay); with momentum μ, b ← μ·b + g (b = g at the first
 * step), then g ← g + μ·b (Nesterov) or g ← b; finally p ← p − η·g.
 */
import type { Tensor } from '../../engine/tensor.js';
import { keep } from '../../engine/memory.js';
import { Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly #buf: (Tensor | undefined)[] = [];
  constructor(params: Tensor[], readonly opts: SGDOptions) {
    super(params, opts.lr);
    if (opts.nesterov && !opts.momentum) throw new Error('SGD: Nesterov momentum needs momentum > 0');
  }

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const { momentum = 0, nesterov = false, weightDecay = 0 } = this.opts;
    let g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    if (momentum) {
      const b = this.#buf[i];
      if (b) b.mul_(momentum).add_(g);
      else this.#buf[i] = keep(g.clone());
      const buf = this.#buf[i]!;
      g = nesterov ? g.add(buf.mul(momentum)) : buf;
    }
    p.add_(g, -this.lr);
  }

  dispose(): void {
    for (const b of this.#buf) b?.dispose();
    this.#buf.length = 0;
  }
}
