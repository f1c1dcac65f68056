/**
 * The Hessian spectrum (src/measures/hessian.ts) against the exact Hessian that PyTorch computes
 * (bench/hessian_torch.py: torch.autograd.functional.hessian, float64) on the same weights and points,
 * for an MLP (mlp:6-5-3) and a small CNN (cnn:1x6x6-3:w=1, 801 parameters), both float64:
 * - Hessian-vector products equal H v, over one batch and over several;
 * - the top 3 eigenvalues by Lanczos equal the exact eigendecomposition's to 1e-6 relative;
 * - the Hutchinson trace lies within 3 standard errors of tr H;
 * - the SLQ density integrates to 1, its nodes lie in H's spectrum, and the quadratures' first two moments
 *   agree with tr H / p and tr H² / p within 3 standard errors over the runs (both unbiased, see below);
 * - one layer's parameters: the principal submatrix's spectrum; a float32 model against float64 at a
 *   float32 round-off tolerance; the same seed, the same result; no tensor leaks; bad input.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, linalg, liveTensors, manualSeed, noGrad, randint, randn, scope, type Tensor, tensor } from '../src/engine/index.js';
import type { Module } from '../src/nn/module.js';
import { buildModel } from '../src/nn/models/spec.js';
import { loadModel, saveModel, toRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { InputError } from '../src/errors.js';
import { hessianDensity, hessianEigenvalues, hessianParameters, hessianTrace, hessianVectorProduct } from '../src/measures/hessian.js';
import { runPython } from '../bench/python.js';
import { roundOff } from './round-off.js';

const N = 20;
const dir = mkdtempSync(join(tmpdir(), 'dltheory-hessian-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  model: Module;
  x: Tensor;
  y: Tensor;
  /** PyTorch's Hessian [p, p], row-major. */
  h: Float64Array;
  p: number;
  /** Its eigenvalues, ascending. */
  eigenvalues: number[];
}

const SPECS = [['mlp:6-5-3', [N, 6]], ['cnn:1x6x6-3:w=1', [N, 1, 6, 6]]] as const;
const cases: Case[] = [];
let skipped: string | undefined;

test.before(async () => {
  const args: string[] = [];
  const made = SPECS.map(([spec, shape], i) => {
    manualSeed(3 + i);
    const model = buildModel(spec).double();
    const x = randn([...shape], 'float64');
    const y = randint(0, 3, [N]);
    saveModel(model, join(dir, `m${i}.safetensors`));
    writeNpy(join(dir, `x${i}.npy`), toRaw(x));
    writeNpy(join(dir, `y${i}.npy`), toRaw(y));
    args.push('--model', join(dir, `m${i}.safetensors`), '--input', join(dir, `x${i}.npy`), '--labels', join(dir, `y${i}.npy`), '--out',
      join(dir, `h${i}.npy`));
    return { name: spec, model, x, y };
  });
  const ref = await runPython<{ models: { names: string[] }[] }>('hessian_torch.py', ['exact', ...args], 'python3-torch');
  if ('error' in ref) {
    if (!/no (torch|numpy) module|not found/.test(ref.error)) throw new Error(ref.error);
    skipped = ref.error;
    return;
  }
  made.forEach((c, i) => {
    assert.deepEqual(ref.models[i].names, c.model.namedParameters().map(([n]) => n), 'the same parameter order on both sides');
    const h = readNpy(join(dir, `h${i}.npy`)).data as Float64Array;
    const p = c.model.numParameters();
    const eigenvalues = scope(() => linalg.eigvalsh(tensor(h, [p, p], 'float64')).toNumbers());
    cases.push({ ...c, h, p, eigenvalues });
  });
});

test.after(() => dispose(cases.map((c) => [c.model, c.x, c.y])));

/** Skips the test (returning true) when PyTorch could not run. */
function skip(t: TestContext): boolean {
  if (skipped === undefined) return false;
  t.skip(skipped);
  return true;
}

/** The principal submatrix of H over entries [from, to). */
function block(c: Case, from: number, to: number): Float64Array {
  const m = to - from;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) out.set(c.h.subarray((from + i) * c.p + from, (from + i) * c.p + to), i * m);
  return out;
}

