/**
 * The tensor engine: forward values against closed forms, dtypes and type promotion, broadcasting,
 * seeded determinism, libtorch errors surfacing as JS Errors, and deterministic memory (scope, keep,
 * dispose, liveTensors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, arange, cat, dispose, eye, full, grad, keep, linalg, linspace, liveTensors, manualSeed, noGrad, ones, oneHot, rand, randint, randn,
  randperm, scope, stack, tensor, where, zeros, type DType } from '../src/engine/index.js';
import * as F from '../src/nn/functional.js';
import { buildModel } from '../src/nn/models/spec.js';
import { SGD } from '../src/nn/optim/sgd.js';

const f64 = (values: number[], shape?: number[]): Tensor => tensor(Float64Array.from(values), shape ?? [values.length]);
const nums = (t: Tensor): number[] => t.toNumbers();

function close(actual: ArrayLike<number> | number[], expected: number[], tol = 1e-10, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}
/** Runs fn in a scope and checks that it leaks no tensor. */
function leakFree<T>(fn: () => T): T {
  const before = liveTensors();
  const out = scope(fn);
  assert.equal(liveTensors(), before, 'tensors leaked');
  return out;
}

// ---------------------------------------------------------------- forward values
test('eigvalsh and eigh of a known tridiagonal matrix', () =>
  leakFree(() => {
    const a = f64([2, 1, 0, 1, 2, 1, 0, 1, 2], [3, 3]);
    close(linalg.eigvalsh(a).toArray() as Float64Array, [2 - Math.SQRT2, 2, 2 + Math.SQRT2], 1e-12, 'eigvalsh');
    const { values, vectors } = linalg.eigh(a);
    // A·V = V·diag(λ) and VᵀV = I.
    close(a.matmul(vectors).toArray() as Float64Array, Array.from(vectors.mul(values).toArray() as Float64Array), 1e-12, 'A·V');
    close(vectors.t().matmul(vectors).toArray() as Float64Array, nums(eye(3, 'float64')), 1e-12, 'VᵀV');
    // Only the lower triangle is read.
    const upperJunk = f64([2, 99, -7, 1, 2, 55, 0, 1, 2], [3, 3]);
    close(linalg.eigvalsh(upperJunk).toArray() as Float64Array, [2 - Math.SQRT2, 2, 2 + Math.SQRT2], 1e-12, 'lower triangle');
  }));

test('svd reconstructs the matrix; svdvals and matrixNorm agree', () =>
  leakFree(() => {
    manualSeed(3);
    const a = randn([4, 3], 'float64');
    const { U, S, Vh } = linalg.svd(a);
    assert.deepEqual([U.shape, S.shape, Vh.shape], [[4, 3], [3], [3, 3]]);
    close(U.mul(S).matmul(Vh).toArray() as Float64Array, nums(a), 1e-12, 'U·S·Vh');
    close(U.t().matmul(U).toArray() as Float64Array, nums(eye(3, 'float64')), 1e-12, 'UᵀU');
    const s = nums(S);
    assert.ok(s[0] >= s[1] && s[1] >= s[2] && s[2] > 0, `descending: ${s}`);
    close(nums(linalg.svdvals(a)), s, 1e-12, 'svdvals');
    close([linalg.matrixNorm(a, 2).item()], [s[0]], 1e-12, 'matrixNorm 2');
    close([linalg.matrixNorm(a, -2).item()], [s[2]], 1e-12, 'matrixNorm -2');
    close([linalg.matrixNorm(a, 'nuc').item()], [s[0] + s[1] + s[2]], 1e-12, 'matrixNorm nuc');
    close([linalg.matrixNorm(a, 'fro').item()], [Math.hypot(...s)], 1e-12, 'matrixNorm fro');
    close([linalg.matrixNorm(a).item()], [Math.hypot(...nums(a))], 1e-12, 'fro = entrywise 2-norm');
    const full = linalg.svd(a, true);
    assert.deepEqual([full.U.shape, full.Vh.shape], [[4, 4], [3, 3]]);
  }));

