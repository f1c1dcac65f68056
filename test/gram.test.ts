/**
 * Gram/NTK matrices (src/measures/gram.ts) and their infinite-width limits (src/measures/ntk-limit.ts):
 * - the empirical Gram of each layer equals the one built from finite-difference Jacobians (float64,
 *   every parameter element, every output) on tiny mlp and resmlp networks; the layers sum to the NTK;
 * - against per-sample Jacobians in PyTorch (functorch vmap(jacrev), bench/gram_torch.py) on the same
 *   weights saved as safetensors;
 * - H^∞ and K^(H) (fully connected and ResNet, ReLU and softplus) within 3 standard errors of
 *   Monte-Carlo means over independently initialised wide networks, each measured by empiricalGram;
 * - closed forms: the quadrature against E[erf(u)erf(v)] = (2/π) asin(2c/√((1+2a)(1+2b))), the
 *   fully-connected K^(1) = 2·H^∞ for ReLU, the diagonal kept at 1 by c_σ on unit inputs;
 * - spectrum, drift, weight movement and activation-pattern change on cases with known answers; bad input.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, liveTensors, manualSeed, noGrad, randn, scope, tensor, type Tensor } from '../src/engine/index.js';
import { Module } from '../src/nn/module.js';
import { activate } from '../src/nn/layers.js';
import { linear } from '../src/nn/functional.js';
import { cSigma } from '../src/nn/c-sigma.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { InputError } from '../src/errors.js';
import { activationPatternChange, empiricalGram, gramSpectrum, linearLayers, maxRowMovement, relativeDrift } from '../src/measures/gram.js';
import { hInfinity, limitingGram, pairExpectation, type LimitActivation } from '../src/measures/ntk-limit.js';
import { runPython } from '../bench/python.js';
import { maxRelative } from './round-off.js';

/** n seeded unit vectors in d dimensions, float64. */
function sphere(n: number, d: number, seed: number): Tensor {
  manualSeed(seed);
  return scope(() => {
    const x = randn([n, d], 'float64');
    return x.div(x.norm(2, 1, true));
  });
}

const values = (t: Tensor): Float64Array => t.toArray() as Float64Array;

/** The Gram of every layer from central differences of all outputs on every parameter element. */
function finiteDifferenceGrams(model: Module, x: Tensor, eps = 1e-6): Map<string, Float64Array> {
  const n = x.size(0);
  const out = (): Float64Array => noGrad(() => scope(() => values(model.forward(x).flatten(1))));
  const k = out().length / n;
  const grams = new Map<string, Float64Array>();
  for (const [name, p] of model.namedParameters()) {
    const layer = name.replace(/\.(weight|bias)$/, '');
    const g = grams.get(layer) ?? new Float64Array(n * n);
    for (let e = 0; e < p.numel; e++) {
      const step = (delta: number) =>
        noGrad(() =>
          scope(() => {
            const d = new Float64Array(p.numel);
            d[e] = delta;
            p.add_(tensor(d, p.shape, 'float64'));
          })
        );
      step(eps);
      const plus = out();
      step(-2 * eps);
      const minus = out();
      step(eps);
      const jac = plus.map((v, i) => (v - minus[i]) / (2 * eps)); // [n, k]
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let c = 0; c < k; c++) g[i * n + j] += jac[i * k + c] * jac[j * k + c];
    }
    grams.set(layer, g);
  }
  return grams;
}

test('each layer equals the Gram of finite-difference Jacobians; the layers sum to the NTK; no tensor leaks', () => {
  for (const [spec, outputs] of [['mlp:3-4-3-2:tanh:init=ntk', 2], ['mlp:3-5-2', 2], ['resmlp:3-5-3-2:softplus', 2], ['resmlp:3-4-1-1', 1]] as const) {
    manualSeed(7);
    const model = buildModel(spec).double();
    const x = sphere(5, 3, 1).mul(1.5);
    const before = liveTensors();
    const r = empiricalGram(model, x);
    const fd = finiteDifferenceGrams(model, x);
    assert.deepEqual(r.layers.map((l) => l.name), [...fd.keys()], spec);
    assert.equal(r.outputs, outputs);
    const sum = new Float64Array(25);
    for (const { name, gram } of r.layers) {
      const err = maxRelative(values(gram), fd.get(name)!);
      assert.ok(err < 1e-7, `${spec} ${name}: relative difference ${err} from finite differences`);
      values(gram).forEach((v, i) => (sum[i] += v));
    }
    assert.ok(maxRelative(values(r.ntk), sum) < 1e-14, `${spec}: the NTK is the sum of the layers`);
    assert.ok(model.training, 'the model is back in training mode');
    dispose(r);
    assert.equal(liveTensors(), before);
    x.dispose();
    model.dispose();
  }
});

