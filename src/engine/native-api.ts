/**
 * The typed interface of the libtorch addon (build/dltheory.node): one member per binding that
 * native/*.cc registers, grouped as those files group them (allocator.cc registers none).
 *
 * Tensors do not cross the boundary. The addon keeps them in a table and hands JavaScript a
 * {@link Slot}; a binding that returns one has put a new tensor there, which the caller owns and
 * must `free` (Tensor does this). Dtypes and devices cross as strings, shapes and dims as number
 * arrays, tensor lists as slot arrays, tuples of results as slot arrays in ATen's order. libtorch's
 * exceptions arrive as JS Errors carrying its one-line message.
 *
 * Interfaces vanish at run time, so the names also live in {@link NATIVE_NAMES}: checked against the
 * interfaces at compile time below, and against the loaded addon's exports by test/native.test.ts.
 */
import type { DType, Interpolation, TypedArray } from './tensor.js';

/**
 * A tensor slot id: the index of a tensor in the addon's table. It stays valid until `free(id)`,
 * after which the number may be reused for another tensor; a binding given a freed slot throws
 * "tensor used after dispose".
 */
export type Slot = number;
/** A slot id, or −1 for none (no bias, no gradient, no gradient output). */
export type MaybeSlot = number;
/** How a loss combines its elements. */
export type LossReduction = 'mean' | 'sum' | 'none';

/** native/core.cc: the slot table, data transfer, creation, metadata, autograd, seeds, threads and devices. */
export interface NativeCore {
  /** Releases a slot; a slot already free is ignored. */
  free(id: Slot): void;
  /** Slots in use (for leak tests). */
  liveTensors(): number;

  /** A copy of data on the default device; its bytes are read as `dtype` and must fill `shape` exactly. */
  fromBuffer(data: TypedArray, shape: number[], dtype: DType): Slot;
  /** A contiguous CPU copy: Float32Array, Float64Array, BigInt64Array, or Uint8Array of 0/1 for bool. */
  toArray(id: Slot): TypedArray;
  /** The value of a one-element tensor, as a double. */
  item(id: Slot): number;

  // Creation: new tensors on the default device.
  zeros(shape: number[], dtype: DType): Slot;
  ones(shape: number[], dtype: DType): Slot;
  full(shape: number[], value: number, dtype: DType): Slot;
  /** start, start + step, … < end. */
  arange(start: number, end: number, step: number, dtype: DType): Slot;
  linspace(start: number, end: number, steps: number, dtype: DType): Slot;
  eye(n: number, dtype: DType): Slot;
  randn(shape: number[], dtype: DType): Slot;
  /** Uniform on [0, 1). */
  rand(shape: number[], dtype: DType): Slot;
  /** Integers uniform on [low, high). */
  randint(low: number, high: number, shape: number[], dtype: DType): Slot;
  randperm(n: number, dtype: DType): Slot;
  zerosLike(id: Slot): Slot;
  onesLike(id: Slot): Slot;
  randnLike(id: Slot): Slot;

  shape(id: Slot): number[];
  /** One of the four DTypes: no binding makes a tensor of any other. */
  dtype(id: Slot): DType;
  /** libtorch's name of the device: 'cpu', 'cuda:0'… */
  device(id: Slot): string;

  setRequiresGrad(id: Slot, on: boolean): void;
  requiresGrad(id: Slot): boolean;
  isLeaf(id: Slot): boolean;
  retainGrad(id: Slot): void;
  /** A new slot sharing the accumulated gradient's storage, or −1 when there is none. */
  grad(id: Slot): MaybeSlot;
  /** Sets the gradient, or clears it with −1. */
  setGrad(id: Slot, gradient: MaybeSlot): void;
  /** gradient −1: ones, for a scalar id. */
  backward(id: Slot, gradient: MaybeSlot, retainGraph: boolean, createGraph: boolean): void;
  /**
   * torch.autograd.grad: one entry per input, −1 for an input the outputs do not depend on (with
   * allowUnused). gradOutputs [] means ones; retainGraph null means createGraph.
   */
  autogradGrad(
    outputs: Slot[],
    inputs: Slot[],
    gradOutputs: Slot[],
    retainGraph: boolean | null,
    createGraph: boolean,
    allowUnused: boolean,
  ): MaybeSlot[];
  /** Turns gradient recording on or off; returns the previous setting, to restore. */
  setGradEnabled(on: boolean): boolean;
  detach(id: Slot): Slot;
  /** id takes src's storage, dtype and device but keeps its identity and leaf status (PyTorch's `t.data = src`). */
  setData(id: Slot, src: Slot): void;

