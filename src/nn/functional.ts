/**
 * torch.nn.functional: layers and losses as functions of tensors. Sizes given as one number apply
 * to every spatial dimension.
 */
import { N } from '../engine/native.js';
import { check } from '../errors.js';
import { type Tensor, wrap } from '../engine/tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
const tup = (v: number | number[], n: number): number[] => (typeof v === 'number' ? Array(n).fill(v) : v);
const idOf = (t: Tensor | null | undefined): number => (t ? t.id : -1);

/** y = x·Wᵀ + b: x [N, in] (any leading dims) → [N, out], W of shape [out, in] as in PyTorch. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(N.linear(x.id, weight.id, idOf(bias)));
}

export interface ConvOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}
function conv(fn: 'conv2d' | 'conv3d', dims: number, x: Tensor, w: Tensor, b: Tensor | null | undefined, o: ConvOptions): Tensor {
  return wrap(N[fn](x.id, w.id, idOf(b), tup(o.stride ?? 1, dims), tup(o.padding ?? 0, dims), tup(o.dilation ?? 1, dims), o.groups ?? 1));
}
/** 2-D convolution: x [N, C, H, W], weight [out, C/groups, kH, kW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return conv('conv2d', 2, x, weight, bias, o);
}
/** 3-D convolution: x [N, C, D, H, W], weight [out, C/groups, kD, kH, kW]. */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return conv('conv3d', 3, x, weight, bias, o);
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: number | number[];
}
function convT(fn: 'convTranspose2d' | 'convTranspose3d', dims: number, x: Tensor, w: Tensor, b: Tensor | null | undefined, o: ConvTransposeOptions): Tensor {
  return wrap(
    N[fn](x.id, w.id, idOf(b), tup(o.stride ?? 1, dims), tup(o.padding ?? 0, dims), tup(o.outputPadding ?? 0, dims), o.groups ?? 1, tup(o.dilation ?? 1, dims)),
  );
}
/** Transposed 2-D convolution; weight [in, out/groups, kH, kW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvTransposeOptions = {}): Tensor {
  return convT('convTranspose2d', 2, x, weight, bias, o);
}
/** Transposed 3-D convolution; weight [in, out/groups, kD, kH, kW]. */
export function convTranspose3d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvTransposeOptions = {}): Tensor {
  return convT('convTranspose3d', 3, x, weight, bias, o);
}

export interface PoolOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}
function maxPool(fn: 'maxPool2d' | 'maxPool3d', dims: number, x: Tensor, k: number | number[], o: PoolOptions): Tensor {
  return wrap(N[fn](x.id, tup(k, dims), tup(o.stride ?? k, dims), tup(o.padding ?? 0, dims), tup(o.dilation ?? 1, dims), o.ceilMode ?? false));
}
function avgPool(fn: 'avgPool2d' | 'avgPool3d', dims: number, x: Tensor, k: number | number[], o: PoolOptions): Tensor {
  return wrap(N[fn](x.id, tup(k, dims), tup(o.stride ?? k, dims), tup(o.padding ?? 0, dims), o.ceilMode ?? false, o.countIncludePad ?? true));
}
export const maxPool2d = (x: Tensor, kernel: number | number[], o: PoolOptions = {}): Tensor => maxPool('maxPool2d', 2, x, kernel, o);
export const maxPool3d = (x: Tensor, kernel: number | number[], o: PoolOptions = {}): Tensor => maxPool('maxPool3d', 3, x, kernel, o);
export const avgPool2d = (x: Tensor, kernel: number | number[], o: PoolOptions = {}): Tensor => avgPool('avgPool2d', 2, x, kernel, o);
export const avgPool3d = (x: Tensor, kernel: number | number[], o: PoolOptions = {}): Tensor => avgPool('avgPool3d', 3, x, kernel, o);
/** Averages x [N, C, H, W] over a size × size grid of near-equal windows → [N, C, size, size] (size 1: global pooling). */
export function adaptiveAvgPool2d(x: Tensor, size: number | number[]): Tensor {
  return wrap(N.adaptiveAvgPool2d(x.id, tup(size, 2)));
}
/** As adaptiveAvgPool2d for x [N, C, D, H, W] → [N, C, size, size, size]. */
export function adaptiveAvgPool3d(x: Tensor, size: number | number[]): Tensor {
  return wrap(N.adaptiveAvgPool3d(x.id, tup(size, 3)));
}