test('agrees with per-sample Jacobians in PyTorch (functorch) on the same weights, to 1e-10', async (t: TestContext) => {
  manualSeed(3);
  const model = buildModel('mlp:5-7-6-3:softplus:init=ntk').double();
  const x = sphere(9, 5, 2);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-gram-'));
  try {
    saveModel(model, join(dir, 'm.safetensors'));
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    const ref = await runPython<{ layers: string[] }>('gram_torch.py', ['--model', join(dir, 'm.safetensors'), '--input', join(dir, 'x.npy'), '--threads', '1',
      '--chunk', '4', '--out', join(dir, 'g.npy')], 'python3-torch');
    if ('error' in ref && /no (torch|functorch) module/.test(ref.error)) return t.skip(ref.error);
    assert.ok(!('error' in ref), 'error' in ref ? ref.error : '');
    const theirs = readNpy(join(dir, 'g.npy'));
    assert.deepEqual(theirs.shape, [4, 9, 9]);
    const r = empiricalGram(model, x);
    [...r.layers.map((l) => l.gram), r.ntk].forEach((g, l) => {
      const err = maxRelative(values(g), (theirs.data as Float64Array).subarray(l * 81, (l + 1) * 81));
      assert.ok(err < 1e-10, `matrix ${l}: relative difference ${err}`);
    });
    dispose(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    x.dispose();
    model.dispose();
  }
});

/** A weight matrix N(0, 1) with no bias: Du et al.'s layers (probe points as Linear's, for the Gram measure). */
class Dense extends Module {
  readonly weight: Tensor;
  constructor(out: number, inp: number) {
    super();
    this.weight = this.param('weight', randn([out, inp], 'float64'));
  }
  override probePoints(): string[] {
    return ['input', 'output'];
  }
  forward(x: Tensor): Tensor {
    return this.tap('output', linear(this.tap('input', x), this.weight));
  }
}

/** Du et al.'s two-layer ReLU net: f = (1/√m) Σ_r a_r σ(w_rᵀx), a_r = ±1 fixed (a buffer, so not trained). */
class TwoLayer extends Module {
  readonly hidden: Dense;
  readonly a: Tensor;
  constructor(d: number, readonly m: number) {
    super();
    this.hidden = this.child('hidden', new Dense(m, d));
    this.a = this.buffer('a', scope(() => randn([m, 1], 'float64').sign()));
  }
  forward(x: Tensor): Tensor {
    return this.hidden.forward(x).relu().mm(this.a).div(Math.sqrt(this.m));
  }
}

/** Du et al.'s fully-connected net: x^(h) = √(c_σ/m) σ(W^(h) x^(h−1)), h = 1…H, u = aᵀx^(H). */
class DuFC extends Module {
  readonly hidden: Dense[];
  readonly output: Dense;
  constructor(d: number, readonly m: number, depth: number, readonly act: LimitActivation) {
    super();
    this.hidden = Array.from({ length: depth }, (_, h) => this.child(`hidden.${h}`, new Dense(m, h ? m : d)));
    this.output = this.child('output', new Dense(1, m));
  }
  forward(x: Tensor): Tensor {
    const scale = Math.sqrt(cSigma(this.act) / this.m);
    return this.output.forward(this.hidden.reduce((h, layer) => activate(layer.forward(h), this.act).mul(scale), x));
  }
}

/**
 * Every entry of the mean of `draws` Gram matrices of layer `layer` (fresh networks from `build`,
 * seeds 100…) within 3 standard errors of `limit`; returns the largest |z|.
 */
function withinThreeStandardErrors(limit: Tensor, x: Tensor, draws: number, layer: string, build: () => Module): number {
  const n = x.size(0);
  const sum = new Float64Array(n * n);
  const squares = new Float64Array(n * n);
  for (let r = 0; r < draws; r++) {
    manualSeed(100 + r);
    const model = build();
    const g = empiricalGram(model, x);
    values(g.layers.find((l) => l.name === layer)!.gram).forEach((v, i) => {
      sum[i] += v;
      squares[i] += v * v;
    });
    dispose(g);
    model.dispose();
  }
  const k = values(limit);
  let worst = 0;
  for (let i = 0; i < n * n; i++) {
    const mean = sum[i] / draws;
    const se = Math.sqrt((squares[i] / draws - mean * mean) / (draws - 1));
    const z = Math.abs(mean - k[i]) / se;
    worst = Math.max(worst, z);
    assert.ok(z <= 3, `entry (${Math.floor(i / n)}, ${i % n}): Monte-Carlo ${mean} ± ${se} vs limit ${k[i]} (${z.toFixed(2)} standard errors)`);
  }
  return worst;
}

test('H^∞ of the two-layer ReLU net: within 3 standard errors of 200 networks of width 256', () => {
  const x = sphere(5, 4, 11);
  const h = hInfinity(x);
  withinThreeStandardErrors(h, x, 200, 'hidden', () => new TwoLayer(4, 256));
  // The paper's form for unit vectors, x_iᵀx_j (π − arccos(x_iᵀx_j)) / 2π; on the diagonal θ = 0 exactly
  // (arccos of a rounded 1 − 1e-16 would be 1.5e-8).
  const k = values(scope(() => x.mm(x.t())));
  values(h).forEach((v, i) => {
    const theta = i % 6 === 0 ? 0 : Math.acos(k[i]);
    assert.ok(Math.abs(v - (k[i] * (Math.PI - theta)) / (2 * Math.PI)) < 1e-15, `entry ${i}: ${v}`);
  });
  dispose([x, h]);
});

test('K^(H) fully connected, ReLU H = 3 and softplus H = 2: within 3 standard errors of 40 networks of width 1024', () => {
  const x = sphere(4, 3, 12);
  for (const [act, depth] of [['relu', 3], ['softplus', 2]] as const) {
    const k = limitingGram(x, { architecture: 'fc', depth, activation: act });
    withinThreeStandardErrors(k, x, 40, `hidden.${depth - 1}`, () => new DuFC(3, 1024, depth, act));
    k.dispose();
  }
  x.dispose();
});

test('K^(H) ResNet (resmlp), ReLU H = 3 and softplus H = 4: within 3 standard errors of 40 networks of width 1024', () => {
  const x = sphere(4, 3, 12);
  for (const [act, depth] of [['relu', 3], ['softplus', 4]] as const) {
    const k = limitingGram(x, { architecture: 'resnet', depth, activation: act, cRes: 0.5 });
    withinThreeStandardErrors(k, x, 40, `blocks.${depth - 2}`, () => buildModel(`resmlp:3-1024-${depth}-1:${act}:cres=0.5`).double());
    k.dispose();
  }
  x.dispose();
});

test('closed forms: quadrature against E[erf(u)erf(v)], fc K^(1) = 2·H^∞ for ReLU, c_σ keeps the diagonal at 1', () => {
  scope(() => {
    // Variances up to 1.44: the rule's accuracy falls with the variance (module comment of ntk-limit.ts).
    const x = sphere(6, 3, 4).mul(tensor(Float64Array.from([0.3, 1, 1.2, 0.7, 1.1, 0.05]), [6, 1], 'float64'));
    const k = x.mm(x.t());
    const erf = (t: Tensor) => t.erf();
    const quad = values(pairExpectation(k, erf, erf, 64));
    const kv = values(k);
    const d = values(k.diagonal());
    quad.forEach((v, idx) => {
      const [i, j] = [Math.floor(idx / 6), idx % 6];
      const exact = (2 / Math.PI) * Math.asin((2 * kv[idx]) / Math.sqrt((1 + 2 * d[i]) * (1 + 2 * d[j])));
      assert.ok(Math.abs(v - exact) < 1e-9, `(${i}, ${j}): quadrature ${v} vs ${exact}`);
    });
    const u = sphere(7, 5, 5);
    const fc1 = values(limitingGram(u, { architecture: 'fc', depth: 1 }));
    values(hInfinity(u)).forEach((v, i) => assert.ok(Math.abs(fc1[i] - 2 * v) < 1e-14));
    for (const activation of ['relu', 'softplus', 'tanh'] as const) {
      const deep = limitingGram(u, { architecture: 'fc', depth: 4, activation });
      assert.ok(gramSpectrum(deep).lambdaMin > 0, `${activation}: K^(4) is positive definite on distinct unit points`);
      if (activation === 'tanh') continue;
      // K^(H)_ii = c_σ K^(H−1)_ii E[σ′(u)²] with K^(H−1)_ii = 1: ReLU ½, softplus E[sigmoid(z)²].
      const slope = activation === 'relu' ? 0.5 : values(pairExpectation(tensor([[1]], [1, 1], 'float64'), (t) => t.sigmoid(), (t) => t.sigmoid(), 64))[0];
      values(deep.diagonal()).forEach((v) => assert.ok(Math.abs(v - cSigma(activation) * slope) < 1e-8, `${activation}: ${v}`));
    }
  });
});

test('spectrum, drift, weight movement and activation-pattern change on known cases', () => {
  scope(() => {
    const diag = tensor(Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 0.5]), [3, 3], 'float64');
    assert.deepEqual(gramSpectrum(diag), { lambdaMin: 0.5, lambdaMax: 4, condition: 8, undefined: [] });
    // [[1, 1], [1, 1]] has eigenvalues 0 and 2; eigvalsh gives 0 up to round-off, which is reported as 0, with the reason.
    const singular = gramSpectrum(tensor([[1, 1], [1, 1]], [2, 2], 'float64'));
    assert.deepEqual([singular.lambdaMin, singular.lambdaMax, singular.condition], [0, 2, NaN]);
    assert.match(singular.undefined.join(), /^condition: λ_min .* is zero to round-off .*; the matrix is singular$/);
    // Just above the round-off level (n·ε·λ_max) λ_min is kept: diag(1, 1e-13) is merely ill-conditioned.
    const ill = gramSpectrum(tensor([1, 0, 0, 1e-13], [2, 2], 'float64'));
    assert.deepEqual([ill.lambdaMin, ill.condition, ill.undefined], [1e-13, 1e13, []]);
    assert.ok(Math.abs(relativeDrift(diag.mul(1.1), diag) - 0.1) < 1e-14);
    const w0 = tensor([[0, 0], [1, 1], [2, 2]], [3, 2], 'float64');
    assert.equal(maxRowMovement(w0.add(tensor([[3, 4], [0, 1], [0, 0]], [3, 2], 'float64')), w0), 5);

    manualSeed(2);
    const a = buildModel('mlp:3-6-1').double();
    manualSeed(2);
    const b = buildModel('mlp:3-6-1').double();
    const x = sphere(20, 3, 6);
    assert.equal(activationPatternChange(a, b, x), 0);
    // Negating unit 2's weights and bias flips its pattern on every point: 1 of 6 units.
    const [w, bias] = [b.namedParameters()[0][1], b.namedParameters()[1][1]];
    noGrad(() => {
      w.select(0, 2).mul_(-1);
      bias.select(0, 2).mul_(-1);
    });
    assert.ok(Math.abs(activationPatternChange(a, b, x) - 1 / 6) < 1e-15);
    dispose([a, b]);
  });
});