const trace = (h: Float64Array, p: number) => Array.from({ length: p }, (_, i) => h[i * p + i]).reduce((a, b) => a + b, 0);
/** The standard deviation of vᵀAv for Rademacher v, A symmetric [p, p]: √(2 Σ_{i≠j} A_ij²). */
const quadraticSd = (a: Float64Array, p: number) =>
  Math.sqrt(2 * (a.reduce((s, v) => s + v * v, 0) - Array.from({ length: p }, (_, i) => a[i * p + i] ** 2).reduce((s, v) => s + v, 0)));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation / √n: the standard error of the mean of xs. */
const relative = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));

test('Hessian-vector products equal PyTorch’s H v, in one batch and in batches of 7 (float64)', (t) => {
  if (skip(t)) return;
  for (const c of cases) {
    const v = scope(() => randn([c.p], 'float64'));
    const hv = scope(() => tensor(c.h, [c.p, c.p], 'float64').matmul(v).toNumbers());
    const scale = Math.max(...hv.map(Math.abs));
    for (const batchSize of [N, 7]) {
      const ours = scope(() => hessianVectorProduct(c.model, c.x, c.y, v, { batchSize }).toNumbers());
      const err = Math.max(...ours.map((o, i) => Math.abs(o - hv[i]))) / scale;
      // Both sides sum over 20 points and p parameters in other orders, through two backward passes.
      assert.ok(err < roundOff('float64', 64), `${c.name}, batch ${batchSize}: relative difference ${err}`);
      t.diagnostic(`${c.name}, batch ${batchSize}: H v relative difference ${(err / 2 ** -52).toFixed(1)} ε`);
    }
    v.dispose();
  }
});

test('the top 3 eigenvalues by Lanczos equal the exact eigendecomposition to 1e-6 relative', (t) => {
  if (skip(t)) return;
  for (const c of cases) {
    const exact = c.eigenvalues.slice(-3).reverse();
    for (const batchSize of [N, 7]) {
      const r = hessianEigenvalues(c.model, c.x, c.y, { k: 3, iterations: c.p, tol: 1e-10, batchSize });
      const err = relative(r.eigenvalues, exact);
      assert.ok(err < 1e-6, `${c.name}: ${r.eigenvalues} against ${exact}`);
      assert.ok(r.iterations.every((i) => i >= 3 && i <= c.p), `iterations ${r.iterations}`);
      const norm = Math.max(-c.eigenvalues[0], c.eigenvalues[c.p - 1]);
      assert.ok(r.residuals.every((res) => res <= 1e-10 * norm), `residuals ${r.residuals}`);
      t.diagnostic(`${c.name}, batch ${batchSize}: relative difference ${err.toExponential(1)} after ${r.iterations} steps of ${c.p}`);
    }
  }
});

test('the Hutchinson trace lies within 3 standard errors of tr H; the same seed gives the same estimate', (t) => {
  if (skip(t)) return;
  for (const c of cases) {
    const exact = trace(c.h, c.p);
    const r = hessianTrace(c.model, c.x, c.y, { probes: 100, seed: 1 });
    assert.equal(r.probes, 100);
    assert.ok(Math.abs(r.trace - exact) <= 3 * r.stdErr, `${c.name}: ${r.trace} ± ${r.stdErr} against ${exact}`);
    // stdErr estimates the exact standard error; with 100 probes, to well within a factor of 2.
    const se = quadraticSd(c.h, c.p) / 10;
    assert.ok(r.stdErr > se / 2 && r.stdErr < 2 * se, `${c.name}: stdErr ${r.stdErr}, exact ${se}`);
    assert.deepEqual(hessianTrace(c.model, c.x, c.y, { probes: 100, seed: 1 }), r);
    t.diagnostic(`${c.name}: ${r.trace.toFixed(4)} ± ${r.stdErr.toFixed(4)}, exact ${exact.toFixed(4)} ± ${se.toFixed(4)}`);
  }
  // tol stops once the standard error is that small a fraction of the estimate, not before the 10th probe.
  const c = cases[0];
  assert.equal(hessianTrace(c.model, c.x, c.y, { probes: 100, tol: 10 }).probes, 10);
});

