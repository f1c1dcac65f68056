// Tolerances that follow from a dtype's round-off, for tests that compare one result computed along
// two paths: another library, other BLAS or ATen kernels (AVX-512, AVX2, SSE), another batch shape or
// thread count. Such paths sum in different orders; a sum of n terms then differs by up to about
// log2(n)·ε relative (pairwise and blocked summation) and a chain of layers adds a few ε per layer.

/** Machine epsilon of each floating-point dtype: the gap between 1 and the next float. */
export const EPS = { float32: 2 ** -23, float64: 2 ** -52 } as const;

/** `units` units of `dtype`'s round-off, relative to `scale` (the size of what is compared). */
export function roundOff(dtype: keyof typeof EPS, units: number, scale = 1): number {
  return units * EPS[dtype] * scale;
}

/** max_i |a_i − b_i| / max_i |b_i|: the largest difference relative to the reference b's scale. */
export function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}
