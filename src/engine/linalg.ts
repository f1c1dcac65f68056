/**
 * Linear algebra (torch.linalg), meant for float64. Symmetric routines read the lower triangle.
 */
import { N } from './native.js';
import { type Tensor, wrap } from './tensor.js';

/** Eigenvalues of a symmetric matrix, ascending. */
export function eigvalsh(a: Tensor): Tensor {
  return wrap(N.eigvalsh(a.id));
}
/** Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix. */
export function eigh(a: Tensor): { values: Tensor; vectors: Tensor } {
  const [v, q] = N.eigh(a.id);
  return { values: wrap(v), vectors: wrap(q) };
}
/** A = U·diag(S)·Vh; reduced unless fullMatrices. */
export function svd(a: Tensor, fullMatrices = false): { U: Tensor; S: Tensor; Vh: Tensor } {
  const [u, s, vh] = N.svd(a.id, fullMatrices);
  return { U: wrap(u), S: wrap(s), Vh: wrap(vh) };
}
/** Singular values, descending. */
export function svdvals(a: Tensor): Tensor {
  return wrap(N.svdvals(a.id));
}
/** Matrix norm over the last two dims: 2 (largest singular value), -2, 1, Infinity, 'fro' or 'nuc'. */
export function matrixNorm(a: Tensor, ord: number | 'fro' | 'nuc' = 'fro'): Tensor {
  return wrap(N.matrixNorm(a.id, ord));
}
/** X with A·X = B. */
export function solve(a: Tensor, b: Tensor): Tensor {
  return wrap(N.solve(a.id, b.id));
}
/** Least squares min ‖A·X − B‖ (gelsd: rank-deficient A allowed). */
export function lstsq(a: Tensor, b: Tensor): { solution: Tensor; rank: Tensor; singularValues: Tensor } {
  const [x, residuals, rank, sv] = N.lstsq(a.id, b.id);
  if (residuals >= 0) N.free(residuals);
  return { solution: wrap(x), rank: wrap(rank), singularValues: wrap(sv) };
}
export function inv(a: Tensor): Tensor {
  return wrap(N.inv(a.id));
}
export function cholesky(a: Tensor): Tensor {
  return wrap(N.cholesky(a.id));
}
export function det(a: Tensor): Tensor {
  return wrap(N.det(a.id));
}
export function matrixRank(a: Tensor): Tensor {
  return wrap(N.matrixRank(a.id));
}
export function qr(a: Tensor): { Q: Tensor; R: Tensor } {
  const [q, r] = N.qr(a.id);
  return { Q: wrap(q), R: wrap(r) };
}
