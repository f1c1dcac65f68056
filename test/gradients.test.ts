/**
 * Finite-difference gradient checks in float64 for every differentiable op of the engine and of
 * nn/functional. Each case builds [fn, inputs] (constants such as targets or indices are captured
 * by fn, so only the listed inputs are differentiated) and runs `gradcheck`, which compares
 * autograd's gradient of Σ fn(x)·w against central differences and asserts a tolerance.
 *
 * Inputs are chosen away from kinks (relu/abs at 0, ties in max/sort, integer boundaries of
 * floor/remainder, bilinear sampling on pixel centres), where a finite difference is meaningless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, cat, eye, grad, linalg, liveTensors, manualSeed, rand, randn, randperm, scope, stack, tensor, where } from '../src/engine/index.js';
import * as F from '../src/nn/functional.js';
import { gradcheck, type GradcheckOptions } from './gradcheck.js';

// ---- inputs ----
const D = 'float64' as const;
/** Standard normal. */
const r = (shape: number[]): Tensor => randn(shape, D);
/** Uniform on [lo, hi). */
const u = (shape: number[], lo: number, hi: number): Tensor => scope(() => rand(shape, D).mul(hi - lo).add(lo));
/** Positive, in [0.5, 2). */
const pos = (shape: number[]): Tensor => u(shape, 0.5, 2);
/** |x| in [0.2, 1.5) with a random sign: away from 0. */
const away = (shape: number[]): Tensor => scope(() => u(shape, 0.2, 1.5).mul(rand(shape, D).lt(0.5).double().mul(2).sub(1)));
/** Distinct values 0.3 apart in random order (no ties for max, sort, pooling…), centred near 0. */
const distinct = (shape: number[]): Tensor =>
  scope(() => {
    const n = shape.reduce((a, b) => a * b, 1);
    return randperm(n).double().mul(0.3).sub(0.15 * n).add(u([n], 0, 0.05)).reshape(shape);
  });
/** Fractional part in [0.2, 0.4): away from integers and halves (floor, ceil, round). */
const nonInteger = (shape: number[]): Tensor => scope(() => randn(shape, D).mul(3).floor().add(u(shape, 0.2, 0.4)));
const long = (values: number[], shape?: number[]): Tensor => tensor(values, shape ?? [values.length], 'int64');
const bool = (values: number[], shape: number[]): Tensor => tensor(values, shape, 'bool');
const f64 = (values: number[], shape?: number[]): Tensor => tensor(Float64Array.from(values), shape ?? [values.length]);

type Fn = (...x: Tensor[]) => Tensor;
interface Case {
  name: string;
  build: () => [Fn, Tensor[]];
  opts?: GradcheckOptions;
}
const c = (name: string, build: () => [Fn, Tensor[]], opts?: GradcheckOptions): Case => ({ name, build, opts });

// ---- elementwise unary ----
const unary: Case[] = [
  c('neg', () => [(x) => x.neg(), [r([2, 3])]]),
  c('abs (away from 0)', () => [(x) => x.abs(), [away([2, 3])]]),
  c('exp', () => [(x) => x.exp(), [r([2, 3])]]),
  c('log', () => [(x) => x.log(), [pos([2, 3])]]),
  c('sqrt', () => [(x) => x.sqrt(), [pos([2, 3])]]),
  c('rsqrt', () => [(x) => x.rsqrt(), [pos([2, 3])]]),
  c('sin', () => [(x) => x.sin(), [r([2, 3])]]),
  c('cos', () => [(x) => x.cos(), [r([2, 3])]]),
  c('tanh', () => [(x) => x.tanh(), [r([2, 3])]]),
  c('sigmoid', () => [(x) => x.sigmoid(), [r([2, 3])]]),
  c('relu (away from 0)', () => [(x) => x.relu(), [away([2, 3])]]),
  c('sign (zero gradient)', () => [(x) => x.sign().mul(x), [away([2, 3])]]),
  c('square', () => [(x) => x.square(), [r([2, 3])]]),
  c('reciprocal', () => [(x) => x.reciprocal(), [away([2, 3])]]),
  c('log1p', () => [(x) => x.log1p(), [pos([2, 3])]]),
  c('expm1', () => [(x) => x.expm1(), [r([2, 3])]]),
  c('floor/ceil/round (zero gradient) plus x', () => [(x) => x.floor().add(x.ceil()).add(x.round()).add(x.mul(x)), [nonInteger([2, 3])]]),
  c('erf', () => [(x) => x.erf(), [r([2, 3])]]),
  c('clamp(min, max)', () => [(x) => x.clamp(-0.5, 0.5), [f64([-1.2, -0.3, 0.1, 0.45, 0.9, -0.6])]]),
  c('clamp(min only)', () => [(x) => x.clamp(0.2), [f64([-1.2, -0.3, 0.1, 0.45, 0.9, 2])]]),
  c('clamp(max only)', () => [(x) => x.clamp(null, 0.2), [f64([-1.2, -0.3, 0.1, 0.45, 0.9, 2])]]),
  c('maskedFill', () => {
    const mask = bool([1, 0, 0, 1, 0, 1], [2, 3]);
    return [(x) => x.maskedFill(mask, 3).mul(x), [r([2, 3])]];
  }),
  c('clone, contiguous, detach-free identity', () => [(x) => x.t().contiguous().clone().mul(2), [r([2, 3])]]),
];