test('lstsq solves an exact overdetermined system and reports the rank', () =>
  leakFree(() => {
    manualSeed(4);
    const a = randn([6, 3], 'float64');
    const xTrue = f64([1.5, -2, 0.25, 3, 0, -1], [3, 2]);
    const b = a.matmul(xTrue);
    const { solution, rank, singularValues } = linalg.lstsq(a, b);
    close(nums(solution), nums(xTrue), 1e-10, 'lstsq solution');
    assert.equal(rank.item(), 3);
    close(nums(singularValues), nums(linalg.svdvals(a)), 1e-10, 'singular values');
    // Rank-deficient: two equal columns, the minimum-norm solution splits the weight.
    const d = cat([a.narrow(1, 0, 1), a.narrow(1, 0, 1)], 1);
    const r = linalg.lstsq(d, a.narrow(1, 0, 1).mul(2));
    assert.equal(r.rank.item(), 1);
    close(nums(r.solution), [1, 1], 1e-8, 'minimum-norm solution');
  }));

test('solve, inv, det, cholesky and qr against closed forms', () =>
  leakFree(() => {
    const a = f64([4, 2, 2, 3], [2, 2]);
    close(nums(linalg.det(a)), [8], 1e-12, 'det');
    close(nums(linalg.inv(a)), [3 / 8, -2 / 8, -2 / 8, 4 / 8], 1e-12, 'inv');
    close(nums(linalg.solve(a, f64([2, 1], [2, 1]))), [0.5, 0], 1e-12, 'solve');
    close(nums(linalg.cholesky(a)), [2, 0, 1, Math.SQRT2], 1e-12, 'cholesky');
    const { Q, R } = linalg.qr(a);
    close(nums(Q.matmul(R)), nums(a), 1e-12, 'QR = A');
    close(nums(Q.t().matmul(Q)), [1, 0, 0, 1], 1e-12, 'QᵀQ');
    assert.equal(R.tril(-1).abs().sum().item(), 0, 'R upper triangular');
    assert.equal(linalg.matrixRank(f64([1, 2, 2, 4], [2, 2])).item(), 1);
  }));

test('quantile of 1..n under every interpolation', () =>
  leakFree(() => {
    const x = arange(1, 11, 1, 'float64'); // 1..10: position p·9
    const q = f64([0, 0.25, 0.5, 0.9, 1]);
    close(nums(x.quantile(q)), [1, 3.25, 5.5, 9.1, 10], 1e-12, 'linear');
    close(nums(x.quantile(q, 0, false, 'lower')), [1, 3, 5, 9, 10], 0, 'lower');
    close(nums(x.quantile(q, 0, false, 'higher')), [1, 4, 6, 10, 10], 0, 'higher');
    close(nums(x.quantile(q, 0, false, 'midpoint')), [1, 3.5, 5.5, 9.5, 10], 0, 'midpoint');
    close(nums(x.quantile(q, 0, false, 'nearest')), [1, 3, 5, 9, 10], 0, 'nearest');
    // Along a dim, shuffled input: quantiles do not depend on order; q leads the output shape.
    const m = f64([5, 1, 3, 2, 4, 30, 10, 20, 50, 40], [2, 5]);
    const qm = m.quantile(f64([0.5, 0.75]), 1, true);
    assert.deepEqual(qm.shape, [2, 2, 1]);
    close(nums(qm), [3, 30, 4, 40], 1e-12, 'quantile dim 1');
  }));

test('var and std: Bessel (default) vs population; dims and keepdim', () =>
  leakFree(() => {
    const x = f64([1, 2, 3, 4]);
    close([x.var().item()], [5 / 3], 1e-12, 'var Bessel');
    close([x.var(undefined, { correction: 0 }).item()], [1.25], 1e-12, 'var population');
    close([x.std().item()], [Math.sqrt(5 / 3)], 1e-12, 'std Bessel');
    close([x.std(0, { correction: 0 }).item()], [Math.sqrt(1.25)], 1e-12, 'std population');
    const m = f64([1, 2, 3, 4, 6, 8], [2, 3]);
    const v = m.var(1, { keepdim: true });
    assert.deepEqual(v.shape, [2, 1]);
    close(nums(v), [1, 4], 1e-12, 'var dim 1');
    close(nums(m.var(0, { correction: 0 })), [2.25, 4, 6.25], 1e-12, 'var dim 0 population');
  }));

