/**
 * Multi-layer perceptron `mlp:784-256-256-10`: Linear layers `layers.{i}` (PyTorch layout, so the
 * weights load into an nn.ModuleList named `layers`), an activation between them, no activation
 * after the last. The input is flattened first.
 *
 * Probe points: `input` (the flattened input) and `layers.{i}`, the pre-activation output of each
 * hidden Linear — the quantity Jiang et al. measure for network-in-network models; the choice is
 * documented in the README.
 */
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { BatchNorm } from '../norm.js';
import { activate, type Activation } from '../layers.js';
import * as F from '../functional.js';
import type { Init } from '../init.js';

export interface MLPOptions {
  activation?: Activation;
  init?: Init;
  batchNorm?: boolean;
  dropout?: number;
}

export class MLP extends Module {
  readonly layers: Linear[];
  readonly norms: BatchNorm[];
  constructor(readonly sizes: number[], readonly opts: MLPOptions = {}) {
    super();
    // Allen-Zhu et al.'s network has no biases and its own output-layer variance.
    const az = opts.init === 'allenzhu';
    const last = sizes.length - 2;
    this.layers = sizes.slice(1).map((out, i) =>
      this.child(`layers.${i}`, new Linear(sizes[i], out, { init: az && i === last ? 'allenzhu-output' : opts.init, bias: !az }))
    );
    this.norms = opts.batchNorm ? sizes.slice(1, -1).map((w, i) => this.child(`norms.${i}`, new BatchNorm(w))) : [];
  }

  override probePoints(): string[] {
    return ['input', ...this.layers.slice(0, -1).map((_, i) => `layers.${i}`)];
  }

  /** `layers.{i}` and `output`: the operators from the previous probe point (see Module.describeProbePoint). */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    // Probe point i + 1 is layers.{i}; the output is the last layer's.
    const i = point === 'output' ? this.layers.length - 1 : this.probePoints().indexOf(point) - 1;
    if (i < 0) return super.describeProbePoint(point);
    if (i === 0) return { operator: 'Linear', parameters: this.layers[0].numParameters() };
    // Layer i reads layer i − 1's pre-activation through its BatchNorm, the activation and dropout.
    const norm = this.norms[i - 1];
    const operators = [...(norm ? ['BatchNorm'] : []), this.opts.activation ?? 'relu', ...(this.opts.dropout ? ['Dropout'] : []), 'Linear'];
    return { operator: operators.join(' → '), parameters: (norm?.numParameters() ?? 0) + this.layers[i].numParameters() };
  }

  /**
   * x [N, IN] or [N, …] flattened to [N, IN] (mlp:784-256-256-10: [N, 784] or [N, 1, 28, 28]) → logits [N, OUT], in the
   * parameters' dtype, which x must share. Probe points: `input` [N, IN]; `layers.{i}` [N, sizes[i + 1]], hidden layer i's pre-activation.
   */
  forward(x: Tensor): Tensor {
    let h = this.tap('input', x.ndim === 2 ? x : x.flatten(1));
    const last = this.layers.length - 1;
    for (let i = 0; i < last; i++) {
      let z = this.tap(`layers.${i}`, this.layers[i].forward(h));
      if (this.norms.length) z = this.norms[i].forward(z);
      h = activate(z, this.opts.activation ?? 'relu');
      if (this.opts.dropout) h = F.dropout(h, this.opts.dropout, this.training);
    }
    return this.layers[last].forward(h);
  }
}