// ---- activations ----
const activations: Case[] = [
  c('F.relu', () => [(x) => F.relu(x), [away([3, 4])]]),
  c('F.leakyRelu(0.1)', () => [(x) => F.leakyRelu(x, 0.1), [away([3, 4])]]),
  c('F.softplus(beta 2)', () => [(x) => F.softplus(x, 2), [r([3, 4])]]),
  c('F.softplus(beta 0.5, threshold 3) both sides of the threshold', () => [(x) => F.softplus(x, 0.5, 3), [f64([-4, -1, 0.5, 2, 5, 9, 14, -8])]]),
  c('F.sigmoid', () => [(x) => F.sigmoid(x), [r([3, 4])]]),
  c('F.tanh', () => [(x) => F.tanh(x), [r([3, 4])]]),
  c('F.softmax(dim 1)', () => [(x) => F.softmax(x, 1), [r([3, 4])]]),
  c('F.softmax(dim 0)', () => [(x) => F.softmax(x, 0), [r([3, 4])]]),
  c('F.logSoftmax(dim -1)', () => [(x) => F.logSoftmax(x, -1), [r([3, 4])]]),
  c('F.elu(alpha 1.3)', () => [(x) => F.elu(x, 1.3), [away([3, 4])]]),
  c('F.gelu', () => [(x) => F.gelu(x), [r([3, 4])]]),
];

