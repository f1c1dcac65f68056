/**
 * Du, Zhai, Póczos and Singh's (ICLR 2019) two-layer ReLU network `relu2:IN-M`:
 *   f(x) = (1/√m) Σ_r a_r σ(w_rᵀx),   w_r ~ N(0, I) trained,   a_r ∈ {±1} drawn once and fixed,
 * σ = ReLU, one output. Only `hidden.weight` [m, IN] is a parameter; the signs are the buffer
 * `output.sign` [m], so gradient descent moves the first layer alone, as in the paper, and the
 * network's Gram matrix is the first layer's: H_ij = (1/m) x_iᵀx_j Σ_r 1{w_rᵀx_i ≥ 0, w_rᵀx_j ≥ 0}.
 * Probe points: `input`, `hidden` (the pre-activations w_rᵀx).
 */
import { randint } from '../../engine/creation.js';
import { scope } from '../../engine/memory.js';
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';

class Signs extends Module {
  readonly sign: Tensor;
  constructor(width: number) {
    super();
    this.sign = this.buffer('sign', scope(() => randint(0, 2, [width]).mul(2).sub(1).float()));
  }
  /** h [N, m] → Σ_r a_r h_r, [N, 1]. */
  forward(h: Tensor): Tensor {
    return h.matmul(this.sign.unsqueeze(1));
  }
}

export class TwoLayerReLU extends Module {
  readonly hidden: Linear;
  readonly output: Signs;
  constructor(readonly inputs: number, readonly width: number) {
    super();
    this.hidden = this.child('hidden', new Linear(inputs, width, { bias: false, init: 'normal' }));
    this.output = this.child('output', new Signs(width));
  }

  override probePoints(): string[] {
    return ['input', 'hidden'];
  }

  /**
   * x [N, IN] or [N, …] flattened to [N, IN] → f(x) [N, 1], in the parameters' dtype, which x must share.
   * Probe points: `input` [N, IN], `hidden` [N, m].
   */
  forward(x: Tensor): Tensor {
    const input = this.tap('input', x.ndim === 2 ? x : x.flatten(1));
    const z = this.tap('hidden', this.hidden.forward(input));
    return this.output.forward(z.relu()).mul(1 / Math.sqrt(this.width));
  }
}
