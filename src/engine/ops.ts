/** Ops over several tensors (the rest are Tensor methods). */
import { N } from './native.js';
import { Tensor, wrap } from './tensor.js';

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.cat(tensors.map((t) => t.id), dim));
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.stack(tensors.map((t) => t.id), dim));
}
/** cond ? a : b, elementwise with broadcasting. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return wrap(N.where(cond.id, a.id, b.id));
}
/** One-hot rows (int64) of class indices. */
export function oneHot(indices: Tensor, classes: number): Tensor {
  return wrap(N.oneHot(indices.id, classes));
}
