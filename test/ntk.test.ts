/**
 * The empirical NTK by per-sample gradients (src/measures/ntk.ts):
 * - on networks of Linear layers it equals empiricalGram's NTK and per-layer Grams (src/measures/gram.ts,
 *   itself checked against finite differences and functorch), to float64 round-off, whatever the
 *   memory bound (slices ending inside a tensor, many sweeps); a parameter nothing uses adds nothing;
 * - on a small CNN it equals an independent PyTorch computation on the same weights (bench/ntk_torch.py:
 *   torch.autograd.grad per point and output, float64);
 * - on a ResNet with BatchNorm it is symmetric and positive semi-definite, the groups sum to it, and
 *   it is measured in eval mode (the caller's mode restored); no tensor leaks; bad input.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, liveTensors, manualSeed, noGrad, randn, scope, type Tensor } from '../src/engine/index.js';
import { evalMode, Module, withForwardHooks } from '../src/nn/module.js';
import type { SmallResNet } from '../src/nn/models/resnet.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { InputError } from '../src/errors.js';
import { empiricalGram, gramSpectrum, isLinearNetwork } from '../src/measures/gram.js';
import { empiricalNtk, parameterGroups } from '../src/measures/ntk.js';
import { runPython } from '../bench/python.js';
import { maxRelative, roundOff } from './round-off.js';

const values = (t: Tensor): Float64Array => t.toArray() as Float64Array;

// Both sides sum products over every parameter in different orders (per sample here, per layer in
// (X Xᵀ)∘(Δ Δᵀ) there), after backward passes through a few layers: log2(parameters) ≈ 10 ε for the
// sums, a few ε per layer for the gradients (measured: under 10 ε).
const TOLERANCE = roundOff('float64', 64);

test("on networks of Linear layers: empiricalGram's NTK and per-layer Grams, for any memory bound; no tensor leaks", () => {
  for (const spec of ['mlp:5-16-16-3:softplus', 'mlp:4-8-2:tanh:init=ntk', 'resmlp:5-12-3-2']) {
    manualSeed(11);
    const model = buildModel(spec).double();
    const x = randn([9, Number(spec.split(/[:-]/)[1])], 'float64');
    assert.ok(isLinearNetwork(model), spec);
    const ref = empiricalGram(model, x);
    const k = ref.outputs;
    // 8·n·k·37 bytes: slices of 37 parameters, so most end inside a tensor.
    for (const maxBytes of [undefined, 8 * 9 * k * 37]) {
      const before = liveTensors();
      const calls: [number, number][] = [];
      const r = empiricalNtk(model, x, { groups: true, maxBytes, onProgress: (done, total) => calls.push([done, total]) });
      assert.equal(r.outputs, k);
      assert.equal(r.sweeps, maxBytes ? Math.ceil(model.numParameters() / 37) : 1, `${spec}: sweeps`);
      assert.deepEqual(calls, Array.from({ length: 9 * r.sweeps }, (_, i) => [i + 1, 9 * r.sweeps]), 'progress after each point of each sweep');
      const err = maxRelative(values(r.ntk), values(ref.ntk));
      assert.ok(err < TOLERANCE, `${spec}, maxBytes ${maxBytes}: NTK relative difference ${err}`);
      assert.deepEqual(r.groups.map((g) => g.name), ref.layers.map((l) => l.name));
      r.groups.forEach((g, l) => {
        const e = maxRelative(values(g.gram), values(ref.layers[l].gram));
        assert.ok(e < TOLERANCE, `${spec}: group ${g.name} relative difference ${e}`);
      });
      dispose(r);
      assert.equal(liveTensors(), before, `${spec}: live tensors`);
    }
    dispose(ref);
    x.dispose();
    model.dispose();
  }
});

/** A module whose one parameter nothing uses. */
class Unused extends Module {
  constructor() {
    super();
    this.param('weight', randn([5], 'float64'));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** An MLP, then a parameter its forward pass never uses: that parameter's gradients are null, its rows of J zero. */
class WithUnused extends Module {
  readonly inner = this.child('inner', buildModel('mlp:3-4-2').double());
  readonly extra = this.child('extra', new Unused());
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

test('a parameter the output does not use adds nothing, also in a sweep after used ones (the store is reused)', () => {
  manualSeed(4);
  using model = new WithUnused();
  using x = randn([6, 3], 'float64');
  using ref = empiricalGram(model.inner, x).ntk;
  // 26 parameters in the MLP, then the 5 unused: slices of 4, so the last sweep holds only unused ones
  // where the one before held used ones.
  const r = empiricalNtk(model, x, { groups: true, maxBytes: 8 * 6 * 2 * 4 });
  assert.equal(r.sweeps, Math.ceil(31 / 4));
  assert.deepEqual(r.groups.map((g) => g.name), ['inner.layers.0', 'inner.layers.1', 'extra']);
  assert.ok(maxRelative(values(r.ntk), values(ref)) < TOLERANCE);
  assert.deepEqual([...values(r.groups[2].gram)], Array(36).fill(0));
  dispose(r);
});

test('a small CNN: the same as per-sample gradients by torch.autograd on the same weights (float64)', async (t: TestContext) => {
  manualSeed(5);
  const model = buildModel('cnn:1x8x8-3:w=4').double();
  assert.ok(!isLinearNetwork(model), 'convolutions are outside the per-layer formula');
  const x = randn([7, 1, 8, 8], 'float64');
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-ntk-'));
  try {
    saveModel(model, join(dir, 'm.safetensors'));
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    const ref = await runPython<{ groups: string[] }>('ntk_torch.py', ['--model', join(dir, 'm.safetensors'), '--input', join(dir, 'x.npy'), '--out',
      join(dir, 'g.npy')], 'python3-torch');
    if ('error' in ref && /no (torch|numpy) module|not found/.test(ref.error)) return t.skip(ref.error);
    assert.ok(!('error' in ref), 'error' in ref ? ref.error : '');
    const r = empiricalNtk(model, x, { groups: true });
    assert.deepEqual(ref.groups, r.groups.map((g) => g.name));
    assert.deepEqual(ref.groups, parameterGroups(model));
    const theirs = readNpy(join(dir, 'g.npy'));
    assert.deepEqual(theirs.shape, [5, 7, 7]);
    let worst = 0;
    [...r.groups.map((g) => g.gram), r.ntk].forEach((g, l) => {
      // The same products summed in other orders (libtorch's and PyTorch's conv kernels, one thread there).
      const err = maxRelative(values(g), (theirs.data as Float64Array).subarray(l * 49, (l + 1) * 49));
      assert.ok(err < TOLERANCE, `matrix ${l}: relative difference ${err}`);
      worst = Math.max(worst, err);
    });
    t.diagnostic(`largest relative difference ${worst.toExponential(2)} (tolerance ${TOLERANCE.toExponential(2)})`);
    dispose(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    x.dispose();
    model.dispose();
  }
});

test('a ResNet with BatchNorm: symmetric PSD, the groups sum to the NTK, eval mode (the classifier group in closed form)', () => {
  manualSeed(2);
  const model = buildModel('resnet:3x6x6-4:w=2').double();
  // Running statistics other than (0, 1), so that eval mode is visible in the result.
  scope(() => {
    for (const [name, b] of model.namedBuffers()) if (name.endsWith('running_mean') || name.endsWith('running_var')) b.copy_(randn(b.shape, 'float64').abs());
  });
  const x = randn([8, 3, 6, 6], 'float64');
  const r = empiricalNtk(model, x, { groups: true });
  assert.ok(model.training, 'the model is back in training mode');
  const g = values(r.ntk);
  const n = 8;
  let asymmetry = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      asymmetry = Math.max(asymmetry, Math.abs(g[i * n + j] - g[j * n + i]));
      scale = Math.max(scale, Math.abs(g[i * n + j]));
    }
  }
  // Each entry is one dot product of two Jacobian rows; Θ̂_ij and Θ̂_ji sum the same products in other orders.
  assert.ok(asymmetry <= roundOff('float64', 64, scale), `asymmetry ${asymmetry}`);
  const { lambdaMin, lambdaMax } = gramSpectrum(r.ntk);
  assert.ok(lambdaMin >= 0 && lambdaMax > 0, `spectrum [${lambdaMin}, ${lambdaMax}]`);
  const sum = scope(() => values(r.groups.slice(1).reduce((a, b) => a.add(b.gram), r.groups[0].gram.clone())));
  assert.ok(maxRelative(sum, g) < roundOff('float64', 64), 'the groups sum to the NTK');
  assert.equal(r.groups.length, parameterGroups(model).length);
  // Closed form of the last layer's group: ∂f_c/∂W_c· = φ, ∂f_c/∂b_c = 1, so Θ̂_fc = k(φ_i·φ_j + 1) with φ the
  // classifier's input — in eval mode, BatchNorm on the running statistics set above.
  const fc = (model as SmallResNet).fc;
  const closed = noGrad(() =>
    scope(() => {
      using _eval = evalMode(model);
      const phi: Tensor[] = [];
      withForwardHooks([[fc, 'input', (h) => phi.push(h)]], () => model.forward(x));
      return values(phi[0].mm(phi[0].t()).add(1).mul(4));
    })
  );
  assert.ok(maxRelative(values(r.groups.find((gr) => gr.name === 'fc')!.gram), closed) < TOLERANCE, 'the fc group in closed form');
  dispose(r);
  x.dispose();
  model.dispose();
});

test('bad input: InputErrors naming the problem', () => {
  manualSeed(1);
  using model = buildModel('cnn:1x8x8-3:w=2').double();
  using flat = randn([4], 'float64');
  using wrong = randn([4, 2, 8, 8], 'float64');
  using nan = scope(() => randn([4, 1, 8, 8], 'float64').div(0).mul(0));
  assert.throws(() => empiricalNtk(model, flat), (e: Error) => e instanceof InputError && /shape \[4\]; expected \[n, features\.\.\.\]/.test(e.message));
  assert.throws(() => empiricalNtk(model, wrong),
    (e: Error) => e instanceof InputError && /a point of shape \[2,8,8\] does not fit cnn:1x8x8-3:w=2/.test(e.message));
  assert.throws(() => empiricalNtk(model, nan), (e: Error) => e instanceof InputError && /finite/.test(e.message));
});