// ---- elementwise binary (with broadcasting) and scalar variants ----
/** a, b with a/b ∈ n + [0.3, 0.7): away from the jumps of remainder. */
function remainderPair(): Tensor[] {
  return scope(() => {
    const b = u([2, 3], 1.5, 2);
    const n = randn([2, 3], D).mul(1.5).round();
    return [n.add(u([2, 3], 0.3, 0.7)).mul(b), b];
  });
}
const binary: Case[] = [
  c('add [2,3]+[3]', () => [(a, b) => a.add(b), [r([2, 3]), r([3])]]),
  c('add [2,1]+[1,3]', () => [(a, b) => a.add(b), [r([2, 1]), r([1, 3])]]),
  c('sub [2,3]-[2,1]', () => [(a, b) => a.sub(b), [r([2, 3]), r([2, 1])]]),
  c('mul [2,3]*[2,3]', () => [(a, b) => a.mul(b), [r([2, 3]), r([2, 3])]]),
  c('mul [4,1,3]*[2,1] (3-d broadcast)', () => [(a, b) => a.mul(b), [r([4, 1, 3]), r([2, 1])]]),
  c('mul by a 0-d tensor', () => [(a, b) => a.mul(b), [r([2, 3]), r([])]]),
  c('div [2,3]/[1,3]', () => [(a, b) => a.div(b), [r([2, 3]), away([1, 3])]]),
  c('pow tensor^tensor', () => [(a, b) => a.pow(b), [pos([2, 3]), r([2, 3])]]),
  c('pow [2,3]^[3]', () => [(a, b) => a.pow(b), [pos([2, 3]), r([3])]]),
  c('maximum', () => {
    const a = r([2, 3]);
    return [(x, y) => x.maximum(y), [a, scope(() => a.add(away([2, 3])))]];
  }),
  c('minimum (broadcast)', () => [(x, y) => x.minimum(y), [f64([0.1, -1, 2, 0.7, -0.4, 1.3], [2, 3]), f64([0.5, 0, 1])]]),
  c('remainder tensor', () => [(a, b) => a.remainder(b), remainderPair()]),
  c('atan2', () => [(a, b) => a.atan2(b), [r([2, 3]), away([2, 3])]]),
  c('add scalar', () => [(a) => a.add(2.5), [r([2, 3])]]),
  c('sub scalar', () => [(a) => a.sub(1.5), [r([2, 3])]]),
  c('mul scalar', () => [(a) => a.mul(-3), [r([2, 3])]]),
  c('div scalar', () => [(a) => a.div(4), [r([2, 3])]]),
  c('pow scalar 3 (integer)', () => [(a) => a.pow(3), [r([2, 3])]]),
  c('pow scalar 2.5', () => [(a) => a.pow(2.5), [pos([2, 3])]]),
  c('pow scalar -1.5', () => [(a) => a.pow(-1.5), [pos([2, 3])]]),
  c('remainder scalar', () => [(a) => a.remainder(1.7), [f64([0.5, 2.0, -0.4, 4.0, -2.9, 1.2])]]),
  c('rsub scalar', () => [(a) => a.rsub(2).mul(a), [r([2, 3])]]),
  c('rdiv scalar', () => [(a) => a.rdiv(3), [away([2, 3])]]),
];

// ---- matrix products ----
const products: Case[] = [
  c('matmul 2-d', () => [(a, b) => a.matmul(b), [r([2, 3]), r([3, 4])]]),
  c('matmul batched broadcast [2,3,4]@[4,2]', () => [(a, b) => a.matmul(b), [r([2, 3, 4]), r([4, 2])]]),
  c('matmul vector@matrix', () => [(a, b) => a.matmul(b), [r([4]), r([4, 3])]]),
  c('matmul matrix@vector', () => [(a, b) => a.matmul(b), [r([3, 4]), r([4])]]),
  c('matmul vector@vector', () => [(a, b) => a.matmul(b), [r([5]), r([5])]]),
  c('mm', () => [(a, b) => a.mm(b), [r([3, 2]), r([2, 4])]]),
  c('bmm', () => [(a, b) => a.bmm(b), [r([2, 2, 3]), r([2, 3, 2])]]),
  c('outer', () => [(a, b) => a.outer(b), [r([3]), r([4])]]),
];