  /** Seeds the default CPU generator and every CUDA device's. */
  manualSeed(seed: number): void;
  /** libtorch's intra-op threads, process-wide. */
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaAvailable(): boolean;
  /** Where creation bindings put new tensors: 'cpu', 'cuda', 'cuda:1'… */
  setDefaultDevice(device: string): void;
  /** A copy in another dtype (a DType name) or on another device (anything else). */
  to(id: Slot, target: DType | string): Slot;
}

/**
 * native/ops.cc: elementwise maths, comparisons, reductions, shape and indexing ops, and in-place
 * updates. Each follows the ATen op of the same name, with broadcasting and type promotion;
 * comparisons and logical ops give bool tensors. A number argument that is integral crosses as
 * an integer Scalar, so int64 tensors stay int64.
 */
export interface NativeOps {
  neg(x: Slot): Slot;
  abs(x: Slot): Slot;
  exp(x: Slot): Slot;
  log(x: Slot): Slot;
  sqrt(x: Slot): Slot;
  rsqrt(x: Slot): Slot;
  sin(x: Slot): Slot;
  cos(x: Slot): Slot;
  tanh(x: Slot): Slot;
  sigmoid(x: Slot): Slot;
  relu(x: Slot): Slot;
  sign(x: Slot): Slot;
  square(x: Slot): Slot;
  reciprocal(x: Slot): Slot;
  log1p(x: Slot): Slot;
  expm1(x: Slot): Slot;
  floor(x: Slot): Slot;
  ceil(x: Slot): Slot;
  round(x: Slot): Slot;
  erf(x: Slot): Slot;
  logical_not(x: Slot): Slot;
  isnan(x: Slot): Slot;
  isfinite(x: Slot): Slot;
  clone(x: Slot): Slot;
  contiguous(x: Slot): Slot;

  add(a: Slot, b: Slot): Slot;
  sub(a: Slot, b: Slot): Slot;
  mul(a: Slot, b: Slot): Slot;
  div(a: Slot, b: Slot): Slot;
  pow(a: Slot, b: Slot): Slot;
  maximum(a: Slot, b: Slot): Slot;
  minimum(a: Slot, b: Slot): Slot;
  eq(a: Slot, b: Slot): Slot;
  ne(a: Slot, b: Slot): Slot;
  lt(a: Slot, b: Slot): Slot;
  le(a: Slot, b: Slot): Slot;
  gt(a: Slot, b: Slot): Slot;
  ge(a: Slot, b: Slot): Slot;
  logical_and(a: Slot, b: Slot): Slot;
  logical_or(a: Slot, b: Slot): Slot;
  remainder(a: Slot, b: Slot): Slot;
  atan2(a: Slot, b: Slot): Slot;
  matmul(a: Slot, b: Slot): Slot;
  mm(a: Slot, b: Slot): Slot;
  bmm(a: Slot, b: Slot): Slot;
  outer(a: Slot, b: Slot): Slot;

  // x op s, for a number s.
  addScalar(x: Slot, s: number): Slot;
  subScalar(x: Slot, s: number): Slot;
  mulScalar(x: Slot, s: number): Slot;
  divScalar(x: Slot, s: number): Slot;
  powScalar(x: Slot, s: number): Slot;
  eqScalar(x: Slot, s: number): Slot;
  neScalar(x: Slot, s: number): Slot;
  ltScalar(x: Slot, s: number): Slot;
  leScalar(x: Slot, s: number): Slot;
  gtScalar(x: Slot, s: number): Slot;
  geScalar(x: Slot, s: number): Slot;
  remainderScalar(x: Slot, s: number): Slot;
  /** C's fmod: the remainder takes x's sign (remainderScalar's takes s's). */
  fmodScalar(x: Slot, s: number): Slot;
  /** s − x. */
  rsubScalar(x: Slot, s: number): Slot;
  /** s / x. */
  rdivScalar(x: Slot, s: number): Slot;
  /** s ** x. */
  rpowScalar(x: Slot, s: number): Slot;
  /** null: no bound on that side. */
  clamp(x: Slot, min: number | null, max: number | null): Slot;
  /** cond ? a : b. */
  where(cond: Slot, a: Slot, b: Slot): Slot;
  maskedFill(x: Slot, mask: Slot, value: number): Slot;