export interface NormStats {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  momentum?: number;
  eps?: number;
}
/** Batch norm over N and spatial dims; in training it updates the running statistics in place. */
export function batchNorm(x: Tensor, training: boolean, s: NormStats = {}): Tensor {
  return wrap(N.batchNorm(x.id, idOf(s.weight), idOf(s.bias), idOf(s.runningMean), idOf(s.runningVar), training, s.momentum ?? 0.1, s.eps ?? 1e-5));
}
/** Instance norm: each sample and channel normalised over its spatial dims. */
export function instanceNorm(x: Tensor, s: NormStats & { useInputStats?: boolean } = {}): Tensor {
  // Over [N, C] there is one value per instance and channel: its variance is 0, and libtorch returns round-off.
  check(x.ndim >= 3, () => `instance norm needs [N, C, spatial…], got shape [${x.shape}]`);
  return wrap(
    N.instanceNorm(x.id, idOf(s.weight), idOf(s.bias), idOf(s.runningMean), idOf(s.runningVar), s.useInputStats ?? true, s.momentum ?? 0.1, s.eps ?? 1e-5),
  );
}
/** Group norm: channels split into `groups`, each normalised over its channels and spatial dims. */
export function groupNorm(x: Tensor, groups: number, s: NormStats = {}): Tensor {
  return wrap(N.groupNorm(x.id, groups, idOf(s.weight), idOf(s.bias), s.eps ?? 1e-5));
}
export function layerNorm(x: Tensor, normalizedShape: number[], s: NormStats = {}): Tensor {
  return wrap(N.layerNorm(x.id, normalizedShape, idOf(s.weight), idOf(s.bias), s.eps ?? 1e-5));
}
/** Zeroes each element with probability p and scales the rest by 1/(1−p), in training only. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return wrap(N.dropout(x.id, p, training));
}
/** Constant padding; pads = [lastDimLeft, lastDimRight, prevLeft, prevRight, …] as torch.nn.functional.pad. */
export function pad(x: Tensor, pads: number[], value = 0): Tensor {
  return wrap(N.pad(x.id, pads, value));
}

export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => x.leakyRelu(slope);
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => x.softplus(beta, threshold);
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);
export function elu(x: Tensor, alpha = 1): Tensor {
  return wrap(N.elu(x.id, alpha));
}
export function gelu(x: Tensor): Tensor {
  return wrap(N.gelu(x.id));
}

/** −log softmax(logits)[target] for logits [N, K] and int64 class indices target [N]: 0-d averaged (default) or summed, [N] with 'none'. */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean', labelSmoothing = 0): Tensor {
  return wrap(N.crossEntropy(logits.id, target.id, reduction, labelSmoothing));
}
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(N.nllLoss(logProbs.id, target.id, reduction));
}
/** (input − target)², averaged by default. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(N.mseLoss(input.id, target.id, reduction));
}
/** −[t·log p + (1−t)·log(1−p)] for probabilities p. */
export function binaryCrossEntropy(p: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(N.binaryCrossEntropy(p.id, target.id, reduction));
}
/** Binary cross-entropy of sigmoid(logits), computed stably. */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(N.binaryCrossEntropyWithLogits(logits.id, target.id, reduction));
}

// Resampling lives in the engine, below data/, whose augmentations and volumes use it; F exposes it as torch's functional does.
export { affineGrid, gridSample } from '../engine/sampling.js';
/** Trilinear resampling of [N, C, D, H, W] to `size`. */
export function upsampleTrilinear(x: Tensor, size: number[], alignCorners = false): Tensor {
  return wrap(N.upsampleTrilinear(x.id, size, alignCorners));
}
