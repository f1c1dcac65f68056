/**
 * The optimisation lab's networks (src/nn/models/resmlp.ts fcnet, twolayer.ts, skip.ts, the
 * Allen-Zhu init): forwards against their formulas written out with plain tensor ops, the
 * initialisations' variances, the skip-feature rank, finite-difference gradients, spec errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, liveTensors, manualSeed, noGrad, randn, scope, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import type { ResMLP } from '../src/nn/models/resmlp.js';
import { cSigma } from '../src/nn/c-sigma.js';
import type { TwoLayerReLU } from '../src/nn/models/twolayer.js';
import { skipFeatureRank, type SkipToOutput } from '../src/nn/models/skip.js';
import type { MLP } from '../src/nn/models/mlp.js';
import { gradcheck } from './gradcheck.js';

const maxAbs = (a: Tensor, b: Tensor): number => scope(() => a.sub(b).abs().amax().item());
function withModel<M>(spec: string, seed: number, fn: (m: M) => void): void {
  const before = liveTensors();
  manualSeed(seed);
  const m = buildModel(spec).double();
  try {
    scope(() => fn(m as M));
  } finally {
    m.dispose();
  }
  assert.equal(liveTensors(), before, `${spec}: no tensor leaked`);
}

test("fcnet is Du et al.'s scaled fully-connected net: x⁽ʰ⁾ = √(c_σ/m)·σ(W⁽ʰ⁾x⁽ʰ⁻¹⁾), u = a·x⁽ᴴ⁾", () => {
  for (const act of ['relu', 'softplus'] as const)
    withModel<ResMLP>(`fcnet:5-16-3-2:${act}`, 1, (m) => {
      const x = randn([7, 5], 'float64');
      const c = Math.sqrt(cSigma(act) / 16);
      const s = (z: Tensor) => (act === 'relu' ? z.relu() : z.softplus());
      let h = s(x.matmul(m.stem.weight.t())).mul(c);
      for (const b of m.blocks) h = s(h.matmul(b.weight.t())).mul(c);
      assert.ok(maxAbs(m.forward(x), h.matmul(m.output.weight.t())) < 1e-12, act);
      assert.equal(m.parameters().length, 4, 'three layers and the output, no biases');
    });
});

test('relu2 is f(x) = (1/√m) Σ a_r relu(w_rᵀx) with fixed signs a_r = ±1', () =>
  withModel<TwoLayerReLU>('relu2:6-64', 2, (m) => {
    const x = randn([9, 6], 'float64');
    const a = m.output.sign;
    assert.ok(a.toNumbers().every((v) => v === 1 || v === -1));
    assert.ok(new Set(a.toNumbers()).size === 2, 'both signs drawn');
    const want = x.matmul(m.hidden.weight.t()).relu().matmul(a.unsqueeze(1)).div(8);
    assert.ok(maxAbs(m.forward(x), want) < 1e-12);
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['hidden.weight'], 'only the first layer trains');
  }));

test('init=allenzhu: N(0, 2/m) hidden and input layers, N(0, 1/d) output layer, no biases', () =>
  withModel<MLP>('mlp:300-400-400-10:init=allenzhu', 3, (m) => {
    assert.equal(m.parameters().length, 3, 'no biases');
    const want = [2 / 400, 2 / 400, 1 / 10];
    m.layers.forEach((l, i) => {
      const v = l.weight.square().mean().item();
      // Variance of a mean of n squared normals: relative sd √(2/n) ≤ 0.5 % here; allow 5 %.
      assert.ok(Math.abs(v / want[i] - 1) < 0.05, `layer ${i}: variance ${v} vs ${want[i]}`);
    });
  }));

test('skip-to-output: f = trunk(x) + V·softplus(U·vec(x) + c), and the skip features have rank min(N, M)', () => {
  withModel<SkipToOutput>('skip:8-12-3:m=30', 4, (m) => {
    const x = randn([20, 8], 'float64');
    const s = x.matmul(m.skip.weight.t()).add(m.skip.bias!).softplus();
    assert.ok(maxAbs(m.forward(x), m.trunk.forward(x).add(s.matmul(m.skipOut.weight.t()))) < 1e-12);
    assert.deepEqual(skipFeatureRank(m, x), { rank: 20, points: 20, units: 30 });
    assert.equal(skipFeatureRank(m, randn([40, 8], 'float64')).rank, 30, 'M < N: rank M');
    assert.ok(m.probePoints().includes('skip') && m.probePoints().includes('layers.0'));
  });
  withModel<SkipToOutput>('skipcnn:1x8x8-3:m=10:w=2', 5, (m) => {
    const x = randn([4, 1, 8, 8], 'float64');
    assert.deepEqual(m.forward(x).shape, [4, 3]);
    assert.equal(skipFeatureRank(m, x).rank, 4);
  });
});

test("forward hooks: a hook gets the activation at its probe point each pass until removed; skip hands the trunk's to the trunk", () => {
  withModel<SkipToOutput>('skip:8-12-3:m=30', 6, (m) => {
    const x = randn([5, 8], 'float64');
    const seen: [string, Tensor][] = [];
    const first = (m.trunk as MLP).layers[0];
    const hidden = m.registerForwardHook('layers.0', (h) => seen.push(['layers.0', h]));
    const skip = m.registerForwardHook('skip', (h) => seen.push(['skip', h]));
    const linear = first.registerForwardHook('input', (h) => seen.push(['input', h]));
    m.forward(x);
    assert.deepEqual(seen.map(([n]) => n), ['input', 'layers.0', 'skip']);
    assert.ok(maxAbs(seen[1][1], x.matmul(first.weight.t()).add(first.bias!)) < 1e-12);
    assert.equal(seen[0][1], x, 'the tensor itself, not a copy');
    [hidden, skip, linear].forEach((h) => h.remove());
    m.forward(x);
    assert.equal(seen.length, 3, 'removed hooks are not called');
    assert.throws(() => m.registerForwardHook('nope', () => {}), /no probe point 'nope' \(have: input, layers.0, skip\)/);
    const { output, probes } = m.forwardWithProbes(x, ['skip', 'input']);
    assert.ok(maxAbs(output, m.forward(x)) < 1e-12);
    assert.deepEqual([...probes.keys()], ['input', 'skip']);
  });
});

test('finite-difference gradients through fcnet, resmlp, relu2 and skip (inputs and one weight)', () => {
  for (const spec of ['fcnet:4-6-3-2:softplus', 'resmlp:4-6-3-2:softplus', 'relu2:4-6', 'skip:4-5-2:m=6'])
    withModel<ResMLP>(spec, 6, (m) => {
      gradcheck((x) => m.forward(x), [randn([3, 4], 'float64')], { name: spec });
      const x = randn([3, 4], 'float64');
      const w = m.parameters()[0];
      const loss = () => m.forward(x).square().sum();
      const analytic = grad([loss()], [w])[0]!.flatten().toNumbers()[1];
      const at = (d: number) =>
        noGrad(() => {
          const flat = w.view([-1]);
          const old = flat.narrow(0, 1, 1).item();
          flat.narrow(0, 1, 1).fill_(old + d);
          const v = loss().item();
          flat.narrow(0, 1, 1).fill_(old);
          return v;
        });
      const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
      assert.ok(Math.abs(analytic - numeric) < 1e-5 * (1 + Math.abs(numeric)), `${spec}: ${analytic} vs ${numeric}`);
    });
});

test("bad specs for the lab's networks name the problem", () => {
  for (const [spec, re] of [
    ['fcnet:4-6-2', /IN-WIDTH-DEPTH-OUT/],
    ['fcnet:4-6-2-1:cres=0.5', /unknown option 'cres'/],
    ['relu2:4-6:softplus', /no activation/],
    ['relu2:4', /IN-WIDTH/],
    ['skip:4-5-2', /m=M/],
    ['skip:4-5-2:m=3:relu', /use softplus/],
    ['skip:4-5-2:m=2.5', /integer m=M/],
    ['mlp:4-2:init=az', /allenzhu/],
  ] as const)
    assert.throws(() => buildModel(spec), re, spec);
});