// ---- reductions ----
const reductions: Case[] = [
  c('sum (all)', () => [(x) => x.sum(), [r([2, 3, 2])]]),
  c('sum dims [0,2] keepdim', () => [(x) => x.sum([0, 2], true), [r([2, 3, 2])]]),
  c('mean (all)', () => [(x) => x.mean(), [r([2, 3, 2])]]),
  c('mean dim 1', () => [(x) => x.mean(1), [r([2, 3, 2])]]),
  c('var dim 1 (Bessel)', () => [(x) => x.var(1), [r([3, 4])]]),
  c('var (all, correction 0)', () => [(x) => x.var(undefined, { correction: 0 }), [r([3, 4])]]),
  c('std (all)', () => [(x) => x.std(), [r([3, 4])]]),
  c('std dim 0 keepdim, correction 0', () => [(x) => x.std(0, { correction: 0, keepdim: true }), [r([3, 4])]]),
  c('norm 2 (all)', () => [(x) => x.norm(), [r([3, 4])]]),
  c('norm 1 dim 1', () => [(x) => x.norm(1, 1), [away([3, 4])]]),
  c('norm 3 dim 0 keepdim', () => [(x) => x.norm(3, 0, true), [away([3, 4])]]),
  c('norm inf', () => [(x) => x.norm(Infinity, 1), [distinct([3, 4])]]),
  c('amax dim 1', () => [(x) => x.amax(1), [distinct([3, 4])]]),
  c('amax (all)', () => [(x) => x.amax(), [distinct([3, 4])]]),
  c('amin dims [0,2]', () => [(x) => x.amin([0, 2]), [distinct([2, 3, 2])]]),
  c('logsumexp dim 1', () => [(x) => x.logsumexp(1), [r([3, 4])]]),
  c('logsumexp dims [0,1] keepdim', () => [(x) => x.logsumexp([0, 1], true), [r([3, 4])]]),
  c('max(dim).values', () => [(x) => x.max(1).values, [distinct([3, 4])]]),
  c('max(dim, keepdim).values', () => [(x) => x.max(0, true).values, [distinct([3, 4])]]),
  c('min(dim).values', () => [(x) => x.min(1).values, [distinct([3, 4])]]),
  c('prod (all)', () => [(x) => x.prod(), [away([2, 3])]]),
  c('prod dim 1 keepdim', () => [(x) => x.prod(1, true), [away([3, 4])]]),
  c('cumsum dim 1', () => [(x) => x.cumsum(1), [r([3, 4])]]),
  c('cumsum dim 0', () => [(x) => x.cumsum(0), [r([3, 4])]]),
  c('sort values ascending', () => [(x) => x.sort(1).values, [distinct([3, 4])]]),
  c('sort values descending dim 0', () => [(x) => x.sort(0, true).values, [distinct([3, 4])]]),
  c('topk values', () => [(x) => x.topk(2, 1).values, [distinct([3, 5])]]),
  c('topk smallest', () => [(x) => x.topk(2, 0, false).values, [distinct([4, 3])]]),
  c('quantile dim 1 (linear)', () => {
    const q = f64([0.1, 0.5, 0.8]);
    return [(x) => x.quantile(q, 1), [distinct([3, 6])]];
  }),
  c('quantile (all, midpoint)', () => {
    const q = f64([0.3, 0.75]);
    return [(x) => x.quantile(q, undefined, false, 'midpoint'), [distinct([3, 5])]];
  }),
];

