/**
 * Convolutions with PyTorch's layouts and default init: Conv{2,3}d weight [out, in/groups, k…],
 * ConvTranspose{2,3}d weight [in, out/groups, k…].
 */
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';
import * as F from './functional.js';
import { initWeight, uniform, type Init } from './init.js';

export interface ConvSpec {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
  init?: Init;
  /** Transposed convolutions only. */
  outputPadding?: number;
}

abstract class ConvNd extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  protected readonly opts: Required<Omit<ConvSpec, 'bias' | 'init'>>;

  constructor(dims: number, transposed: boolean, inC: number, outC: number, kernel: number, spec: ConvSpec) {
    super();
    const groups = spec.groups ?? 1;
    const k = Array<number>(dims).fill(kernel);
    const shape = transposed ? [inC, outC / groups, ...k] : [outC, inC / groups, ...k];
    // PyTorch takes fan-in from the weight's second dim, for transposed convolutions too.
    const fanIn = shape[1] * kernel ** dims;
    this.weight = this.param('weight', initWeight(shape, fanIn, spec.init ?? 'default'));
    this.bias = spec.bias === false ? null : this.param('bias', uniform([outC], 1 / Math.sqrt(fanIn)));
    this.opts = { stride: spec.stride ?? 1, padding: spec.padding ?? 0, dilation: spec.dilation ?? 1, groups, outputPadding: spec.outputPadding ?? 0 };
  }
}

export class Conv2d extends ConvNd {
  constructor(inC: number, outC: number, kernel: number, spec: ConvSpec = {}) {
    super(2, false, inC, outC, kernel, spec);
  }
  /** x [N, inC, H, W] → [N, outC, H', W'], H' = ⌊(H + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1 (W' alike), as PyTorch. */
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.opts);
  }
}
export class Conv3d extends ConvNd {
  constructor(inC: number, outC: number, kernel: number, spec: ConvSpec = {}) {
    super(3, false, inC, outC, kernel, spec);
  }
  /** x [N, inC, D, H, W] → [N, outC, D', H', W'], each side as Conv2d's. */
  forward(x: Tensor): Tensor {
    return F.conv3d(x, this.weight, this.bias, this.opts);
  }
}
export class ConvTranspose2d extends ConvNd {
  constructor(inC: number, outC: number, kernel: number, spec: ConvSpec = {}) {
    super(2, true, inC, outC, kernel, spec);
  }
  /** x [N, inC, H, W] → [N, outC, H', W'], H' = (H − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1 (W' alike). */
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, this.opts);
  }
}
export class ConvTranspose3d extends ConvNd {
  constructor(inC: number, outC: number, kernel: number, spec: ConvSpec = {}) {
    super(3, true, inC, outC, kernel, spec);
  }
  /** x [N, inC, D, H, W] → [N, outC, D', H', W'], each side as ConvTranspose2d's (stride 2, padding 1, outputPadding 1, k 3: doubled). */
  forward(x: Tensor): Tensor {
    return F.convTranspose3d(x, this.weight, this.bias, this.opts);
  }
}