/** A layer with a 2-D weight that is not linear in it: z = x (W∘W)ᵀ. */
class Squared extends Dense {
  constructor() {
    super(2, 3);
  }
  override forward(x: Tensor): Tensor {
    return this.tap('output', linear(this.tap('input', x), this.weight.square()));
  }
}
class HoldsSquared extends Module {
  readonly inner = this.child('inner', new Squared());
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

/** A layer of the right form that does not expose its input and output to hooks. */
class Untapped extends Module {
  readonly inner = this.child('inner', new (class extends Module {
    readonly weight = this.param('weight', randn([2, 3], 'float64'));
    forward(x: Tensor): Tensor {
      return linear(x, this.weight);
    }
  })());
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

test('bad input: not 2-D, NaN, a convolution or BatchNorm parameter, a layer not linear in its weight, depth 0, unknown activation', () => {
  const throws = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof InputError && pattern.test(e.message));
  manualSeed(0);
  const model = buildModel('mlp:3-4-2').double();
  scope(() => {
    const x = sphere(5, 3, 0);
    throws(() => empiricalGram(model, x.unsqueeze(0)), /shape \[1,5,3\]; expected \[n, dims\]/);
    throws(() => empiricalGram(model, sphere(5, 4, 0)), /do not fit mlp:3-4-2/);
    const bad = values(x).slice();
    bad[2 * 3 + 1] = NaN;
    throws(() => empiricalGram(model, tensor(bad, [5, 3], 'float64')), /point 2, dimension 1 is NaN/);
    throws(() => hInfinity(tensor(bad, [5, 3], 'float64')), /NaN/);
    throws(() => linearLayers(buildModel('cnn:1x8x8-3:w=2')), /parameter 'conv1.weight' .* not the weight or bias of a Linear layer/);
    throws(() => linearLayers(buildModel('mlp:3-4-2:bn')), /parameter 'norms.0.weight'/);
    throws(() => empiricalGram(new HoldsSquared(), x), /layer 'inner' is not of the form z = s·x Wᵀ \+ t·b/);
    throws(() => linearLayers(new Untapped()), /layer 'inner' does not tap its input and output as probe points 'input' and 'output'/);
    throws(() => limitingGram(x, { architecture: 'fc', depth: 0 }), /depth 0/);
    throws(() => limitingGram(x, { architecture: 'resnet', depth: 2, activation: 'leaky_relu' as LimitActivation }), /activation 'leaky_relu'/);
    throws(() => limitingGram(x.flatten(), { architecture: 'fc', depth: 2 }), /expected \[n, dims\]/);
  });
  model.dispose();
});