// ---- shape and indexing ----
const shapes: Case[] = [
  c('reshape', () => [(x) => x.reshape([3, 2, 2]).mul(x.reshape([3, 4]).reshape([3, 2, 2])), [r([2, 6])]]),
  c('view', () => [(x) => x.view([4, 3]).square(), [r([2, 6])]]),
  c('transpose', () => {
    const m = r([2, 2]);
    return [(x) => x.transpose(0, 2).matmul(m), [r([2, 3, 2])]];
  }),
  c('t', () => [(x) => x.t().square(), [r([2, 3])]]),
  c('permute', () => [(x) => x.permute([2, 0, 1]).square(), [r([2, 3, 2])]]),
  c('narrow', () => [(x) => x.narrow(1, 1, 2).square(), [r([3, 4])]]),
  c('slice with step 2', () => [(x) => x.slice(1, 0, 5, 2).square(), [r([2, 5])]]),
  c('slice with step 3 and open end', () => [(x) => x.slice(0, 1, undefined, 3).square(), [r([8, 2])]]),
  c('select', () => [(x) => x.select(1, 2).square(), [r([3, 4])]]),
  c('select negative index', () => [(x) => x.select(0, -1).square(), [r([3, 4])]]),
  c('indexSelect with repeats', () => {
    const idx = long([2, 0, 2, 3]);
    return [(x) => x.indexSelect(1, idx).square(), [r([3, 4])]];
  }),
  c('gather', () => {
    const idx = long([0, 2, 2, 1, 1, 0, 3, 3, 0], [3, 3]);
    return [(x) => x.gather(1, idx).square(), [r([3, 4])]];
  }),
  c('scatter (src and self)', () => {
    const idx = long([1, 3, 0, 2, 0, 1], [3, 2]);
    return [(self, src) => self.scatter(1, idx, src).square(), [r([3, 4]), r([3, 2])]];
  }),
  c('scatterAdd with duplicates', () => {
    const idx = long([1, 1, 0, 2, 2, 2], [3, 2]);
    return [(self, src) => self.scatterAdd(1, idx, src).square(), [r([3, 4]), r([3, 2])]];
  }),
  c('squeeze (all)', () => [(x) => x.squeeze().square(), [r([3, 1, 2, 1])]]),
  c('squeeze dim', () => [(x) => x.squeeze(1).square(), [r([3, 1, 2, 1])]]),
  c('unsqueeze', () => {
    const m = r([3, 2, 4]);
    return [(x) => x.unsqueeze(1).mul(m), [r([3, 4])]];
  }),
  c('flatten', () => [(x) => x.flatten(1).square(), [r([2, 3, 2])]]),
  c('flatten middle dims', () => {
    const m = r([2, 3]);
    return [(x) => x.flatten(0, 1).matmul(m), [r([2, 3, 2])]];
  }),
  c('expand', () => {
    const m = r([3, 2, 4]);
    return [(x) => x.expand([3, 2, 4]).mul(m), [r([2, 1])]];
  }),
  c('repeat', () => {
    const m = r([4, 6]);
    return [(x) => x.repeat([2, 3]).mul(m), [r([2, 2])]];
  }),
  c('flip', () => {
    const m = r([3, 4]);
    return [(x) => x.flip([0, 1]).mul(m), [r([3, 4])]];
  }),
  c('cat dim 1', () => [(a, b) => cat([a, b], 1).square(), [r([2, 3]), r([2, 2])]]),
  c('cat dim 0 (three inputs)', () => [(a, b, d) => cat([a, b, d]).square(), [r([1, 3]), r([2, 3]), r([1, 3])]]),
  c('stack dim 1', () => [(a, b) => stack([a, b], 1).square(), [r([2, 3]), r([2, 3])]]),
  c('where (broadcast)', () => {
    const cond = bool([1, 0, 1, 0, 0, 1], [2, 3]);
    return [(a, b) => where(cond, a, b).square(), [r([2, 3]), r([3])]];
  }),
  c('tril', () => [(x) => x.tril().square(), [r([3, 3])]]),
  c('tril(-1)', () => [(x) => x.tril(-1).square(), [r([3, 4])]]),
  c('triu(1)', () => [(x) => x.triu(1).square(), [r([4, 3])]]),
  c('diagonal', () => [(x) => x.diagonal().square(), [r([3, 3])]]),
  c('diagonal offset 1 over dims 1,2', () => [(x) => x.diagonal(1, 1, 2).square(), [r([2, 3, 4])]]),
  c('diag of a matrix and of a vector', () => [(x) => x.diag().diag(1).square(), [r([3, 3])]]),
  c('split', () => [(x) => {
    const [a, b] = x.split([1, 2], 1);
    return a.mul(b.sum(1, true));
  }, [r([3, 3])]]),
  c('maskedSelect', () => {
    const mask = bool([1, 0, 0, 1, 1, 0], [2, 3]);
    return [(x) => x.maskedSelect(mask).square(), [r([2, 3])]];
  }),
];

