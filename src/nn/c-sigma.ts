/**
 * c_σ = 1/E[σ(z)²], z ~ N(0, 1): the scale that keeps the second moment of a layer's activations at 1
 * in Du et al.'s networks (ICML 2019; docs/papers.md §3). Its own file, below the models, because
 * the ResNet (models/resmlp.ts) and the limiting Gram matrices (src/measures/ntk-limit.ts) both use it.
 */
import type { Activation } from './layers.js';

/** c_σ = 1/E[σ(z)²], z ~ N(0,1), by Gauss–Hermite-free numeric integration on a fine grid. */
export function cSigma(act: Activation): number {
  if (act === 'relu') return 2;
  const f = (z: number): number => {
    switch (act) {
      case 'softplus':
        return Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0);
      case 'tanh':
        return Math.tanh(z);
      case 'sigmoid':
        return 1 / (1 + Math.exp(-z));
      default:
        return z > 0 ? z : 0.2 * z;
    }
  };
  // Simpson's rule on [−12, 12]: the Gaussian tail beyond is below 1e-30.
  const n = 4800, a = -12, h = 24 / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const z = a + i * h;
    const w = i === 0 || i === n ? 1 : i % 2 ? 4 : 2;
    s += w * f(z) ** 2 * Math.exp(-z * z / 2);
  }
  return 1 / ((s * h) / 3 / Math.sqrt(2 * Math.PI));
}