test('reductions, softmax and losses against closed forms', () =>
  leakFree(() => {
    const x = f64([1, -2, 3, 0.5, 4, -1], [2, 3]);
    close(nums(x.sum(1)), [2, 3.5], 1e-12, 'sum');
    close(nums(x.mean(0)), [0.75, 1, 1], 1e-12, 'mean');
    close(nums(x.amax(1)), [3, 4], 0, 'amax');
    close(nums(x.amin()), [-2], 0, 'amin');
    const mx = x.max(1);
    close(nums(mx.values), [3, 4], 0, 'max values');
    assert.deepEqual(nums(mx.indices), [2, 1]);
    assert.equal(mx.indices.dtype, 'int64');
    assert.deepEqual(nums(x.argmin(1)), [1, 2]);
    close(nums(x.prod(1)), [-6, -2], 1e-12, 'prod');
    close([x.norm().item()], [Math.hypot(1, 2, 3, 0.5, 4, 1)], 1e-12, 'norm');
    close(nums(x.norm(1, 1)), [6, 5.5], 1e-12, 'norm 1');
    close(nums(x.norm(Infinity, 1)), [3, 4], 0, 'norm inf');
    close(nums(x.logsumexp(1)), [Math.log(Math.E + Math.exp(-2) + Math.exp(3)), Math.log(Math.exp(0.5) + Math.exp(4) + Math.exp(-1))], 1e-12, 'logsumexp');
    close(nums(x.cumsum(1)), [1, -1, 2, 0.5, 4.5, 3.5], 1e-12, 'cumsum');
    close(nums(x.softmax(1).sum(1)), [1, 1], 1e-12, 'softmax rows sum to 1');
    close(nums(x.logSoftmax(1).exp()), nums(x.softmax(1)), 1e-12, 'exp logSoftmax = softmax');
    const { values, indices } = x.sort(1, true);
    close(nums(values), [3, 1, -2, 4, 0.5, -1], 0, 'sort');
    assert.deepEqual(nums(indices), [2, 0, 1, 1, 0, 2]);
    close(nums(x.topk(1, 1).values), [3, 4], 0, 'topk');
    // Cross-entropy of uniform logits is log C; with label smoothing it stays log C.
    const logits = zeros([4, 5], 'float64');
    const y = tensor([0, 1, 2, 3], [4], 'int64');
    close([F.crossEntropy(logits, y).item()], [Math.log(5)], 1e-12, 'crossEntropy');
    close([F.crossEntropy(logits, y, 'mean', 0.2).item()], [Math.log(5)], 1e-12, 'crossEntropy smoothed');
    close([F.mseLoss(f64([1, 2]), f64([0, 4])).item()], [2.5], 1e-12, 'mse');
    close([F.binaryCrossEntropy(f64([0.25]), f64([1])).item()], [Math.log(4)], 1e-12, 'bce');
    close([F.binaryCrossEntropyWithLogits(f64([0]), f64([1])).item()], [Math.log(2)], 1e-12, 'bce with logits');
    assert.deepEqual(nums(oneHot(tensor([2, 0], [2], 'int64'), 3)), [0, 0, 1, 1, 0, 0]);
  }));

test('convolution and pooling against hand computations', () =>
  leakFree(() => {
    const x = arange(0, 16, 1, 'float64').reshape([1, 1, 4, 4]);
    // A 2×2 box filter with stride 2 = 4 × average pooling.
    const box = ones([1, 1, 2, 2], 'float64');
    close(nums(F.conv2d(x, box, null, { stride: 2 })), [10, 18, 42, 50], 0, 'conv2d box');
    close(nums(F.avgPool2d(x, 2)), [2.5, 4.5, 10.5, 12.5], 0, 'avgPool2d');
    close(nums(F.maxPool2d(x, 2)), [5, 7, 13, 15], 0, 'maxPool2d');
    close(nums(F.adaptiveAvgPool2d(x, 1)), [7.5], 0, 'global average');
    assert.deepEqual(F.conv2d(x, box, f64([1]), { padding: 1 }).shape, [1, 1, 5, 5]);
    assert.deepEqual(F.convTranspose2d(x, box, null, { stride: 2 }).shape, [1, 1, 8, 8]);
    close(nums(F.pad(f64([1, 2], [1, 2]), [1, 0], 9)), [9, 1, 2], 0, 'pad');
    close(nums(F.layerNorm(f64([1, 3], [1, 2]), [2], { eps: 0 })), [-1, 1], 1e-12, 'layerNorm');
  }));

