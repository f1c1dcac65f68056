/**
 * The Tensor: a handle on a libtorch tensor, with PyTorch's method names and semantics
 * (broadcasting, type promotion, autograd). Every method is one native call.
 */
import { N } from './native.js';
import { setTensorCheck, track } from './memory.js';

export type DType = 'float32' | 'float64' | 'int64' | 'bool';
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Uint8Array;
export type Interpolation = 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest';

// A forgotten tensor is freed when V8 collects its handle. dispose() unregisters first, so a
// reused slot is never freed twice.
const finalizer = new FinalizationRegistry<number>((id) => N.free(id));

/** Wraps a native slot id (or a list of them) as Tensors. */
export function wrap(id: number): Tensor {
  return new Tensor(id);
}
function wrapPair(ids: number[]): { values: Tensor; indices: Tensor } {
  return { values: new Tensor(ids[0]), indices: new Tensor(ids[1]) };
}
const dimsArg = (dims?: number | number[]): number[] | null => dims === undefined ? null : typeof dims === 'number' ? [dims] : dims;

export class Tensor {
  #id: number;
  #shape: number[] | undefined;

  constructor(id: number) {
    this.#id = id;
    finalizer.register(this, id, this);
    track(this);
  }

  /** The native slot; throws once disposed. */
  get id(): number {
    if (this.#id < 0) throw new Error('tensor used after dispose');
    return this.#id;
  }
  get isDisposed(): boolean {
    return this.#id < 0;
  }
  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    if (this.#id < 0) return;
    finalizer.unregister(this);
    N.free(this.#id);
    this.#id = -1;
  } /** Frees the native memory at the end of a `using` block: `using t = randn([3])`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- metadata ----
  /** The sizes, asked of libtorch once: a tensor's shape never changes (setData_ resets it). */
  #dims(): number[] {
    if (this.#shape === undefined) this.#shape = N.shape(this.id);
    return this.#shape;
  }
  get shape(): number[] {
    return this.#dims().slice();
  }
  get ndim(): number {
    return this.#dims().length;
  }
  get numel(): number {
    return this.#dims().reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.#dims();
    return s[dim < 0 ? s.length + dim : dim];
  }
  get dtype(): DType {
    return N.dtype(this.id);
  }
  get device(): string {
    return N.device(this.id);
  }
  /** A contiguous copy of the data (bool as 0/1 bytes). */
  toArray(): TypedArray {
    return N.toArray(this.id);
  }
  /** The value of a one-element tensor. */
  item(): number {
    return N.item(this.id);
  }
  /** A copy of the data as plain numbers (int64 through Number). */
  toNumbers(): number[] {
    return Array.from(this.toArray() as ArrayLike<number | bigint>, Number);
  }
  to(target: DType | string): Tensor {
    return wrap(N.to(this.id, target));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return N.requiresGrad(this.id);
  }
  set requiresGrad(v: boolean) {
    N.setRequiresGrad(this.id, v);
  }
  requiresGrad_(v = true): this {
    N.setRequiresGrad(this.id, v);
    return this;
  }
  get isLeaf(): boolean {
    return N.isLeaf(this.id);
  }
  /** The accumulated gradient (a new handle sharing its storage), or null. */
  get grad(): Tensor | null {
    const g = N.grad(this.id);
    return g < 0 ? null : wrap(g);
  }
  set grad(g: Tensor | null) {
    N.setGrad(this.id, g ? g.id : -1);
  }
  retainGrad(): this {
    N.retainGrad(this.id);
    return this;
  }
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    N.backward(this.id, gradient ? gradient.id : -1, opts.retainGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor {
    return wrap(N.detach(this.id));
  }
  /** Makes this tensor hold src's data, dtype and device, keeping its identity (PyTorch's `t.data = src`). */
  setData_(src: Tensor): this {
    N.setData(this.id, src.id);
    this.#shape = undefined;
    return this;
  }

  // ---- elementwise ----
  add(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.addScalar(this.id, o) : N.add(this.id, o.id));
  }
  sub(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.subScalar(this.id, o) : N.sub(this.id, o.id));
  }
  /** o − this. */
  rsub(o: number): Tensor {
    return wrap(N.rsubScalar(this.id, o));
  }
  mul(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.mulScalar(this.id, o) : N.mul(this.id, o.id));
  }
  div(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.divScalar(this.id, o) : N.div(this.id, o.id));
  }
  /** o / this. */
  rdiv(o: number): Tensor {
    return wrap(N.rdivScalar(this.id, o));
  }
  pow(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.powScalar(this.id, o) : N.pow(this.id, o.id));
  }
  remainder(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.remainderScalar(this.id, o) : N.remainder(this.id, o.id));
  }
  maximum(o: Tensor): Tensor {
    return wrap(N.maximum(this.id, o.id));
  }
  minimum(o: Tensor): Tensor {
    return wrap(N.minimum(this.id, o.id));
  }
  atan2(o: Tensor): Tensor {
    return wrap(N.atan2(this.id, o.id));
  }
  eq(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.eqScalar(this.id, o) : N.eq(this.id, o.id));
  }
  ne(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.neScalar(this.id, o) : N.ne(this.id, o.id));
  }
  lt(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.ltScalar(this.id, o) : N.lt(this.id, o.id));
  }
  le(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.leScalar(this.id, o) : N.le(this.id, o.id));
  }
  gt(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.gtScalar(this.id, o) : N.gt(this.id, o.id));
  }
  ge(o: Tensor | number): Tensor {
    return wrap(typeof o === 'number' ? N.geScalar(this.id, o) : N.ge(this.id, o.id));
  }
  logicalAnd(o: Tensor): Tensor {
    return wrap(N.logical_and(this.id, o.id));
  }
  logicalOr(o: Tensor): Tensor {
    return wrap(N.logical_or(this.id, o.id));
  }
  logicalNot(): Tensor {
    return wrap(N.logical_not(this.id));
  }
  neg(): Tensor {
    return wrap(N.neg(this.id));
  }
  abs(): Tensor {
    return wrap(N.abs(this.id));
  }
  exp(): Tensor {
    return wrap(N.exp(this.id));
  }
  log(): Tensor {
    return wrap(N.log(this.id));
  }
  sqrt(): Tensor {
    return wrap(N.sqrt(this.id));
  }
  rsqrt(): Tensor {
    return wrap(N.rsqrt(this.id));
  }
  sin(): Tensor {
    return wrap(N.sin(this.id));
  }
  cos(): Tensor {
    return wrap(N.cos(this.id));
  }
  tanh(): Tensor {
    return wrap(N.tanh(this.id));
  }
  sigmoid(): Tensor {
    return wrap(N.sigmoid(this.id));
  }
  relu(): Tensor {
    return wrap(N.relu(this.id));
  }
  sign(): Tensor {
    return wrap(N.sign(this.id));
  }
  square(): Tensor {
    return wrap(N.square(this.id));
  }
  reciprocal(): Tensor {
    return wrap(N.reciprocal(this.id));
  }
  log1p(): Tensor {
    return wrap(N.log1p(this.id));
  }
  expm1(): Tensor {
    return wrap(N.expm1(this.id));
  }
  floor(): Tensor {
    return wrap(N.floor(this.id));
  }
  ceil(): Tensor {
    return wrap(N.ceil(this.id));
  }
  round(): Tensor {
    return wrap(N.round(this.id));
  }
  erf(): Tensor {
    return wrap(N.erf(this.id));
  }
  isnan(): Tensor {
    return wrap(N.isnan(this.id));
  }
  isfinite(): Tensor {
    return wrap(N.isfinite(this.id));
  }
  clone(): Tensor {
    return wrap(N.clone(this.id));
  }
  contiguous(): Tensor {
    return wrap(N.contiguous(this.id));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return wrap(N.clamp(this.id, min ?? null, max ?? null));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(N.maskedFill(this.id, mask.id, value));
  }
  softmax(dim: number): Tensor {
    return wrap(N.softmax(this.id, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(N.logSoftmax(this.id, dim));
  }
  leakyRelu(slope = 0.01): Tensor {
    return wrap(N.leakyRelu(this.id, slope));
  }
  /** (1/β)·log(1 + exp(βx)), linear above x·β > threshold as in PyTorch. */
  softplus(beta = 1, threshold = 20): Tensor {
    return wrap(N.softplus(this.id, beta, threshold));
  }

  // ---- matrix products ----
  /** torch.matmul: [n, k]·[k, m] → [n, m]; a 1-D side is a vector ([k] → drops that axis); leading dims broadcast as batches ([b, n, k]·[k, m] → [b, n, m]). */
  matmul(o: Tensor): Tensor {
    return wrap(N.matmul(this.id, o.id));
  }
  /** Matrix product of exactly two matrices: [n, k]·[k, m] → [n, m] (no broadcasting). */
  mm(o: Tensor): Tensor {
    return wrap(N.mm(this.id, o.id));
  }
  /** Batched matrix product: [b, n, k]·[b, k, m] → [b, n, m]. */
  bmm(o: Tensor): Tensor {
    return wrap(N.bmm(this.id, o.id));
  }
  /** Outer product of two vectors: [n] ⊗ [m] → [n, m]. */
  outer(o: Tensor): Tensor {
    return wrap(N.outer(this.id, o.id));
  }

  // ---- reductions (no dims: over everything) ----
  /** Sum over `dims` (every element when omitted → a scalar []); keepdim keeps each summed axis as size 1. */
  sum(dims?: number | number[], keepdim = false): Tensor {
    return wrap(N.sum(this.id, dimsArg(dims), keepdim));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return wrap(N.mean(this.id, dimsArg(dims), keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return wrap(N.prod(this.id, dim ?? null, keepdim));
  }
  /** Largest value(s) over dims, like torch.amax. */
  amax(dims?: number | number[], keepdim = false): Tensor {
    return wrap(N.amax(this.id, dimsArg(dims), keepdim));
  }
  amin(dims?: number | number[], keepdim = false): Tensor {
    return wrap(N.amin(this.id, dimsArg(dims), keepdim));
  }
  /** torch.max(x, dim): the values and their indices. */
  max(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    return wrapPair(N.maxDim(this.id, dim, keepdim));
  }
  min(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    return wrapPair(N.minDim(this.id, dim, keepdim));
  }
  /** int64 indices of the largest values along `dim` (of the flattened tensor when omitted → a scalar). */
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(N.argmax(this.id, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(N.argmin(this.id, dim ?? null, keepdim));
  }
  /** Variance; correction 1 (default, as PyTorch) divides by n − 1, correction 0 by n. */
  var(dims?: number | number[], opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return wrap(N.var(this.id, dimsArg(dims), opts.correction ?? 1, opts.keepdim ?? false));
  }
  std(dims?: number | number[], opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return wrap(N.std(this.id, dimsArg(dims), opts.correction ?? 1, opts.keepdim ?? false));
  }
  /** Vector p-norm over dims (all elements by default), like torch.linalg.vector_norm. */
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor {
    return wrap(N.norm(this.id, p, dimsArg(dims), keepdim));
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return wrap(N.logsumexp(this.id, typeof dims === 'number' ? [dims] : dims, keepdim));
  }
  /** A bool scalar: whether every element is non-zero. */
  all(): Tensor {
    return wrap(N.all(this.id));
  }
  /** A bool scalar: whether some element is non-zero. */
  any(): Tensor {
    return wrap(N.any(this.id));
  }
  cumsum(dim: number): Tensor {
    return wrap(N.cumsum(this.id, dim));
  }
  /** Sorted values along `dim` and the int64 positions they came from, both of this tensor's shape. */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    return wrapPair(N.sort(this.id, dim, descending));
  }
  /** The `k` largest (or smallest) values along `dim` and their int64 positions: this shape with `dim` of size k. */
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    return wrapPair(N.topk(this.id, k, dim, largest, sorted));
  }
  /** torch.quantile; q a tensor of probabilities (as many as wanted). */
  quantile(q: Tensor, dim?: number, keepdim = false, interpolation: Interpolation = 'linear'): Tensor {
    return wrap(N.quantile(this.id, q.id, dim ?? null, keepdim, interpolation));
  }

  // ---- shape and indexing ----
  /** The same elements in C order under `shape` (one entry may be −1: inferred); a view when possible, else a copy. */
  reshape(shape: number[]): Tensor {
    return wrap(N.reshape(this.id, shape));
  }
  /** Like reshape, but always a view sharing memory: an error when the strides do not allow it. */
  view(shape: number[]): Tensor {
    return wrap(N.view(this.id, shape));
  }
  /** A view with axes d0 and d1 swapped. */
  transpose(d0: number, d1: number): Tensor {
    return wrap(N.transpose(this.id, d0, d1));
  }
  /** The transpose of a matrix. */
  t(): Tensor {
    return wrap(N.transpose(this.id, 0, 1));
  }
  /** A view whose axis i is this tensor's axis dims[i]. */
  permute(dims: number[]): Tensor {
    return wrap(N.permute(this.id, dims));
  }
  /** A view of `length` entries from `start` along `dim` (the other axes whole). */
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(N.narrow(this.id, dim, start, length));
  }
  /** Elements start ≤ i < end with the given step along dim (end clamps to the size). */
  slice(dim: number, start: number, end = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return wrap(N.slice(this.id, dim, start, end, step));
  }
  /** A view of one entry along `dim`, that axis removed: [a, b, c].select(1, i) → [a, c]. */
  select(dim: number, index: number): Tensor {
    return wrap(N.select(this.id, dim, index));
  }
  /** A copy of the entries along `dim` at the int64 positions `index` [k], in that order: `dim` becomes size k. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(N.indexSelect(this.id, dim, index.id));
  }
  /** out[i][j] = this[i][index[i][j]] for dim 1 (likewise for other dims); `index` is int64 and gives the output's shape. */
  gather(dim: number, index: Tensor): Tensor {
    return wrap(N.gather(this.id, dim, index.id));
  }
  /** A copy with out[i][index[i][j]] = src[i][j] for dim 1 (likewise for other dims); `index` (int64) and `src` have one shape. */
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(N.scatter(this.id, dim, index.id, src.id));
  }
  /** As scatter, but adding: out[i][index[i][j]] += src[i][j]; repeated positions accumulate. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(N.scatterAdd(this.id, dim, index.id, src.id));
  }
  /** The elements where the bool `mask` (broadcast to this shape) is true, as a 1-D tensor in C order. */
  maskedSelect(mask: Tensor): Tensor {
    return wrap(N.maskedSelect(this.id, mask.id));
  }
  /** A view without axes of size 1 (only axis `dim`, when given and of size 1). */
  squeeze(dim?: number): Tensor {
    return wrap(N.squeeze(this.id, dim ?? null));
  }
  /** A view with a new axis of size 1 at `dim`: [a, b].unsqueeze(1) → [a, 1, b]. */
  unsqueeze(dim: number): Tensor {
    return wrap(N.unsqueeze(this.id, dim));
  }
  /** Axes startDim..endDim merged into one: [n, c, h, w].flatten(1) → [n, c·h·w]. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(N.flatten(this.id, startDim, endDim));
  }
  /** A view broadcast to `shape` without copying (size-1 axes repeat; −1 keeps an axis). */
  expand(shape: number[]): Tensor {
    return wrap(N.expand(this.id, shape));
  }
  /** A copy tiled times[i] times along axis i: [a, b].repeat([2, 3]) → [2a, 3b]. */
  repeat(times: number[]): Tensor {
    return wrap(N.repeat(this.id, times));
  }
  flip(dims: number[]): Tensor {
    return wrap(N.flip(this.id, dims));
  }
  tril(k = 0): Tensor {
    return wrap(N.tril(this.id, k));
  }
  triu(k = 0): Tensor {
    return wrap(N.triu(this.id, k));
  }
  /** A vector [n] → the matrix with it on diagonal k; a matrix → its diagonal k as a vector. */
  diag(k = 0): Tensor {
    return wrap(N.diag(this.id, k));
  }
  /** A view of the diagonal of the dim1 × dim2 planes, as a last axis. */
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    return wrap(N.diagonal(this.id, offset, dim1, dim2));
  }
  /** Views of consecutive chunks along `dim` of the given sizes (which sum to its length). */
  split(sizes: number[], dim = 0): Tensor[] {
    return (N.split(this.id, sizes, dim)).map(wrap);
  }

  // ---- in place (for optimisers and buffers; not for tensors autograd still needs) ----
  copy_(src: Tensor): this {
    N.copy_(this.id, src.id);
    return this;
  }
  zero_(): this {
    N.zero_(this.id);
    return this;
  }
  fill_(value: number): this {
    N.fill_(this.id, value);
    return this;
  }
  /** this += alpha·other */
  add_(other: Tensor, alpha = 1): this {
    N.add_(this.id, other.id, alpha);
    return this;
  }
  mul_(other: Tensor | number): this {
    if (typeof other === 'number') N.mulScalar_(this.id, other);
    else N.mul_(this.id, other.id);
    return this;
  }
  /** this += value·a·b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    N.addcmul_(this.id, a.id, b.id, value);
    return this;
  }
  /** this += value·a/b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    N.addcdiv_(this.id, a.id, b.id, value);
    return this;
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape}], dtype=${this.dtype})`;
  }
}

setTensorCheck((v): v is Tensor => v instanceof Tensor);