  // Reductions. dims null: over every element, to a 0-d tensor (sum, mean, amax and amin then
  // ignore keepdim; var, std and norm keep it).
  sum(x: Slot, dims: number[] | null, keepdim: boolean): Slot;
  mean(x: Slot, dims: number[] | null, keepdim: boolean): Slot;
  /** dim null: over every element (keepdim ignored). */
  prod(x: Slot, dim: number | null, keepdim: boolean): Slot;
  amax(x: Slot, dims: number[] | null, keepdim: boolean): Slot;
  amin(x: Slot, dims: number[] | null, keepdim: boolean): Slot;
  /** torch.max(x, dim). */
  maxDim(x: Slot, dim: number, keepdim: boolean): [values: Slot, indices: Slot];
  minDim(x: Slot, dim: number, keepdim: boolean): [values: Slot, indices: Slot];
  /** dim null: the index into the flattened tensor. */
  argmax(x: Slot, dim: number | null, keepdim: boolean): Slot;
  argmin(x: Slot, dim: number | null, keepdim: boolean): Slot;
  /** correction 0: the population variance; 1: Bessel's. */
  var(x: Slot, dims: number[] | null, correction: number, keepdim: boolean): Slot;
  std(x: Slot, dims: number[] | null, correction: number, keepdim: boolean): Slot;
  /** Vector p-norm (torch.linalg.vector_norm); p may be ±Infinity. */
  norm(x: Slot, p: number, dims: number[] | null, keepdim: boolean): Slot;
  logsumexp(x: Slot, dims: number[], keepdim: boolean): Slot;
  all(x: Slot): Slot;
  any(x: Slot): Slot;
  cumsum(x: Slot, dim: number): Slot;

  reshape(x: Slot, shape: number[]): Slot;
  view(x: Slot, shape: number[]): Slot;
  transpose(x: Slot, dim0: number, dim1: number): Slot;
  permute(x: Slot, dims: number[]): Slot;
  narrow(x: Slot, dim: number, start: number, length: number): Slot;
  /** start ≤ i < end by step along dim; end clamps to the size. */
  slice(x: Slot, dim: number, start: number, end: number, step: number): Slot;
  select(x: Slot, dim: number, index: number): Slot;
  cat(xs: Slot[], dim: number): Slot;
  stack(xs: Slot[], dim: number): Slot;
  /** Pieces of the given sizes along dim (split_with_sizes). */
  split(x: Slot, sizes: number[], dim: number): Slot[];
  indexSelect(x: Slot, dim: number, index: Slot): Slot;
  gather(x: Slot, dim: number, index: Slot): Slot;
  scatter(x: Slot, dim: number, index: Slot, src: Slot): Slot;
  scatterAdd(x: Slot, dim: number, index: Slot, src: Slot): Slot;
  maskedSelect(x: Slot, mask: Slot): Slot;
  /** dim null: every dimension of size 1. */
  squeeze(x: Slot, dim: number | null): Slot;
  unsqueeze(x: Slot, dim: number): Slot;
  flatten(x: Slot, startDim: number, endDim: number): Slot;
  expand(x: Slot, shape: number[]): Slot;
  repeat(x: Slot, times: number[]): Slot;
  flip(x: Slot, dims: number[]): Slot;
  tril(x: Slot, k: number): Slot;
  triu(x: Slot, k: number): Slot;
  diag(x: Slot, k: number): Slot;
  diagonal(x: Slot, offset: number, dim1: number, dim2: number): Slot;
  /** int64 rows `classes` wide (−1: the largest index + 1). */
  oneHot(indices: Slot, classes: number): Slot;
  sort(x: Slot, dim: number, descending: boolean): [values: Slot, indices: Slot];
  topk(x: Slot, k: number, dim: number, largest: boolean, sorted: boolean): [values: Slot, indices: Slot];
  /** q: a tensor of probabilities; dim null: over every element. */
  quantile(x: Slot, q: Slot, dim: number | null, keepdim: boolean, interpolation: Interpolation): Slot;

  // In place, on x (optimisers, buffers); they return nothing.
  copy_(x: Slot, src: Slot): void;
  zero_(x: Slot): void;
  fill_(x: Slot, value: number): void;
  /** x += alpha·y. */
  add_(x: Slot, y: Slot, alpha: number): void;
  mul_(x: Slot, y: Slot): void;
  mulScalar_(x: Slot, s: number): void;
  /** x += value·a·b. */
  addcmul_(x: Slot, a: Slot, b: Slot, value: number): void;
  /** x += value·a/b. */
  addcdiv_(x: Slot, a: Slot, b: Slot, value: number): void;
}

/**
 * native/nn.cc: layers, activations, losses, spatial sampling and linear algebra, each following
 * the ATen op of the same name. Sizes are given per spatial dimension; optional tensors are −1.
 */