// SLQ moments: with v Rademacher and m ≥ 2 Lanczos steps, Gauss quadrature is exact for degree ≤ 3, so a
// run's Σ τ_i θ_i = vᵀHv / p and Σ τ_i θ_i² = vᵀH²v / p exactly (v/√p the normalised start): unbiased
// estimates of tr H / p and tr H² / p. For a symmetric A and Rademacher v, Var(vᵀAv) = 2 Σ_{i≠j} A_ij²
// (Hutchinson 1990), so the exact H gives each mean over the runs its exact standard error. The bound is
// 4 of them: the four comparisons are of skewed quadratic forms over 20 runs, where 3 standard errors
// would fail by chance about once in a hundred seeds, 4 about once in ten thousand; a real bias (a wrong
// normalisation of the weights or of the start) is many standard errors off.
test('the SLQ density integrates to 1; its nodes lie in the spectrum; its moments match tr H / p and tr H² / p', (t) => {
  if (skip(t)) return;
  for (const c of cases) {
    const runs = 20;
    const d = hessianDensity(c.model, c.x, c.y, { runs, steps: 10, seed: 2 });
    const step = d.grid[1] - d.grid[0];
    const integral = step * (d.density.reduce((a, b) => a + b, 0) - (d.density[0] + d.density[d.density.length - 1]) / 2);
    assert.ok(Math.abs(integral - 1) < 1e-12, `integral ${integral}`);
    assert.ok(d.density.every((v) => v >= 0));
    assert.equal(d.nodes.length, runs);
    const [lo, hi] = [c.eigenvalues[0], c.eigenvalues[c.p - 1]];
    const slack = roundOff('float64', 1024, hi - lo);
    for (let r = 0; r < runs; r++) {
      assert.ok(Math.abs(d.weights[r].reduce((a, b) => a + b, 0) - 1) < roundOff('float64', 64), 'weights sum to 1');
      // Ritz values of a symmetric matrix lie within its spectrum (Cauchy interlacing).
      assert.ok(d.nodes[r].every((v) => v >= lo - slack && v <= hi + slack), `nodes ${d.nodes[r]} outside [${lo}, ${hi}]`);
    }
    const m1 = d.nodes.map((nodes, r) => nodes.reduce((a, v, i) => a + d.weights[r][i] * v, 0));
    const m2 = d.nodes.map((nodes, r) => nodes.reduce((a, v, i) => a + d.weights[r][i] * v * v, 0));
    const h2 = scope(() => {
      const h = tensor(c.h, [c.p, c.p], 'float64');
      return h.matmul(h).toArray() as Float64Array;
    });
    const [exact1, exact2] = [trace(c.h, c.p) / c.p, trace(h2, c.p) / c.p];
    const [se1, se2] = [quadraticSd(c.h, c.p), quadraticSd(h2, c.p)].map((sd) => sd / c.p / Math.sqrt(runs));
    const z = [(mean(m1) - exact1) / se1, (mean(m2) - exact2) / se2];
    assert.ok(Math.abs(z[0]) <= 4, `${c.name}: mean ${mean(m1)} against ${exact1} ± ${se1}`);
    assert.ok(Math.abs(z[1]) <= 4, `${c.name}: mean of λ² ${mean(m2)} against ${exact2} ± ${se2}`);
    t.diagnostic(
      `${c.name}: mean ${mean(m1).toFixed(5)} (exact ${exact1.toFixed(5)} ± ${se1.toFixed(5)}), mean of λ² ${mean(m2).toFixed(5)} (exact ${
        exact2.toFixed(5)
      } ± ${se2.toFixed(5)}): ${z.map((v) => v.toFixed(1)).join(', ')} standard errors`,
    );
    assert.deepEqual(hessianDensity(c.model, c.x, c.y, { runs: 2, steps: 10, seed: 2 }).nodes, d.nodes.slice(0, 2), 'same seed, same runs');
  }
});

