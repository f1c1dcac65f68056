/**
 * L-BFGS (src/train/lbfgs.ts) in float64 against closed-form minimisers: a strictly convex quadratic
 * ½(x − x*)ᵀA(x − x*) (written about x* so that f − f* carries no cancellation and the line search
 * can work down to ‖∇f‖ ~ 1e-12) and Rosenbrock's function (minimum 0 at (1, …, 1)); and its
 * stopping rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/rng.js';
import { lbfgs, type Objective } from '../src/train/lbfgs.js';

test('on ½(x − x*)ᵀA(x − x*) (A = MᵀM + I, 30 dims) L-BFGS stops at ‖∇f‖∞ ≤ 1e-12 within 1e-10 of x*', () => {
  const n = 30;
  const rng = new Rng(7);
  const m = Array.from({ length: n }, () => Float64Array.from({ length: n }, () => rng.normal()));
  const a = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => m.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? 1 : 0)));
  const times = (x: Float64Array) => Float64Array.from(a, (row) => row.reduce((s, v, j) => s + v * x[j], 0));
  const solution = Float64Array.from({ length: n }, () => rng.normal());
  const f: Objective = (x) => {
    const d = x.map((v, i) => v - solution[i]);
    const ad = times(d);
    return { value: d.reduce((s, v, i) => s + 0.5 * v * ad[i], 0), gradient: ad };
  };
  const r = lbfgs(f, new Float64Array(n), { gradientTolerance: 1e-12 });
  assert.equal(r.reason, 'gradient');
  // ‖x − x*‖ ≤ ‖∇f‖/λ_min(A) ≤ √n·1e-12 (λ_min ≥ 1), so 1e-10 leaves room for round-off in ∇f itself.
  const error = Math.max(...r.x.map((v, i) => Math.abs(v - solution[i])));
  assert.ok(error < 1e-10, `‖x − x*‖∞ = ${error}`);
  assert.ok(r.evaluations >= r.iterations + 1 && r.iterations > 0);
});

test("Rosenbrock's function in 6 dims from (−1.2, 1, …): L-BFGS reaches the minimum 0 at (1, …, 1)", () => {
  const f: Objective = (x) => {
    let value = 0;
    const gradient = new Float64Array(x.length);
    for (let i = 0; i + 1 < x.length; i++) {
      const [a, b] = [x[i + 1] - x[i] ** 2, 1 - x[i]];
      value += 100 * a * a + b * b;
      gradient[i] += -400 * x[i] * a - 2 * b;
      gradient[i + 1] += 200 * a;
    }
    return { value, gradient };
  };
  const r = lbfgs(f, Float64Array.of(-1.2, 1, -1.2, 1, -1.2, 1), { maxIterations: 500 });
  assert.equal(r.reason, 'gradient');
  assert.ok(r.value < 1e-18, `f = ${r.value}`);
  // Near the minimum f ≈ ½δᵀHδ with λ_min(H) ≈ 0.4 (6 dims), so |δ| ~ 1e-9 leaves f ~ 1e-19: δ < 1e-8 is the round-off scale.
  assert.ok(r.x.every((v) => Math.abs(v - 1) < 1e-8), `x = ${Array.from(r.x)}`);
  assert.ok(r.iterations < 200, `${r.iterations} iterations`);
});

test('L-BFGS stops when `stop` says, or at the iteration limit, and reports which', () => {
  const f: Objective = (x) => ({ value: x.reduce((s, v) => s + Math.cosh(v - 3), 0), gradient: x.map((v) => Math.sinh(v - 3)) });
  const seen: number[] = [];
  const stop = (value: number, k: number) => {
    seen.push(k);
    return value <= 4 + 1e-3;
  };
  const stopped = lbfgs(f, new Float64Array(4), { stop });
  assert.equal(stopped.reason, 'stop');
  assert.ok(stopped.value <= 4 + 1e-3 && stopped.iterations > 0);
  assert.deepEqual(seen, Array.from({ length: stopped.iterations + 1 }, (_, k) => k), 'stop sees x₀ and every iterate');
  const limited = lbfgs(f, new Float64Array(4), { maxIterations: 2 });
  assert.equal(limited.reason, 'iterations');
  assert.equal(limited.iterations, 2);
});
