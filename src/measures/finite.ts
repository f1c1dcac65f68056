/** The input check the measures share: a NaN or ±Inf is named by point and dimension, in one line. */
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';

/**
 * Throws `${what}: point i, dimension d is v; ${needs}` (an InputError) for the first NaN or ±Inf of
 * x [n, D]; row i is point position[i] (default i).
 */
export function checkFinite(x: Tensor, what: string, needs: string, position?: Int32Array): void {
  scope(() => {
    const finite = x.isfinite();
    if (finite.all().item()) return;
    const at = finite.logicalNot().to('int64').flatten().argmax().item();
    const [i, d] = [Math.floor(at / x.size(1)), at % x.size(1)];
    throw new InputError(`${what}: point ${position ? position[i] : i}, dimension ${d} is ${x.select(0, i).select(0, d).item()}; ${needs}`);
  });
}