test('a repeated eigenvalue in closed form: Lanczos restarts at breakdowns and finds both copies', () => {
  // A linear softmax classifier at zero weights on one point x̃ = (x, 1): H = (diag(π) − ππᵀ) ⊗ x̃x̃ᵀ with π
  // uniform over 3 classes, whose spectrum is ‖x̃‖²/3 twice and 0 (19 times); each Krylov space holds
  // one copy of ‖x̃‖²/3 and breaks down after two steps.
  using model = buildModel('mlp:6-3').double();
  noGrad(() => model.parameters().forEach((p) => p.fill_(0)));
  const xs = [0.5, -1, 2, 0.25, 1, -0.5];
  using x = tensor([xs], [1, 6], 'float64');
  using y = tensor(BigInt64Array.from([1n]), [1], 'int64');
  const lambda = (xs.reduce((a, v) => a + v * v, 0) + 1) / 3;
  const r = hessianEigenvalues(model, x, y, { k: 3 });
  [lambda, lambda, 0].forEach((e, i) => assert.ok(Math.abs(r.eigenvalues[i] - e) <= roundOff('float64', 64, lambda), `${r.eigenvalues} against ${e}`));
  assert.ok(Math.max(...r.iterations) < 21, `stopped once a block added nothing, after ${r.iterations} of 21 steps`);
  // SLQ stops at the first breakdown: its two nodes are the eigenvalues the start vector sees, exactly.
  const d = hessianDensity(model, x, y, { steps: 10 });
  assert.equal(d.nodes[0].length, 2);
  assert.ok(Math.abs(d.nodes[0][0]) <= roundOff('float64', 64, lambda) && Math.abs(d.nodes[0][1] - lambda) <= roundOff('float64', 64, lambda));
});

test('one layer’s parameters: the spectrum and trace of the principal submatrix of H', (t) => {
  if (skip(t)) return;
  for (const [c, layer] of [[cases[0], 'layers.0'], [cases[1], 'fc1']] as const) {
    const named = c.model.namedParameters();
    const chosen = hessianParameters(c.model, layer);
    assert.deepEqual(chosen.map(([n]) => n), [`${layer}.weight`, `${layer}.bias`]);
    const from = named.slice(0, named.findIndex(([n]) => n === chosen[0][0])).reduce((a, [, p]) => a + p.numel, 0);
    const m = chosen.reduce((a, [, p]) => a + p.numel, 0);
    const sub = block(c, from, from + m);
    const exact = scope(() => linalg.eigvalsh(tensor(sub, [m, m], 'float64')).toNumbers()).slice(-3).reverse();
    const r = hessianEigenvalues(c.model, c.x, c.y, { k: 3, iterations: m, tol: 1e-10, params: layer });
    assert.ok(relative(r.eigenvalues, exact) < 1e-6, `${c.name} ${layer}: ${r.eigenvalues} against ${exact}`);
    const tr = hessianTrace(c.model, c.x, c.y, { probes: 50, params: layer });
    assert.ok(Math.abs(tr.trace - trace(sub, m)) <= 3 * tr.stdErr, `${c.name} ${layer}: trace ${tr.trace} ± ${tr.stdErr} against ${trace(sub, m)}`);
  }
});