export interface NativeNN {
  /** x·wᵀ + b. */
  linear(x: Slot, w: Slot, b: MaybeSlot): Slot;
  conv2d(x: Slot, w: Slot, b: MaybeSlot, stride: number[], padding: number[], dilation: number[], groups: number): Slot;
  conv3d(x: Slot, w: Slot, b: MaybeSlot, stride: number[], padding: number[], dilation: number[], groups: number): Slot;
  /** groups before dilation, as in ATen (unlike conv2d). */
  convTranspose2d(x: Slot, w: Slot, b: MaybeSlot, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): Slot;
  convTranspose3d(x: Slot, w: Slot, b: MaybeSlot, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): Slot;
  maxPool2d(x: Slot, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): Slot;
  maxPool3d(x: Slot, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): Slot;
  avgPool2d(x: Slot, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): Slot;
  avgPool3d(x: Slot, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): Slot;
  adaptiveAvgPool2d(x: Slot, size: number[]): Slot;
  adaptiveAvgPool3d(x: Slot, size: number[]): Slot;
  /** In training, updates runningMean and runningVar in place. */
  batchNorm(x: Slot, weight: MaybeSlot, bias: MaybeSlot, runningMean: MaybeSlot, runningVar: MaybeSlot, training: boolean, momentum: number, eps: number): Slot;
  instanceNorm(
    x: Slot,
    weight: MaybeSlot,
    bias: MaybeSlot,
    runningMean: MaybeSlot,
    runningVar: MaybeSlot,
    useInputStats: boolean,
    momentum: number,
    eps: number,
  ): Slot;
  groupNorm(x: Slot, groups: number, weight: MaybeSlot, bias: MaybeSlot, eps: number): Slot;
  layerNorm(x: Slot, normalizedShape: number[], weight: MaybeSlot, bias: MaybeSlot, eps: number): Slot;
  /** Zeroes with probability p and scales the rest by 1/(1−p), when training. */
  dropout(x: Slot, p: number, training: boolean): Slot;
  /** Constant padding, pads = [lastLeft, lastRight, prevLeft, prevRight, …]. */
  pad(x: Slot, pads: number[], value: number): Slot;

  leakyRelu(x: Slot, slope: number): Slot;
  softplus(x: Slot, beta: number, threshold: number): Slot;
  elu(x: Slot, alpha: number): Slot;
  gelu(x: Slot): Slot;
  softmax(x: Slot, dim: number): Slot;
  logSoftmax(x: Slot, dim: number): Slot;

  /** target: int64 class indices, −100 for an element to leave out (ATen's ignore_index). */
  crossEntropy(logits: Slot, target: Slot, reduction: LossReduction, labelSmoothing: number): Slot;
  nllLoss(logProbs: Slot, target: Slot, reduction: LossReduction): Slot;
  mseLoss(input: Slot, target: Slot, reduction: LossReduction): Slot;
  /** On probabilities. */
  binaryCrossEntropy(p: Slot, target: Slot, reduction: LossReduction): Slot;
  binaryCrossEntropyWithLogits(logits: Slot, target: Slot, reduction: LossReduction): Slot;

  /** The sampling grid of affine maps theta [N, 2, 3] or [N, 3, 4] for an output of `size`. */
  affineGrid(theta: Slot, size: number[], alignCorners: boolean): Slot;
  /** mode 0 bilinear, 1 nearest; padding 0 zeros, 1 border, 2 reflection. */
  gridSample(x: Slot, grid: Slot, mode: 0 | 1, padding: 0 | 1 | 2, alignCorners: boolean): Slot;
  upsampleTrilinear(x: Slot, size: number[], alignCorners: boolean): Slot;

  // Linear algebra; symmetric routines read the lower triangle.
  /** Ascending. */
  eigvalsh(a: Slot): Slot;
  eigh(a: Slot): [values: Slot, vectors: Slot];
  svd(a: Slot, fullMatrices: boolean): [U: Slot, S: Slot, Vh: Slot];
  svdvals(a: Slot): Slot;
  /** Over the last two dims; ord a number (2, −2, 1, Infinity…) or 'fro' / 'nuc'. */
  matrixNorm(a: Slot, ord: number | 'fro' | 'nuc'): Slot;
  /** X with a·X = b. */
  solve(a: Slot, b: Slot): Slot;
  /** The gelsd driver, so rank-deficient a is allowed. */
  lstsq(a: Slot, b: Slot): [solution: Slot, residuals: Slot, rank: Slot, singularValues: Slot];
  inv(a: Slot): Slot;
  cholesky(a: Slot): Slot;
  det(a: Slot): Slot;
  /** libtorch's default tolerance, eps·max(m, n)·σ_max. */
  matrixRank(a: Slot): Slot;
  /** Reduced. */
  qr(a: Slot): [Q: Slot, R: Slot];
}

