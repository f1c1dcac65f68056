/**
 * A small CNN for C×S×S images (1×28×28, 3×32×32), `cnn:1x28x28-10[:w=32][:bn][:dropout=P][:softplus]`:
 *   conv1 (3×3, w) → [BN] → σ → max-pool 2 → conv2 (3×3, 2w) → [BN] → σ → max-pool 2
 *   → flatten → fc1 (128) → σ → [dropout] → fc2 (classes),   σ = ReLU unless another is named.
 * Probe points: `input`, `conv1` and `conv2` (each block's pooled output), `fc1` (pre-activation).
 */
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { Conv2d } from '../conv.js';
import { Linear } from '../linear.js';
import { BatchNorm } from '../norm.js';
import * as F from '../functional.js';
import { activate, type Activation } from '../layers.js';

export interface CNNOptions {
  width?: number;
  batchNorm?: boolean;
  dropout?: number;
  activation?: Activation;
}

export class SmallCNN extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly bn1: BatchNorm | null;
  readonly bn2: BatchNorm | null;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(readonly inputShape: number[], readonly classes: number, readonly opts: CNNOptions = {}) {
    super();
    const [c, s] = inputShape;
    const w = opts.width ?? 32;
    this.conv1 = this.child('conv1', new Conv2d(c, w, 3, { padding: 1 }));
    this.bn1 = opts.batchNorm ? this.child('bn1', new BatchNorm(w)) : null;
    this.conv2 = this.child('conv2', new Conv2d(w, 2 * w, 3, { padding: 1 }));
    this.bn2 = opts.batchNorm ? this.child('bn2', new BatchNorm(2 * w)) : null;
    const side = Math.floor(Math.floor(s / 2) / 2);
    this.fc1 = this.child('fc1', new Linear(2 * w * side * side, 128));
    this.fc2 = this.child('fc2', new Linear(128, classes));
  }

  override probePoints(): string[] {
    return ['input', 'conv1', 'conv2', 'fc1'];
  }

  /** `conv1`, `conv2`, `fc1` and `output`: the operators from the previous probe point (see Module.describeProbePoint). */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    const act = this.opts.activation ?? 'relu';
    const parts: Record<string, [string[], (Module | null)[]]> = {
      conv1: [['Conv2d', ...(this.bn1 ? ['BatchNorm'] : []), act, 'MaxPool2d'], [this.conv1, this.bn1]],
      conv2: [['Conv2d', ...(this.bn2 ? ['BatchNorm'] : []), act, 'MaxPool2d'], [this.conv2, this.bn2]],
      fc1: [['Flatten', 'Linear'], [this.fc1]],
      output: [[act, ...(this.opts.dropout ? ['Dropout'] : []), 'Linear'], [this.fc2]],
    };
    const part = parts[point];
    if (!part) return super.describeProbePoint(point);
    return { operator: part[0].join(' → '), parameters: part[1].reduce((a, m) => a + (m?.numParameters() ?? 0), 0) };
  }

  /**
   * x [N, C, S, S] → logits [N, classes], in the parameters' dtype, which x must share. Probe points: `input` [N, C, S, S],
   * `conv1` [N, w, ⌊S/2⌋, ⌊S/2⌋], `conv2` [N, 2w, ⌊S/4⌋, ⌊S/4⌋], `fc1` [N, 128] (1×28×28, w = 32: [N, 32, 14, 14], [N, 64, 7, 7]).
   */
  forward(x: Tensor): Tensor {
    const act = this.opts.activation ?? 'relu';
    const block = (h: Tensor, conv: Conv2d, bn: BatchNorm | null): Tensor => {
      const z = conv.forward(h);
      return F.maxPool2d(activate(bn ? bn.forward(z) : z, act), 2);
    };
    const h1 = this.tap('conv1', block(this.tap('input', x), this.conv1, this.bn1));
    const h2 = this.tap('conv2', block(h1, this.conv2, this.bn2));
    const z = this.tap('fc1', this.fc1.forward(h2.flatten(1)));
    const a = this.opts.dropout ? F.dropout(activate(z, act), this.opts.dropout, this.training) : activate(z, act);
    return this.fc2.forward(a);
  }
}