// ---------------------------------------------------------------- dtypes
test('dtype round trips through tensor/toArray', () =>
  leakFree(() => {
    const f32 = Float32Array.from([1.5, -0, 3.4028234663852886e38, 1e-45, -7.25]);
    const t32 = tensor(f32);
    assert.equal(t32.dtype, 'float32');
    assert.ok(t32.toArray() instanceof Float32Array);
    assert.deepEqual(t32.toArray(), f32);
    const f64a = Float64Array.from([Math.PI, -1e300, 5e-324, 0.1]);
    const t64 = tensor(f64a);
    assert.equal(t64.dtype, 'float64');
    assert.deepEqual(t64.toArray(), f64a);
    const i64 = BigInt64Array.from([0n, -1n, 2n ** 62n + 1n, -(2n ** 63n)]);
    const ti = tensor(i64, [2, 2]);
    assert.equal(ti.dtype, 'int64');
    assert.deepEqual(ti.shape, [2, 2]);
    assert.deepEqual(ti.toArray(), i64);
    const b = tensor([[true, false, true]], undefined, 'bool');
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.shape, [1, 3]);
    assert.deepEqual(b.toArray(), Uint8Array.from([1, 0, 1]));
    // Nested numbers default to float32; dtype converts (int64 truncates toward zero).
    assert.equal(tensor([[1, 2], [3, 4]]).dtype, 'float32');
    assert.deepEqual(nums(tensor([1.7, -2.3, 3], undefined, 'int64')), [1, -2, 3]);
    assert.deepEqual(tensor([0.1], undefined, 'float64').toArray(), Float64Array.from([0.1]));
    assert.equal(tensor([0.1]).toArray()[0], Math.fround(0.1));
    // Other typed arrays become float32 values.
    const fromInt32 = tensor(Int32Array.from([1, -2]));
    assert.equal(fromInt32.dtype, 'float32');
    assert.deepEqual(nums(fromInt32), [1, -2]);
    // Scalars and empty tensors.
    const s = tensor(2.5, undefined, 'float64');
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 2.5);
    assert.equal(zeros([2, 0]).numel, 0);
    assert.equal(zeros([2, 0]).toArray().length, 0);
    // Conversions.
    assert.deepEqual(nums(f64([1.9, -1.9]).long()), [1, -1]);
    assert.deepEqual(f64([0, 2]).to('bool').toArray(), Uint8Array.from([0, 1]));
    assert.equal(tensor([1, 2], undefined, 'int64').double().dtype, 'float64');
    assert.equal(f64([1]).float().dtype, 'float32');
    for (const dt of ['float32', 'float64', 'int64', 'bool'] as DType[]) {
      assert.equal(zeros([1], dt).dtype, dt);
      assert.equal(full([2], 1, dt).dtype, dt);
    }
  }));

test('type promotion follows PyTorch', () =>
  leakFree(() => {
    const i = tensor([1, 2], undefined, 'int64');
    assert.equal(i.add(tensor([0.5, 0.5])).dtype, 'float32', 'int64 + float32');
    assert.equal(i.add(f64([0.5, 0.5])).dtype, 'float64', 'int64 + float64');
    assert.equal(i.add(0.5).dtype, 'float32', 'int64 + float scalar → default float');
    assert.deepEqual(nums(i.add(0.5)), [1.5, 2.5]);
    assert.equal(i.mul(3).dtype, 'int64', 'int64 × integer scalar stays int64');
    assert.equal(i.div(2).dtype, 'float32', 'true division');
    assert.deepEqual(nums(i.div(2)), [0.5, 1]);
    assert.equal(tensor([1], undefined, 'float32').add(f64([1])).dtype, 'float64', 'float32 + float64');
    assert.equal(f64([1, 2]).mul(2).dtype, 'float64', 'a float scalar does not demote float64');
    assert.equal(tensor([1, 0], undefined, 'bool').add(i).dtype, 'int64', 'bool + int64');
    assert.equal(i.gt(1).dtype, 'bool');
    assert.equal(randperm(4).dtype, 'int64');
    assert.equal(randint(0, 3, [2]).dtype, 'int64');
  }));

