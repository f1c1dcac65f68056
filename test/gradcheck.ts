/**
 * Finite-difference gradient checking in float64 (a test helper, not a test file).
 *
 * For fn and inputs x₁…x_k, compares the analytic gradient of L(x) = Σ fn(x)·w (w a fixed
 * pseudo-random weight, so every output element matters with a different weight) computed by
 * `grad()` against central differences (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε, one element at a time.
 *
 * Inputs of dtype float32/float64 are differentiated (converted to float64 first); int64 and bool
 * inputs (indices, masks) are passed through unchanged. Everything runs inside `scope`, so nothing
 * leaks.
 */
import assert from 'node:assert/strict';
import { grad, scope, tensor, type Tensor } from '../src/engine/index.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance (relative to the finite-difference value). */
  rtol?: number;
  /** A label for assertion messages. */
  name?: string;
}

/** A deterministic weight in [0.5, 1.5) ∪ (−1.5, −0.5], from a small LCG, for the output of size n. */
function weights(n: number): Float64Array {
  const w = new Float64Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 2 ** 32;
    w[i] = (u < 0.5 ? -1 : 1) * (0.5 + 2 * (u < 0.5 ? u : u - 0.5));
  }
  return w;
}

const isFloat = (t: Tensor): boolean => t.dtype === 'float32' || t.dtype === 'float64';

/**
 * Checks the gradient of fn at inputs and returns the largest absolute error between the analytic
 * and the finite-difference gradients. Throws an AssertionError naming the input and element where
 * |analytic − numeric| > atol + rtol·|numeric|.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): number {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, name = 'gradcheck' } = opts;
  return scope(() => {
    const diff = inputs.map(isFloat);
    assert.ok(diff.some(Boolean), `${name}: no floating-point input to differentiate`);
    const base: (Float64Array | null)[] = inputs.map((x, i) => (diff[i] ? Float64Array.from(x.double().toArray() as Float64Array) : null));
    const shapes = inputs.map((x) => x.shape);

    // The inputs as fresh float64 leaves (a perturbed copy of input k when `perturb` says so).
    const leaves = (perturb?: { k: number; j: number; delta: number }): Tensor[] =>
      inputs.map((x, i) => {
        if (!diff[i]) return x;
        let data = base[i]!;
        if (perturb && perturb.k === i) {
          data = Float64Array.from(data);
          data[perturb.j] += perturb.delta;
        }
        return tensor(data, shapes[i], 'float64').requiresGrad_(true);
      });

    // L(x) = Σ fn(x)·w. Gradient recording stays on: fn may itself call grad() (higher-order checks).
    let w: Tensor | null = null;
    const loss = (xs: Tensor[]): Tensor => {
      const out = fn(...xs);
      assert.equal(out.dtype, 'float64', `${name}: fn returned ${out.dtype}, not float64`);
      w ??= tensor(weights(out.numel), out.shape, 'float64');
      assert.deepEqual(out.shape, w.shape, `${name}: fn's output shape changed under perturbation`);
      return out.mul(w).sum();
    };
    const value = (perturb: { k: number; j: number; delta: number }): number => scope(() => loss(leaves(perturb)).item());

    const xs = leaves();
    const L = loss(xs);
    const wrt = xs.filter((_, i) => diff[i]);
    assert.ok(L.requiresGrad, `${name}: the output does not depend on any input through autograd`);
    const analytic = grad([L], wrt, { allowUnused: true }).map((g, n) => g ? (g.toArray() as Float64Array) : new Float64Array(wrt[n].numel));

    let maxErr = 0;
    let n = 0;
    for (let k = 0; k < inputs.length; k++) {
      if (!diff[k]) continue;
      const a = analytic[n++];
      for (let j = 0; j < base[k]!.length; j++) {
        const plus = value({ k, j, delta: eps });
        const minus = value({ k, j, delta: -eps });
        const numeric = (plus - minus) / (2 * eps);
        const err = Math.abs(a[j] - numeric);
        maxErr = Math.max(maxErr, err);
        assert.ok(
          err <= atol + rtol * Math.abs(numeric),
          `${name}: input ${k} element ${j}: analytic ${a[j]} vs finite difference ${numeric} (error ${err.toExponential(2)})`,
        );
      }
    }
    return maxErr;
  });
}