// ---- layers ----
const layers: Case[] = [
  c('linear with bias', () => [(x, w, b) => F.linear(x, w, b), [r([2, 3]), r([4, 3]), r([4])]]),
  c('linear without bias, 3-d input', () => [(x, w) => F.linear(x, w), [r([2, 2, 3]), r([2, 3])]]),
  c('conv2d stride 2 padding 1', () => [(x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [r([1, 2, 4, 4]), r([3, 2, 2, 2]), r([3])]]),
  c('conv2d groups 2, dilation 2', () => [(x, w) => F.conv2d(x, w, null, { groups: 2, dilation: 2, padding: [1, 0] }), [r([2, 4, 4, 3]), r([2, 2, 2, 2])]]),
  c('conv3d stride 2 padding 1', () => [(x, w, b) => F.conv3d(x, w, b, { stride: 2, padding: 1 }), [r([1, 1, 3, 3, 3]), r([2, 1, 2, 2, 2]), r([2])]]),
  c('conv3d groups 2', () => [(x, w) => F.conv3d(x, w, null, { groups: 2 }), [r([1, 2, 3, 2, 2]), r([2, 1, 2, 2, 1])]]),
  c('convTranspose2d stride 2 padding 1 outputPadding 1', () => [
    (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
    [r([1, 2, 3, 3]), r([2, 3, 3, 3]), r([3])],
  ]),
  c('convTranspose2d groups 2', () => [(x, w) => F.convTranspose2d(x, w, null, { groups: 2 }), [r([1, 4, 2, 2]), r([4, 1, 2, 2])]]),
  c('convTranspose3d stride 2', () => [(x, w, b) => F.convTranspose3d(x, w, b, { stride: 2 }), [r([1, 2, 2, 2, 2]), r([2, 1, 2, 2, 2]), r([1])]]),
  c('maxPool2d 2x2', () => [(x) => F.maxPool2d(x, 2), [distinct([1, 2, 4, 4])]]),
  c('maxPool2d kernel 3 stride 2 padding 1', () => [(x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }), [distinct([1, 1, 5, 5])]]),
  c('maxPool3d', () => [(x) => F.maxPool3d(x, 2, { stride: 1 }), [distinct([1, 1, 3, 3, 3])]]),
  c('avgPool2d padding 1, countIncludePad false', () => [(x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), [r([1, 2, 4, 4])]]),
  c('avgPool2d ceilMode', () => [(x) => F.avgPool2d(x, 2, { ceilMode: true }), [r([1, 1, 5, 5])]]),
  c('avgPool3d', () => [(x) => F.avgPool3d(x, 2, { stride: 1 }), [r([1, 1, 3, 3, 3])]]),
  c('adaptiveAvgPool2d 5x5 → 3x2', () => [(x) => F.adaptiveAvgPool2d(x, [3, 2]), [r([1, 2, 5, 5])]]),
  c('adaptiveAvgPool3d → 2', () => [(x) => F.adaptiveAvgPool3d(x, 2), [r([1, 1, 3, 3, 3])]]),
  c('batchNorm training (weight, bias; running stats updated)', () => {
    const runningMean = tensor(new Float64Array(3), [3]);
    const runningVar = tensor(new Float64Array([1, 1, 1]), [3]);
    return [
      (x, weight, bias) => F.batchNorm(x, true, { weight, bias, runningMean, runningVar }),
      [r([4, 3, 2]), r([3]), r([3])],
    ];
  }),
  c('batchNorm training, no affine, 4-d', () => [(x) => F.batchNorm(x, true, { eps: 1e-3 }), [r([3, 2, 2, 2])]]),
  c('batchNorm eval (running stats)', () => {
    const runningMean = r([3]);
    const runningVar = pos([3]);
    return [(x, weight, bias) => F.batchNorm(x, false, { weight, bias, runningMean, runningVar }), [r([4, 3]), r([3]), r([3])]];
  }),
  c('instanceNorm with weight and bias', () => [(x, weight, bias) => F.instanceNorm(x, { weight, bias }), [r([2, 2, 3, 2]), r([2]), r([2])]]),
  c('groupNorm', () => [(x, weight, bias) => F.groupNorm(x, 2, { weight, bias }), [r([2, 4, 3]), r([4]), r([4])]]),
  c('layerNorm', () => [(x, weight, bias) => F.layerNorm(x, [2, 3], { weight, bias }), [r([3, 2, 3]), r([2, 3]), r([2, 3])]]),
  c('layerNorm without affine', () => [(x) => F.layerNorm(x, [4]), [r([3, 4])]]),
  c('pad (constant, two dims)', () => [(x) => F.pad(x, [1, 2, 0, 1], 0.5).square(), [r([2, 3])]]),
  c('pad (negative crops)', () => [(x) => F.pad(x, [-1, 1]).square(), [r([2, 4])]]),
];

// ---- losses ----
const losses: Case[] = [
  c('crossEntropy mean', () => {
    const y = long([0, 2, 1, 2]);
    return [(x) => F.crossEntropy(x, y), [r([4, 3])]];
  }),
  c('crossEntropy sum with labelSmoothing 0.1', () => {
    const y = long([0, 2, 1, 2]);
    return [(x) => F.crossEntropy(x, y, 'sum', 0.1), [r([4, 3])]];
  }),
  c('crossEntropy none, 3-d logits', () => {
    const y = long([0, 2, 1, 1], [2, 2]);
    return [(x) => F.crossEntropy(x, y, 'none'), [r([2, 3, 2])]];
  }),
  c('nllLoss of logSoftmax', () => {
    const y = long([1, 0, 3]);
    return [(x) => F.nllLoss(F.logSoftmax(x, 1), y), [r([3, 4])]];
  }),
  c('nllLoss sum', () => {
    const y = long([1, 0, 3]);
    return [(x) => F.nllLoss(x, y, 'sum'), [r([3, 4])]];
  }),
  c('mseLoss mean (input and target)', () => [(a, b) => F.mseLoss(a, b), [r([3, 2]), r([3, 2])]]),
  c('mseLoss none', () => [(a, b) => F.mseLoss(a, b, 'none'), [r([3, 2]), r([3, 2])]]),
  c('binaryCrossEntropy', () => {
    const t = f64([0, 1, 0.3, 1, 0, 0.8]);
    return [(p) => F.binaryCrossEntropy(p, t), [u([6], 0.1, 0.9)]];
  }),
  c('binaryCrossEntropy sum', () => {
    const t = f64([0, 1, 0.3, 1, 0, 0.8]);
    return [(p) => F.binaryCrossEntropy(p, t, 'sum'), [u([6], 0.1, 0.9)]];
  }),
  c('binaryCrossEntropyWithLogits (logits and target)', () => [(x, t) => F.binaryCrossEntropyWithLogits(x, t), [r([2, 3]), u([2, 3], 0, 1)]]),
];

// ---- spatial sampling ----
/** A theta near identity, offset so that sample points avoid pixel centres (where bilinear kinks). */
const theta2d = (): Tensor => scope(() => f64([0.9, 0.15, 0.07, -0.12, 1.1, -0.05]).reshape([1, 2, 3]).add(u([1, 2, 3], -0.05, 0.05)));
const sampling: Case[] = [
  c('gridSample ∘ affineGrid: theta gradient', () => {
    const x = r([1, 2, 4, 4]);
    return [(theta) => F.gridSample(x, F.affineGrid(theta, [1, 2, 3, 3])), [theta2d()]];
  }),
  c('gridSample ∘ affineGrid (alignCorners, border): theta and image gradient', () => [
    (x, theta) => F.gridSample(x, F.affineGrid(theta, [1, 1, 3, 3], true), { alignCorners: true, padding: 'border' }),
    [r([1, 1, 3, 3]), theta2d()],
  ]),
  c('gridSample 3-d (trilinear) ∘ affineGrid', () => {
    const x = r([1, 1, 3, 3, 3]);
    const base = f64([1, 0.1, 0, 0.05, -0.1, 0.95, 0.1, -0.07, 0.05, 0, 1.05, 0.11], [1, 3, 4]);
    return [(theta) => F.gridSample(x, F.affineGrid(theta, [1, 1, 2, 2, 2])), [scope(() => base.add(u([1, 3, 4], -0.03, 0.03)))]];
  }),
  c('gridSample grid gradient (reflection)', () => [(x, g) => F.gridSample(x, g, { padding: 'reflection' }), [r([1, 1, 3, 3]), u([1, 2, 2, 2], -1.3, 1.3)]]),
  c('upsampleTrilinear', () => [(x) => F.upsampleTrilinear(x, [3, 3, 4]), [r([1, 2, 2, 2, 2])]]),
  c('upsampleTrilinear alignCorners', () => [(x) => F.upsampleTrilinear(x, [3, 2, 3], true), [r([1, 1, 2, 2, 2])]]),
];

// ---- linear algebra ----
/** A well-conditioned square matrix (random plus 3·I). */
const wellConditioned = (n: number): Tensor => scope(() => r([n, n]).add(eye(n, D).mul(3)));
const linalgCases: Case[] = [
  c('eigvalsh of a symmetric input', () => [(a) => linalg.eigvalsh(a.add(a.t())), [r([3, 3])]]),
  c('eigh eigenvalues', () => [(a) => linalg.eigh(a.add(a.t())).values, [r([3, 3])]]),
  c('svdvals', () => [(a) => linalg.svdvals(a), [r([3, 2])]]),
  c('svd singular values and U·S·Vh', () => [(a) => {
    const { U, S, Vh } = linalg.svd(a);
    return U.mul(S).matmul(Vh).add(S.sum());
  }, [r([2, 3])]]),
  c('solve', () => [(a, b) => linalg.solve(a, b), [wellConditioned(3), r([3, 2])]]),
  c('inv', () => [(a) => linalg.inv(a), [wellConditioned(3)]]),
  c('det', () => [(a) => linalg.det(a), [r([3, 3])]]),
  c('cholesky of an SPD input', () => [(a) => linalg.cholesky(a.matmul(a.t()).add(eye(3, D))), [r([3, 3])]]),
  c('matrixNorm fro', () => [(a) => linalg.matrixNorm(a, 'fro'), [r([3, 4])]]),
  c('matrixNorm 2', () => [(a) => linalg.matrixNorm(a, 2), [r([3, 4])]]),
  c('matrixNorm nuc', () => [(a) => linalg.matrixNorm(a, 'nuc'), [r([3, 2])]]),
  c('qr reconstruction and R', () => [(a) => {
    const { Q, R } = linalg.qr(a);
    return Q.matmul(R).add(R.square().sum());
  }, [r([3, 3])]]),
];

// ---- second order: a Hessian-vector product through createGraph ----
const secondOrder: Case[] = [
  c('second order: ∂/∂θ of (∂loss/∂W1 · w) for a tanh MLP', () => {
    const x = r([4, 3]);
    const y = long([0, 1, 1, 0]);
    const fn: Fn = (w1, b1, w2) => {
      const h = F.linear(x, w1, b1).tanh();
      const loss = F.crossEntropy(F.linear(h, w2), y);
      const [g1] = grad(loss, [w1], { createGraph: true });
      return g1!;
    };
    return [fn, [r([5, 3]), r([5]), r([2, 5])]];
  }),
  c('second order: gradient of a gradient norm (softplus MLP)', () => {
    const x = r([3, 2]);
    const fn: Fn = (w1, w2) => {
      const out = F.linear(F.softplus(F.linear(x, w1), 2), w2).square().sum();
      const gs = grad(out, [w1, w2], { createGraph: true }) as Tensor[];
      return gs[0].square().sum().add(gs[1].square().sum());
    };
    return [fn, [r([4, 2]), r([1, 4])]];
  }),
];

const groups: [string, Case[]][] = [
  ['unary', unary],
  ['activation', activations],
  ['binary', binary],
  ['product', products],
  ['reduction', reductions],
  ['shape', shapes],
  ['layer', layers],
  ['loss', losses],
  ['sampling', sampling],
  ['linalg', linalgCases],
  ['second-order', secondOrder],
];

for (const [group, cases] of groups) {
  for (const { name, build, opts } of cases) {
    test(`gradcheck ${group}: ${name}`, () => {
      const before = liveTensors();
      const err = scope(() => {
        manualSeed(1234);
        const [fn, inputs] = build();
        return gradcheck(fn, inputs, { name, ...opts });
      });
      assert.ok(Number.isFinite(err), `${name}: error ${err}`);
      if (process.env.GRADCHECK_VERBOSE) console.log(`${name}: max error ${err.toExponential(2)}`);
      assert.equal(liveTensors(), before, `${name}: leaked tensors`);
    });
  }
}

test('gradcheck itself catches a wrong gradient', () => {
  // x·detach(x) has true derivative 2x but autograd sees only x: the checker must object.
  assert.throws(
    () => scope(() => gradcheck((x) => x.mul(x.detach()), [f64([0.5, -1, 2])])),
    /analytic .* vs finite difference/,
  );
});

test('gradcheck returns a small error for a correct gradient and respects tolerances', () => {
  const err = scope(() => gradcheck((x) => x.exp().sum(), [f64([0.1, 0.2, -0.3])]));
  assert.ok(err < 1e-8, `error ${err}`);
  // With an absurdly tight tolerance the finite-difference noise is enough to fail.
  assert.throws(() => scope(() => gradcheck((x) => x.exp().mul(1e6), [f64([1, 2, 3])], { atol: 0, rtol: 1e-15 })));
});
