/**
 * PAC-Bayesian flatness (src/measures/flatness.ts) on a linear two-class classifier, where the
 * expected error under weight noise has a closed form. Logits z = Wx + b, W [2, d]: with noise u on
 * W and b, the margin of point i, m_i = z_{y_i} − z_{1−y_i}, becomes m_i + g_i with g_i Gaussian of
 * variance
 *
 *   v_i(σ) = σ²(2‖x_i‖² + 2)                                             (u ~ N(0, σ²I))
 *   v_i(σ) = Σ_j (σ²(W_0j² + W_1j²) + 2ε²) x_ij² + σ²(b_0² + b_1²) + 2ε²   (u_k ~ N(0, σ²w_k² + ε²))
 *
 * so the expected error is E(σ) = mean_i Φ(−m_i/√v_i(σ)), and with every point classified correctly
 * (L̂(w) = 0), σ' solves E(σ') = d, here by bisection to float64 precision. The Monte-Carlo search
 * must put the exact σ' inside its bracket and its estimate within Z·s/E'(σ') (s its standard error)
 * plus the width of its last interval. Then: the same seed gives the same result and the weights and
 * mode come back; the bound terms equal their formulas computed here from the weights; bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose, liveTensors, manualSeed, noGrad, randn, scope, tensor, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import type { Module } from '../src/nn/module.js';
import { crossEntropy } from '../src/nn/functional.js';
import { InputError } from '../src/errors.js';
import { pacBayesFlatness, type PacBayesResult } from '../src/measures/flatness.js';
import { snapshot } from '../src/measures/landscape.js';
import { roundOff } from './round-off.js';

const D = 4;
const N = 200;
const values = (t: Tensor): Float64Array => t.toArray() as Float64Array;

/** mlp:4-2 in float64 with fixed weights, points x [N, 4] and labels y = argmax(Wx + b), so L̂(w) = 0. */
function linearProblem(): { model: Module; x: Tensor; y: Tensor } {
  manualSeed(3);
  const model = buildModel(`mlp:${D}-2`).double();
  const x = randn([N, D], 'float64');
  noGrad(() =>
    scope(() => {
      const [weight, bias] = model.parameters();
      weight.copy_(tensor([1.5, -0.5, 0.8, 0.2, -1.0, 0.7, -0.4, 0.9], [2, D], 'float64'));
      bias.copy_(tensor([0.3, -0.2], [2], 'float64'));
    })
  );
  const y = noGrad(() => scope(() => model.forward(x).argmax(1)));
  return { model, x, y };
}

/** Φ(t) elementwise, in float64. */
const phi = (t: Tensor): Tensor => t.div(Math.SQRT2).erf().add(1).mul(0.5);

/** E(σ) in closed form: the mean of Φ(−m_i/√v_i(σ)), v_i = σ²·a_i + c_i. */
function expectedError(m: Tensor, a: Tensor, c: Tensor, sigma: number): number {
  return scope(() => phi(m.neg().div(a.mul(sigma * sigma).add(c).sqrt())).mean().item());
}

