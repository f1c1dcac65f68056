/** Ops over several tensors (the rest are Tensor methods). */
import { N } from './native.js';
import { type Tensor, wrap } from './tensor.js';

/** Concatenation along an existing axis: [a, n], [b, n] → [a + b, n] for dim 0; the other axes must agree. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.cat(tensors.map((t) => t.id), dim));
}
/** k tensors of one shape [n, m] joined along a new axis: [k, n, m] for dim 0. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.stack(tensors.map((t) => t.id), dim));
}
/** cond ? a : b, elementwise with broadcasting. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return wrap(N.where(cond.id, a.id, b.id));
}
/** One-hot rows of class indices: int64 [n] → int64 [n, classes]. */
export function oneHot(indices: Tensor, classes: number): Tensor {
  return wrap(N.oneHot(indices.id, classes));
}
