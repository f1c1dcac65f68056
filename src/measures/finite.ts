/**
 * The checks the measures share, so that a NaN never passes silently: a non-finite input named by
 * point and dimension, and linear algebra whose failure is reported as the user's input, in one line.
 */
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';

/** The flat index and value of the first NaN or ±Inf of `x`, or undefined when every entry is finite. */
function firstNonFinite(x: Tensor): { at: number; value: number } | undefined {
  return scope(() => {
    const finite = x.isfinite();
    if (finite.all().item()) return undefined;
    const at = finite.logicalNot().to('int64').flatten().argmax().item();
    return { at, value: x.flatten().select(0, at).item() };
  });
}

/**
 * Throws `${what}: point i, dimension d is v; ${needs}` (an InputError) for the first NaN or ±Inf of
 * x [n, D]; row i is point position[i] (default i).
 */
export function checkFinite(x: Tensor, what: string, needs: string, position?: Int32Array): void {
  const bad = firstNonFinite(x);
  if (!bad) return;
  const [i, d] = [Math.floor(bad.at / x.size(1)), bad.at % x.size(1)];
  throw new InputError(`${what}: point ${position ? position[i] : i}, dimension ${d} is ${bad.value}; ${needs}`);
}

/**
 * `routine(a)` for a linear-algebra step of `measure` on matrix `a`: a NaN or ±Inf entry, or a
 * failure of the routine itself (LAPACK not converging), is an InputError naming the measure and
 * the cause — a property of the user's model or data, not an internal error.
 */
export function linalgStep<T>(measure: string, a: Tensor, routine: (a: Tensor) => T): T {
  const bad = firstNonFinite(a);
  if (bad) {
    const index = a.shape.map((_, k) => Math.floor(bad.at / a.shape.slice(k + 1).reduce((p, q) => p * q, 1)) % a.shape[k]);
    throw new InputError(`${measure}: the matrix [${a.shape}] holds ${bad.value} at [${index}], so it has no spectrum`);
  }
  try {
    return routine(a);
  } catch (e) {
    throw new InputError(`${measure}: ${(e as Error).message.split('\n')[0]}`);
  }
}
