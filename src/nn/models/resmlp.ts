/**
 * Du et al.'s (ICML 2019) networks of width m and depth H, weights N(0, 1), no biases, all trained:
 * the ResNet `resmlp:IN-M-H-OUT`
 *   x⁽¹⁾ = √(c_σ/m) · σ(W⁽¹⁾ x)
 *   x⁽ʰ⁾ = x⁽ʰ⁻¹⁾ + c_res/(H·√m) · σ(W⁽ʰ⁾ x⁽ʰ⁻¹⁾),  h = 2 … H
 *   u = a·x⁽ᴴ⁾
 * and the fully-connected net `fcnet:IN-M-H-OUT`, the same without the skips:
 *   x⁽ʰ⁾ = √(c_σ/m) · σ(W⁽ʰ⁾ x⁽ʰ⁻¹⁾),  h = 1 … H;   u = a·x⁽ᴴ⁾
 * with c_σ = 1/E[σ(z)²] for z ~ N(0, 1) (ReLU: 2). Parameters `stem.weight`, `blocks.{h}.weight`,
 * `output.weight`. Probe points: `input`, `stem` (x⁽¹⁾), `blocks.{h}` (block h's output, x⁽ʰ⁺²⁾: blocks count from layer 2).
 */
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { activate, type Activation } from '../layers.js';
import { Linear } from '../linear.js';
import { cSigma } from '../c-sigma.js';

/** N(0, 1) weights, no bias. */
const W = { bias: false, init: 'normal' } as const;

export class ResMLP extends Module {
  readonly stem: Linear;
  readonly blocks: Linear[];
  readonly output: Linear;
  readonly #cSigma: number;

  constructor(readonly inputs: number, readonly width: number, readonly depth: number, readonly outputs: number,
    readonly opts: { activation?: Activation; cRes?: number; residual?: boolean } = {})
  {
    super();
    if (depth < 1) throw new Error(`${opts.residual === false ? 'fcnet' : 'resmlp'}: depth must be at least 1`);
    this.stem = this.child('stem', new Linear(inputs, width, W));
    this.blocks = Array.from({ length: depth - 1 }, (_, h) => this.child(`blocks.${h}`, new Linear(width, width, W)));
    this.output = this.child('output', new Linear(width, outputs, W));
    this.#cSigma = cSigma(opts.activation ?? 'relu');
  }

  override probePoints(): string[] {
    return ['input', 'stem', ...this.blocks.map((_, h) => `blocks.${h}`)];
  }

  /**
   * x [N, IN] or [N, …] flattened to [N, IN] → u [N, OUT], in the parameters' dtype, which x must share.
   * Probe points: `input` [N, IN]; `stem` x⁽¹⁾ and `blocks.{h}` x⁽ʰ⁺²⁾, each [N, M].
   */
  forward(x: Tensor): Tensor {
    const act = this.opts.activation ?? 'relu';
    const input = this.tap('input', x.ndim === 2 ? x : x.flatten(1));
    let h = this.tap('stem', activate(this.stem.forward(input), act).mul(Math.sqrt(this.#cSigma / this.width)));
    const plain = this.opts.residual === false;
    const branch = plain ? Math.sqrt(this.#cSigma / this.width) : (this.opts.cRes ?? 0.5) / (this.depth * Math.sqrt(this.width));
    this.blocks.forEach((block, i) => {
      const z = activate(block.forward(h), act).mul(branch);
      h = this.tap(`blocks.${i}`, plain ? z : h.add(z));
    });
    return this.output.forward(h);
  }
}