/** Every binding of the addon. */
export interface NativeApi extends NativeCore, NativeOps, NativeNN {}

// The names, in the order the C++ files register them.
// dprint-ignore: a table laid out by hand
export const CORE_NAMES = [
  'free', 'liveTensors', 'fromBuffer', 'toArray', 'item',
  'zeros', 'ones', 'full', 'arange', 'linspace', 'eye', 'randn', 'rand', 'randint', 'randperm', 'zerosLike', 'onesLike', 'randnLike',
  'shape', 'dtype', 'device',
  'setRequiresGrad', 'requiresGrad', 'isLeaf', 'retainGrad', 'grad', 'setGrad', 'backward', 'autogradGrad', 'setGradEnabled', 'detach', 'setData',
  'manualSeed', 'setNumThreads', 'getNumThreads', 'cudaAvailable', 'setDefaultDevice', 'to',
] as const;
// dprint-ignore: a table laid out by hand
export const OPS_NAMES = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'sign', 'square',
  'reciprocal', 'log1p', 'expm1', 'floor', 'ceil', 'round', 'erf', 'logical_not', 'isnan', 'isfinite', 'clone', 'contiguous',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logical_and', 'logical_or', 'remainder', 'atan2', 'matmul', 'mm', 'bmm', 'outer',
  'addScalar', 'subScalar', 'mulScalar', 'divScalar', 'powScalar', 'eqScalar', 'neScalar', 'ltScalar', 'leScalar', 'gtScalar', 'geScalar',
  'remainderScalar', 'fmodScalar', 'rsubScalar', 'rdivScalar', 'rpowScalar', 'clamp', 'where', 'maskedFill',
  'sum', 'mean', 'prod', 'amax', 'amin', 'maxDim', 'minDim', 'argmax', 'argmin', 'var', 'std', 'norm', 'logsumexp', 'all', 'any', 'cumsum',
  'reshape', 'view', 'transpose', 'permute', 'narrow', 'slice', 'select', 'cat', 'stack', 'split', 'indexSelect', 'gather', 'scatter',
  'scatterAdd', 'maskedSelect', 'squeeze', 'unsqueeze', 'flatten', 'expand', 'repeat', 'flip', 'tril', 'triu', 'diag', 'diagonal', 'oneHot',
  'sort', 'topk', 'quantile',
  'copy_', 'zero_', 'fill_', 'add_', 'mul_', 'mulScalar_', 'addcmul_', 'addcdiv_',
] as const;
// dprint-ignore: a table laid out by hand
export const NN_NAMES = [
  'linear', 'conv2d', 'conv3d', 'convTranspose2d', 'convTranspose3d', 'maxPool2d', 'maxPool3d', 'avgPool2d', 'avgPool3d',
  'adaptiveAvgPool2d', 'adaptiveAvgPool3d', 'batchNorm', 'instanceNorm', 'groupNorm', 'layerNorm', 'dropout', 'pad',
  'leakyRelu', 'softplus', 'elu', 'gelu', 'softmax', 'logSoftmax',
  'crossEntropy', 'nllLoss', 'mseLoss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits',
  'affineGrid', 'gridSample', 'upsampleTrilinear',
  'eigvalsh', 'eigh', 'svd', 'svdvals', 'matrixNorm', 'solve', 'lstsq', 'inv', 'cholesky', 'det', 'matrixRank', 'qr',
] as const;
/** Every binding's name, core, ops and nn in turn. */
export const NATIVE_NAMES: readonly (keyof NativeApi)[] = [...CORE_NAMES, ...OPS_NAMES, ...NN_NAMES];

// Compile-time check that each list names exactly its interface's members. A mismatch fails here
// with the names at fault: `interfaceOnly` lacks a list entry, `listOnly` a member.
type Exact<Members, Listed> = [Exclude<Members, Listed>, Exclude<Listed, Members>] extends [never, never] ? true
  : { interfaceOnly: Exclude<Members, Listed>; listOnly: Exclude<Listed, Members> };
type Check<T extends true> = T;
export type NamesMatch = Check<
  Exact<keyof NativeCore, (typeof CORE_NAMES)[number]> | Exact<keyof NativeOps, (typeof OPS_NAMES)[number]> | Exact<keyof NativeNN, (typeof NN_NAMES)[number]>
>;
