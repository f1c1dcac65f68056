/**
 * Normalisation layers over [N, C, …]: BatchNorm (batch statistics in training, running ones in
 * eval; buffers running_mean, running_var, num_batches_tracked as in PyTorch), InstanceNorm (per
 * sample and channel; affine off by default, as PyTorch) and GroupNorm.
 */
import type { Tensor } from '../engine/tensor.js';
import { ones, zeros, scalar } from '../engine/creation.js';
import { noGrad } from '../engine/autograd.js';
import { Module } from './module.js';
import * as F from './functional.js';

export class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(readonly numFeatures: number, readonly opts: { momentum?: number; eps?: number } = {}) {
    super();
    this.weight = this.param('weight', ones([numFeatures]));
    this.bias = this.param('bias', zeros([numFeatures]));
    this.runningMean = this.buffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', scalar(0, 'int64'));
  }
  /** x [N, C] or [N, C, …], C = numFeatures → the same shape; statistics per channel over N and every other dim. */
  forward(x: Tensor): Tensor {
    if (this.training) noGrad(() => this.numBatchesTracked.fill_(this.numBatchesTracked.item() + 1));
    return F.batchNorm(x, this.training, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      momentum: this.opts.momentum,
      eps: this.opts.eps,
    });
  }
}

export class InstanceNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(readonly numFeatures: number, readonly opts: { affine?: boolean; eps?: number } = {}) {
    super();
    this.weight = opts.affine ? this.param('weight', ones([numFeatures])) : null;
    this.bias = opts.affine ? this.param('bias', zeros([numFeatures])) : null;
  }
  /** x [N, C, …] with spatial dims ([N, C, H, W], [N, C, D, H, W]) → the same shape; statistics per sample and channel. */
  forward(x: Tensor): Tensor {
    return F.instanceNorm(x, { weight: this.weight, bias: this.bias, eps: this.opts.eps });
  }
}

export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(readonly groups: number, readonly numChannels: number, readonly opts: { eps?: number } = {}) {
    super();
    this.weight = this.param('weight', ones([numChannels]));
    this.bias = this.param('bias', zeros([numChannels]));
  }
  /** x [N, C, …], C = numChannels divisible by groups → the same shape; statistics per sample and group of C/groups channels. */
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, { weight: this.weight, bias: this.bias, eps: this.opts.eps });
  }
}