test('broadcasting shapes', () =>
  leakFree(() => {
    const shape = (a: number[], b: number[]): number[] => zeros(a).add(zeros(b)).shape;
    assert.deepEqual(shape([2, 1, 3], [4, 1]), [2, 4, 3]);
    assert.deepEqual(shape([3], []), [3]);
    assert.deepEqual(shape([5, 1], [1, 6]), [5, 6]);
    assert.deepEqual(shape([1], [2, 3, 4]), [2, 3, 4]);
    assert.deepEqual(zeros([2, 3, 4]).matmul(zeros([4, 5])).shape, [2, 3, 5]);
    assert.deepEqual(zeros([7, 1, 3, 4]).matmul(zeros([2, 4, 5])).shape, [7, 2, 3, 5]);
    assert.deepEqual(where(zeros([3, 1], 'bool'), zeros([1, 4]), zeros([])).shape, [3, 4]);
    assert.deepEqual(nums(f64([1, 2]).reshape([2, 1]).mul(f64([10, 20, 30]))), [10, 20, 30, 20, 40, 60]);
    assert.throws(() => zeros([2, 3]).add(zeros([4])), /size of tensor a \(3\) must match the size of tensor b \(4\)/);
  }));

// ---------------------------------------------------------------- determinism
function trainLosses(seed: number, steps = 15): number[] {
  return leakFree(() => {
    manualSeed(seed);
    const model = buildModel('mlp:20-32-2');
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = randn([16, 20]);
    const y = randint(0, 2, [16]);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      scope(() => {
        opt.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      });
    }
    opt.dispose();
    model.dispose();
    return losses;
  });
}

test('manualSeed makes randn, rand, randint, randperm and model init repeat exactly', () =>
  leakFree(() => {
    const draw = (): number[][] => {
      manualSeed(2024);
      return [nums(randn([5])), nums(rand([3], 'float64')), nums(randint(0, 100, [4])), nums(randperm(10))];
    };
    const a = draw();
    const b = draw();
    assert.deepEqual(a, b);
    manualSeed(2025);
    assert.notDeepEqual(nums(randn([5])), a[0]);
    assert.deepEqual([...a[3]].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'randperm is a permutation');

    const init = (spec: string): number[][] => {
      manualSeed(7);
      const m = buildModel(spec);
      const out = m.parameters().map(nums);
      m.dispose();
      return out;
    };
    for (const spec of ['mlp:20-32-2', 'cnn:1x8x8-3:w=4', 'resmlp:6-8-3-2']) {
      const p1 = init(spec);
      assert.deepEqual(init(spec), p1, spec);
      assert.ok(p1.flat().some((v) => v !== 0), `${spec} has non-zero weights`);
    }
  }));

test('manualSeed makes a short training run repeat exactly', () => {
  const a = trainLosses(11);
  const b = trainLosses(11);
  assert.deepEqual(a, b);
  assert.ok(a[a.length - 1] < a[0], `loss decreases: ${a[0]} → ${a[a.length - 1]}`);
  assert.notDeepEqual(trainLosses(12), a, 'another seed gives another run');
});

// ---------------------------------------------------------------- errors
/** fn throws a plain JS Error whose one-line message matches re; the engine keeps working afterwards. */
function throwsLibtorch(fn: () => unknown, re: RegExp): void {
  const before = liveTensors();
  assert.throws(() => scope(fn), (err: unknown) => {
    assert.ok(err instanceof Error, `not an Error: ${String(err)}`);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('Exception raised from'), `message carries a C++ backtrace: ${err.message}`);
    return true;
  });
  assert.equal(liveTensors(), before, 'a failed op leaked tensors');
  // The process survives and still computes.
  scope(() => assert.equal(ones([3]).sum().item(), 3));
}