/** The σ with E(σ) = d, by bisection on [lo, hi] until the interval stops shrinking in float64. */
function exactSigma(e: (s: number) => number, d: number, lo: number, hi: number): number {
  assert.ok(e(lo) < d && e(hi) > d, `the root lies in [${lo}, ${hi}]`);
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (e(mid) > d) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/** The margins m_i and, per point, the coefficients a_i, c_i of v_i(σ) = σ²a_i + c_i. */
function closedForm(model: Module, x: Tensor, y: Tensor, magnitudeAware: boolean, epsilon: number): { m: Tensor; a: Tensor; c: Tensor } {
  return noGrad(() =>
    scope(() => {
      const z = model.forward(x);
      const sign = y.to('float64').mul(2).sub(1); // +1 when the label is class 1
      const m = z.select(1, 1).sub(z.select(1, 0)).mul(sign);
      const [weight, bias] = model.parameters();
      const x2 = x.square();
      if (!magnitudeAware) return { m, a: x2.sum(1).mul(2).add(2), c: m.mul(0) };
      const b2 = bias.square().sum().item();
      return { m, a: x2.matmul(weight.square().sum(0)).add(b2), c: x2.sum(1).mul(2 * epsilon * epsilon).add(2 * epsilon * epsilon) };
    })
  );
}

/**
 * Every tested mean within 4 of its standard errors of E(σ); the exact σ' inside the bracket, and the
 * estimate within 4 standard errors (through the slope) plus the last interval.
 */
function checkAgainstClosedForm(r: PacBayesResult, e: (s: number) => number, exact: number, slope: number, what: string): string {
  for (const t of r.trace) {
    const want = e(t.sigma);
    assert.ok(Math.abs(t.mean - want) <= 4 * t.stdErr + roundOff('float64', 64),
      `${what}: at σ = ${t.sigma} the mean ${t.mean} ± ${t.stdErr} vs E(σ) = ${want}`);
  }
  assert.ok(r.bracket[0] <= exact && exact <= r.bracket[1], `${what}: the exact σ' ${exact} lies outside the bracket [${r.bracket}]`);
  const nearest = [r.final.below, r.final.above].filter((e) => e !== null).map((e) => e.stdErr);
  assert.ok(nearest.length > 0, `${what}: the final interval was tested`);
  const tolerance = (4 * Math.max(...nearest)) / slope + (r.interval[1] - r.interval[0]);
  assert.ok(Math.abs(r.sigma - exact) <= tolerance, `${what}: σ' ${r.sigma} vs exact ${exact}, tolerance ${tolerance}`);
  assert.ok(r.interval[0] >= r.bracket[0] && r.interval[1] <= r.bracket[1], `${what}: the final interval lies in the bracket`);
  assert.equal(r.baseline, 0);
  return `${what}: σ' ${r.sigma.toPrecision(5)} (bracket [${r.bracket.map((b) => b.toPrecision(4))}]), exact ${exact.toPrecision(5)}, tolerance ${
    tolerance.toPrecision(2)
  }`;
}

for (const magnitudeAware of [false, true]) {
  test(`${magnitudeAware ? 'magnitude-aware' : 'plain'} noise: the bisection's σ' against the closed form of a linear classifier`, (t) => {
    const { model, x, y } = linearProblem();
    // ε well above the default 1e-3, so that its part of the variance counts.
    const epsilon = magnitudeAware ? 0.12 : 1e-3;
    const { m, a, c } = closedForm(model, x, y, magnitudeAware, epsilon);
    assert.ok(scope(() => m.amin().item()) > 0, 'every point is classified correctly');
    const e = (s: number) => expectedError(m, a, c, s);
    const d = 0.1;
    const exact = exactSigma(e, d, 1e-6, 100);
    const slope = (e(exact * 1.001) - e(exact * 0.999)) / (0.002 * exact);
    const r = pacBayesFlatness(model, x, y, { magnitudeAware, epsilon, deviation: d, samples: 1000, steps: 20, sigmaRange: [1e-3, 100], seed: 7 });
    t.diagnostic(checkAgainstClosedForm(r, e, exact, slope, magnitudeAware ? 'magnitude-aware' : 'plain'));
    assert.equal(r.flatness, 1 / r.sigma ** 2);
    assert.equal(r.steps, 20);
    assert.equal(r.trace.length, 20);
    dispose([m, a, c, x, y]);
    model.dispose();
  });
}

test('same seed, same result; the weights and the mode are restored; no tensor leaks', () => {
  const { model, x, y } = linearProblem();
  const before = snapshot(model);
  const live = liveTensors();
  const opts = { samples: 5, steps: 6, seed: 11 };
  const r1 = pacBayesFlatness(model, x, y, opts);
  assert.equal(liveTensors(), live, 'live tensors');
  assert.ok(model.training, 'back in training mode');
  const after = snapshot(model);
  before.forEach((t, k) => assert.deepEqual(values(after[k]), values(t), `parameter ${k} restored exactly`));
  assert.deepEqual(pacBayesFlatness(model, x, y, opts), r1);
  const other = pacBayesFlatness(model, x, y, { ...opts, seed: 12 });
  assert.notDeepEqual(other.trace.map((e) => e.mean), r1.trace.map((e) => e.mean), 'another seed draws other noise');
  // The loss as the metric: its baseline is the mean cross-entropy at w.
  const ce = noGrad(() => scope(() => crossEntropy(model.forward(x), y).item()));
  const loss = pacBayesFlatness(model, x, y, { ...opts, metric: 'loss' });
  assert.ok(Math.abs(loss.baseline - ce) <= roundOff('float64', 64, ce), `loss baseline ${loss.baseline} vs ${ce}`);
  dispose([before, after, x, y]);
  model.dispose();
});

test('the bound terms (48), (49), (56), (57) against their formulas from the weights; init as a list or by name', () => {
  const { model, x, y } = linearProblem();
  manualSeed(5);
  const init = scope(() => snapshot(model).map((t) => t.add(randn(t.shape, 'float64').mul(0.3))));
  const byName = new Map(model.namedParameters().map(([name], k) => [name, init[k]]));
  const w = model.parameters().flatMap((p) => [...values(p)]);
  const w0 = init.flatMap((p) => [...values(p)]);
  const omega = w.length;
  const sum = (f: (i: number) => number) => w.reduce((acc, _, i) => acc + f(i), 0);
  const sqNorm = sum((i) => w[i] ** 2);
  const sqDist = sum((i) => (w[i] - w0[i]) ** 2);
  const m = 1000;
  for (const magnitudeAware of [false, true]) {
    const r = pacBayesFlatness(model, x, y, { magnitudeAware, samples: 4, steps: 8, init, trainSize: m, seed: 2 });
    assert.deepEqual(pacBayesFlatness(model, x, y, { magnitudeAware, samples: 4, steps: 8, init: byName, trainSize: m, seed: 2 }), r);
    const [s2, e2] = [r.sigma ** 2, r.epsilon ** 2];
    const tail = Math.log(m / r.sigma) + 10;
    const term = (ref: number) =>
      magnitudeAware ? sum((i) => Math.log((e2 + ((s2 + 1) * ref) / omega) / (e2 + s2 * w[i] ** 2))) / 4 + tail : ref / (4 * s2) + tail;
    for (const [name, got, want] of [['orig', r.orig, term(sqNorm)], ['init', r.init, term(sqDist)]] as const) {
      assert.ok(Math.abs(got - want) <= roundOff('float64', 64, Math.abs(want)), `${magnitudeAware ? 'mag.' : ''}${name}: ${got} vs ${want}`);
    }
    assert.equal(r.parameters, omega);
    assert.equal(r.trainSize, m);
    assert.ok(!r.undefined.some((u) => u.startsWith('init')));
    const without = pacBayesFlatness(model, x, y, { magnitudeAware, samples: 4, steps: 8, seed: 2 });
    assert.ok(Number.isNaN(without.init));
    assert.ok(without.undefined.includes('init: needs the initial weights'));
    assert.equal(without.trainSize, N, 'm defaults to the number of points');
  }
  dispose([init, x, y]);
  model.dispose();
});

test('bad input: InputErrors naming the problem', () => {
  const { model, x, y } = linearProblem();
  const rejects = (opts: Parameters<typeof pacBayesFlatness>[3], pattern: RegExp, xs = x, ys = y) =>
    assert.throws(() => pacBayesFlatness(model, xs, ys, opts), (e: Error) => e instanceof InputError && pattern.test(e.message), String(pattern));
  rejects({ deviation: 0 }, /deviation must be > 0/);
  rejects({ deviation: 1 }, /< 1 \(an error rate\)/);
  rejects({ samples: 1 }, /samples must be an integer ≥ 2/);
  rejects({ steps: 0 }, /steps must be an integer ≥ 1/);
  rejects({ sigmaRange: [0, 1] }, /0 < lo < hi/);
  rejects({ init: [scope(() => randn([3, 3], 'float64'))] }, /1 initial tensors for 2 parameters/);
  rejects({ init: new Map() }, /no 'layers\.0\.weight'/);
  using wrong = randn([N, D + 1], 'float64');
  rejects({}, /do not fit mlp:4-2/, wrong);
  using nan = scope(() => randn([N, D], 'float64').div(0).mul(0));
  rejects({}, /finite/, nan);
  using short = scope(() => y.narrow(0, 0, 5));
  rejects({}, /200 points but labels of shape \[5\]/, x, short);
  dispose([x, y]);
  model.dispose();
});
