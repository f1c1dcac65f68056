/**
 * Linear layer: y = x·Wᵀ + b, W [out, in] (PyTorch layout); with the NTK init, y = x·Wᵀ/√in + b.
 * Probe points `input` (x [n, in]) and `output` (y [n, out]): what Gram matrices read per layer.
 */
import type { Tensor } from '../engine/tensor.js';
import { zeros } from '../engine/creation.js';
import { Module } from './module.js';
import { linear } from './functional.js';
import { initWeight, uniform, type Init } from './init.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly #scale: number;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; init?: Init } = {}) {
    super();
    const init = opts.init ?? 'default';
    this.weight = this.param('weight', initWeight([outFeatures, inFeatures], inFeatures, init));
    this.bias = opts.bias === false ?
      null
      : this.param('bias', init === 'default' ? uniform([outFeatures], 1 / Math.sqrt(inFeatures)) : zeros([outFeatures]));
    this.#scale = init === 'ntk' ? 1 / Math.sqrt(inFeatures) : 1;
  }

  override probePoints(): string[] {
    return ['input', 'output'];
  }

  /**
   * x [N, in] → y [N, out] (any leading dims: [N, …, in] → [N, …, out]), in the parameters' dtype, which x must share.
   * Probe points `input` (x) and `output` (y).
   */
  forward(x: Tensor): Tensor {
    this.tap('input', x);
    if (this.#scale === 1) return this.tap('output', linear(x, this.weight, this.bias));
    const scaled = linear(x, this.weight).mul(this.#scale);
    return this.tap('output', this.bias ? scaled.add(this.bias) : scaled);
  }
}