test('errors: wrong shapes in matmul and convolution', () => {
  throwsLibtorch(() => zeros([2, 3]).matmul(zeros([2, 3])), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
  throwsLibtorch(() => zeros([2, 3]).mm(zeros([4, 2])), /cannot be multiplied/);
  throwsLibtorch(() => zeros([2, 2, 3]).bmm(zeros([3, 3, 2])), /batch1 and batch2 must have same number of batches|Expected size for first two dimensions/);
  throwsLibtorch(() => F.conv2d(zeros([1, 3, 5, 5]), zeros([4, 2, 3, 3])), /expected input\[1, 3, 5, 5\] to have 2 channels, but got 3 channels/);
  throwsLibtorch(() => F.conv2d(zeros([1, 1, 2, 2]), zeros([4, 1, 3, 3])), /Kernel size can't be greater than actual input size/);
  throwsLibtorch(() => F.linear(zeros([2, 5]), zeros([3, 4])), /cannot be multiplied/);
});

test('errors: bad dtype names', () => {
  throwsLibtorch(() => zeros([2], 'float16' as DType), /unknown dtype 'float16'/);
  throwsLibtorch(() => tensor([1, 2], undefined, 'int8' as DType), /unknown dtype|int8/);
  throwsLibtorch(() => randn([2], 'complex' as DType), /unknown dtype 'complex'/);
  throwsLibtorch(() => zeros([2]).to('int32'), /int32/);
});

test('errors: out-of-range indices', () => {
  throwsLibtorch(() => zeros([3]).indexSelect(0, tensor([5], [1], 'int64')), /index out of range/);
  throwsLibtorch(() => zeros([3]).select(0, 5), /select\(\): index 5 out of range for tensor of size \[3\] at dimension 0/);
  throwsLibtorch(() => zeros([2, 3]).gather(1, tensor([0, 5, 1, 1], [2, 2], 'int64')), /index 5 is out of bounds for dimension 1 with size 3/);
  throwsLibtorch(() => zeros([2, 3]).narrow(1, 2, 4), /start \(2\) \+ length \(4\) exceeds dimension size \(3\)/);
  throwsLibtorch(() => zeros([2, 3]).transpose(0, 5), /Dimension out of range/);
  throwsLibtorch(() => F.crossEntropy(zeros([2, 3]), tensor([0, 7], [2], 'int64')), /out of bounds|Target 7/);
});

test('errors: cat of mismatched shapes, bad reshape, non-SPD cholesky, singular solve', () => {
  throwsLibtorch(() => cat([zeros([2, 3]), zeros([2, 4])], 0), /Sizes of tensors must match except in dimension 0/);
  throwsLibtorch(() => stack([zeros([2]), zeros([3])]), /stack expects each tensor to be equal size/);
  throwsLibtorch(() => zeros([2, 3]).reshape([4]), /shape '\[4\]' is invalid for input of size 6/);
  throwsLibtorch(() => tensor([1, 2, 3], [2, 2]), /data has 3 elements but shape \[2, 2\] needs 4/);
  throwsLibtorch(() => linalg.cholesky(f64([1, 2, 2, 1], [2, 2])), /linalg.cholesky: .*not positive-definite/);
  throwsLibtorch(() => linalg.solve(zeros([2, 2], 'float64'), zeros([2, 1], 'float64')), /singular/);
  throwsLibtorch(() => linalg.eigvalsh(zeros([2, 3], 'float64')), /square matri/);
  throwsLibtorch(() => zeros([2]).item(), /a Tensor with 2 elements cannot be converted to Scalar/);
  throwsLibtorch(() => randn([2]).backward(), /does not require grad/);
});

test('errors: a disposed tensor cannot be used, and disposing twice is safe', () => {
  const t = ones([2]);
  t.dispose();
  assert.equal(t.isDisposed, true);
  t.dispose();
  throwsLibtorch(() => t.add(1), /tensor used after dispose/);
  throwsLibtorch(() => t.shape, /tensor used after dispose/);
  throwsLibtorch(() => cat([t]), /tensor used after dispose/);
  throwsLibtorch(() => t.toArray(), /tensor used after dispose/);
  assert.equal(String(t), 'Tensor(disposed)');
  // A new tensor may reuse the native slot; the old handle still refuses.
  const fresh = ones([3]);
  throwsLibtorch(() => t.sum(), /tensor used after dispose/);
  assert.equal(fresh.sum().item(), 3);
  dispose([fresh]);
});

// ---------------------------------------------------------------- memory
test('liveTensors counts every native tensor, and dispose releases it', () => {
  const before = liveTensors();
  const a = zeros([3]);
  const b = a.add(1);
  assert.equal(liveTensors(), before + 2);
  const row = b.reshape([1, 3]);
  const { values, indices } = row.max(1);
  assert.equal(liveTensors(), before + 5, 'reshape and max(dim) made three tensors');
  dispose({ a, list: [b, values], map: new Map([['i', indices]]), n: 1, s: 'x' });
  assert.equal(liveTensors(), before + 1, 'the reshape result is still alive');
  assert.ok(a.isDisposed && b.isDisposed && values.isDisposed && indices.isDisposed && !row.isDisposed);
  assert.deepEqual(nums(row), [1, 1, 1], 'a view outlives the tensor it came from');
  row.dispose();
  assert.equal(liveTensors(), before);
});

test('scope frees everything not returned; returned tensors survive', () => {
  const before = liveTensors();
  scope(() => {
    const x = randn([10, 10]);
    x.matmul(x).relu().sum();
    assert.ok(liveTensors() >= before + 4);
  });
  assert.equal(liveTensors(), before);

  const kept = scope(() => {
    const a = arange(0, 4, 1);
    return { b: a.mul(2), nested: [a.add(1), new Map([['c', a.sub(1)]])], n: 3 };
  });
  assert.equal(liveTensors(), before + 3);
  assert.deepEqual(nums(kept.b), [0, 2, 4, 6]);
  assert.deepEqual(nums(kept.nested[0] as Tensor), [1, 2, 3, 4]);
  dispose(kept);
  assert.equal(liveTensors(), before);
});

test('nested scopes: a returned tensor moves to the parent scope and dies with it', () => {
  const before = liveTensors();
  let inner: Tensor | undefined;
  let innerWhileOuterOpen = -1;
  const outerResult = scope(() => {
    inner = scope(() => {
      ones([2]).add(3);
      return ones([2]).mul(5);
    });
    innerWhileOuterOpen = inner.sum().item();
    const survivor = scope(() => scope(() => full([1], 9)));
    return survivor;
  });
  assert.equal(innerWhileOuterOpen, 10);
  assert.equal(inner!.isDisposed, true, 'the inner result was freed with the outer scope');
  assert.equal(outerResult.item(), 9, 'a result returned through two scopes survives both');
  assert.equal(liveTensors(), before + 1);
  outerResult.dispose();
  assert.equal(liveTensors(), before);
});

test('keep takes a tensor out of every open scope', () => {
  const before = liveTensors();
  let k1: Tensor | undefined;
  let k2: Tensor | undefined;
  scope(() => {
    k1 = keep(ones([2]));
    scope(() => {
      k2 = keep(full([2], 4));
      zeros([2]);
    });
    assert.equal(k2!.isDisposed, false);
  });
  assert.equal(liveTensors(), before + 2);
  assert.deepEqual(nums(k2!), [4, 4]);
  assert.deepEqual(nums(k1!), [1, 1]);
  dispose([k1, k2]);
  assert.equal(liveTensors(), before);
});

test('an exception inside scope frees its tensors and propagates', () => {
  const before = liveTensors();
  assert.throws(
    () =>
      scope(() => {
        randn([100]);
        scope(() => randn([5]).add(1));
        zeros([2, 3]).matmul(zeros([2, 3])); // libtorch throws here
      }),
    /cannot be multiplied/,
  );
  assert.equal(liveTensors(), before);
  assert.throws(() =>
    scope(() => {
      ones([3]);
      throw new RangeError('user error');
    }), RangeError);
  assert.equal(liveTensors(), before);
  // An async function is refused (its tensors would outlive the scope).
  assert.throws(() => scope((async () => ones([1])) as unknown as () => Tensor), /synchronous/);
});

test('gradients: grad(), backward(), .grad handles, noGrad and detach do not leak', () => {
  const before = liveTensors();
  scope(() => {
    const w = f64([1, 2, 3]).requiresGrad_();
    assert.ok(w.isLeaf && w.requiresGrad);
    const loss = w.square().sum();
    const [g] = grad(loss, [w], { retainGraph: true });
    assert.deepEqual(nums(g!), [2, 4, 6]);
    loss.backward();
    assert.deepEqual(nums(w.grad!), [2, 4, 6]);
    w.grad = null;
    assert.equal(w.grad, null);
    const y = noGrad(() => w.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(w.mul(2).detach().requiresGrad, false);
    const unused = f64([1]).requiresGrad_();
    assert.deepEqual(grad(w.sum(), [w, unused], { allowUnused: true }).map((t) => t === null), [false, true]);
    assert.throws(() => grad(w.sum(), [unused]), /One of the differentiated Tensors appears to not have been used in the graph/);
  });
  assert.equal(liveTensors(), before);
});

test('linspace, eye, arange and full', () =>
  leakFree(() => {
    close(nums(linspace(0, 1, 5, 'float64')), [0, 0.25, 0.5, 0.75, 1], 1e-15, 'linspace');
    assert.deepEqual(nums(eye(2)), [1, 0, 0, 1]);
    assert.deepEqual(nums(arange(2, 8, 2, 'int64')), [2, 4, 6]);
    assert.deepEqual(nums(full([2], -1.5)), [-1.5, -1.5]);
  }));