test('a float32 model agrees with the float64 one to float32 round-off', (t) => {
  if (skip(t)) return;
  const c = cases[1];
  using single = loadModel(join(dir, 'm1.safetensors')).model.to('float32');
  const norm = Math.max(...c.eigenvalues.map(Math.abs));
  // Each entry of H v sums ~800 products over 20 points through 4 layers and two backward passes in
  // float32: log2(800) ≈ 10 ε for the sums, a few ε per layer and pass (measured: about 1 ε).
  const tol = roundOff('float32', 64, norm);
  using v = randn([c.p], 'float64');
  const [a, b] = [c.model, single].map((m) => scope(() => hessianVectorProduct(m, c.x, c.y, v).toNumbers()));
  const hvScale = Math.max(...a.map(Math.abs));
  const hvErr = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  assert.ok(hvErr <= roundOff('float32', 64, hvScale), `H v: difference ${hvErr} of ${hvScale}`);
  // Eigenvalues move by at most ‖δH‖ (Weyl); the float32 run stops at its own round-off, so its tol is float32's.
  const [e64, e32] = [c.model, single].map((m) => hessianEigenvalues(m, c.x, c.y, { k: 3, iterations: c.p, tol: roundOff('float32', 16) }).eigenvalues);
  e64.forEach((e, i) => assert.ok(Math.abs(e - e32[i]) <= tol, `eigenvalue ${i}: ${e32[i]} (float32) against ${e} (float64)`));
  // The same seed draws the same probes, so each vᵀHv differs by round-off alone: p·‖H‖ per probe at most.
  const [t64, t32] = [c.model, single].map((m) => hessianTrace(m, c.x, c.y, { probes: 5 }).trace);
  assert.ok(Math.abs(t64 - t32) <= c.p * tol, `trace ${t32} (float32) against ${t64}`);
  t.diagnostic(
    `float32 − float64: H v ${(hvErr / hvScale / 2 ** -23).toFixed(1)} ε relative; eigenvalues ${
      e64.map((e, i) => (Math.abs(e - e32[i]) / norm / 2 ** -23).toFixed(1)).join(', ')
    } ε of ‖H‖`,
  );
});

test('no tensor leaks; eval mode, then the caller’s mode back; bad input', (t) => {
  if (skip(t)) return;
  const c = cases[1];
  c.model.train();
  const before = liveTensors();
  hessianEigenvalues(c.model, c.x, c.y, { k: 2, iterations: 10 });
  hessianEigenvalues(c.model, c.x, c.y, { k: 2, iterations: 10, batchSize: 7 });
  hessianTrace(c.model, c.x, c.y, { probes: 3, batchSize: 7 });
  hessianDensity(c.model, c.x, c.y, { runs: 2, steps: 5 });
  assert.equal(liveTensors(), before, 'live tensors');
  assert.ok(c.model.training, 'the training mode is restored');
  const calls: number[][] = [];
  hessianTrace(c.model, c.x, c.y, { probes: 3, onProgress: (done, total) => calls.push([done, total]) });
  assert.deepEqual(calls, [[1, 3], [2, 3], [3, 3]]);

  const fails = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error) => e instanceof InputError && pattern.test(e.message), pattern.source);
  const m = cases[0];
  fails(() => hessianEigenvalues(m.model, m.x, m.y, { k: 54 }), /k = 54 eigenvalues of a Hessian over 53 parameters/);
  fails(() => hessianEigenvalues(m.model, m.x, m.y, { k: 0 }), /k must be an integer ≥ 1/);
  fails(() => hessianEigenvalues(m.model, m.x, m.y, { k: 3, iterations: 2 }), /iterations must be an integer ≥ 3/);
  fails(() => hessianTrace(m.model, m.x, m.y, { params: 'fc1' }), /no parameter of mlp:6-5-3 is 'fc1'.*layers are layers\.0, layers\.1/);
  fails(() => hessianTrace(m.model, m.x, m.y, { params: 'layers.0.w' }), /no parameter/);
  fails(() => hessianDensity(m.model, m.x, m.y, { sigma: 0 }), /sigma must be/);
  using wide = randn([N, 7], 'float64');
  fails(() => hessianTrace(m.model, wide, m.y), /a point of shape \[7\] does not fit mlp:6-5-3/);
  using big = scope(() => m.y.add(1));
  fails(() => hessianTrace(m.model, m.x, big), /labels range over \[\d, 3\]; mlp:6-5-3 has 3 classes/);
  using nan = scope(() => m.x.div(0).mul(0));
  fails(() => hessianTrace(m.model, nan, m.y), /point 0, dimension 0 is NaN/);
  using short = m.y.narrow(0, 0, 5);
  fails(() => hessianTrace(m.model, m.x, short), /labels of shape \[5\]/);
  fails(() => hessianVectorProduct(m.model, m.x, m.y, wide), /v has shape \[20,7\]; expected \[53\]/);
  assert.equal(liveTensors(), before + 4, 'failed calls free what they made (the four inputs above remain)');
});
