/**
 * Adam as torch.optim.Adam (Kingma & Ba): g ← g + λ·p; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 */
import type { Tensor } from '../../engine/tensor.js';
import { zerosLike } from '../../engine/creation.js';
import { keep, scope } from '../../engine/memory.js';
import { check } from '../../errors.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly #m: Tensor[] = [];
  readonly #v: Tensor[] = [];
  readonly #t: number[] = [];
  constructor(params: Tensor[], readonly opts: AdamOptions) {
    super(params, opts.lr);
  }

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const [b1, b2] = this.opts.betas ?? [0.9, 0.999];
    const eps = this.opts.eps ?? 1e-8;
    const g = this.opts.weightDecay ? grad.add(p.mul(this.opts.weightDecay)) : grad;
    if (!this.#m[i]) {
      this.#m[i] = keep(zerosLike(p));
      this.#v[i] = keep(zerosLike(p));
      this.#t[i] = 0;
    }
    const t = ++this.#t[i];
    const m = this.#m[i].mul_(b1).add_(g, 1 - b1);
    const v = this.#v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    const denom = v.sqrt().div(Math.sqrt(1 - b2 ** t)).add(eps);
    p.addcdiv_(m, denom, -this.lr / (1 - b1 ** t));
  }

  /** The moments m, v and step count t of each parameter that has taken a step, by parameter index (for checkpoints; the tensors stay the optimiser's). */
  state(): { index: number; m: Tensor; v: Tensor; t: number }[] {
    return this.#t.flatMap((t, index) => (t === undefined ? [] : [{ index, m: this.#m[index], v: this.#v[index], t }]));
  }

  /** Restores what `state` returned (copies of the tensors are kept), so the next step continues where that one left off. */
  loadState(entries: readonly { index: number; m: Tensor; v: Tensor; t: number }[]): void {
    for (const { index, m, v, t } of entries) {
      check(index >= 0 && index < this.params.length && m.shape.join() === this.params[index].shape.join() && v.shape.join() === m.shape.join(), () =>
        `Adam state for parameter ${index} does not fit its shape [${this.params[index]?.shape ?? ''}]`);
      this.#m[index]?.dispose();
      this.#v[index]?.dispose();
      const dtype = this.params[index].dtype;
      [this.#m[index], this.#v[index]] = [m, v].map((s) => keep(scope(() => s.to(dtype).clone())));
      this.#t[index] = t;
    }
  }

  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t?.dispose();
    this.#m.length = 0;
    this.#v.length = 0;
  }
}
