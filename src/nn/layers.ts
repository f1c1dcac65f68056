/** Parameter-free layers and containers. */
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';
import * as F from './functional.js';

export type Activation = 'relu' | 'softplus' | 'tanh' | 'sigmoid' | 'leaky_relu';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'softplus', 'tanh', 'sigmoid', 'leaky_relu'];

/** σ(x) for a named activation (leaky_relu with slope 0.2, as the shape lab's autoencoder). */
export function activate(x: Tensor, name: Activation): Tensor {
  switch (name) {
    case 'relu':
      return x.relu();
    case 'softplus':
      return x.softplus();
    case 'tanh':
      return x.tanh();
    case 'sigmoid':
      return x.sigmoid();
    case 'leaky_relu':
      return x.leakyRelu(0.2);
  }
}

export class Act extends Module {
  constructor(readonly fn: Activation) {
    super();
  }
  /** Elementwise: any shape → the same shape. */
  forward(x: Tensor): Tensor {
    return activate(x, this.fn);
  }
}

export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  /** Any shape → the same shape: in training each entry zeroed with probability p and the rest scaled by 1/(1 − p); the identity in eval. */
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

export class Flatten extends Module {
  /** x [N, …] → [N, ∏…] (e.g. [N, C, H, W] → [N, C·H·W]). */
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernel: number) {
    super();
  }
  /** x [N, C, H, W] → [N, C, ⌊H/k⌋, ⌊W/k⌋]: the maximum of each k × k window, stride k. */
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel);
  }
}

/** Runs its children in order, as nn.Sequential (children named 0, 1, …). */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  /** x as the first layer takes it → the last layer's output. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }
}
