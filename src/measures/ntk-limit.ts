/**
 * Limiting Gram matrices of infinitely wide networks at random initialisation (docs/papers.md §3).
 *
 * Two-layer ReLU network (Du, Zhai, Póczos, Singh, ICLR 2019), f = (1/√m) Σ_r a_r σ(w_rᵀx), a_r = ±1
 * fixed, w_r ~ N(0, I), Gram of the hidden weights:
 *
 *   H^∞_ij = E_w[1{wᵀx_i ≥ 0, wᵀx_j ≥ 0}] x_iᵀx_j = x_iᵀx_j (π − θ_ij) / (2π),
 *
 * θ_ij the angle between x_i and x_j (arccos(x_iᵀx_j) for unit vectors, the paper's form; the angle
 * form holds for any vectors, since the indicators do not see lengths).
 *
 * Deep networks (Du, Lee, Li, Wang, Zhai, ICML 2019), weights N(0, 1), c_σ = 1/E[σ(z)²]; for a pair
 * (i, j), A^(h) = [[K^(h−1)_ii, K^(h−1)_ij], [K^(h−1)_ji, K^(h−1)_jj]] and (u, v) ~ N(0, A^(h)).
 * Fully connected, x^(h) = √(c_σ/m) σ(W^(h) x^(h−1)), u = aᵀx^(H):
 *
 *   K^(0)_ij = x_iᵀx_j,   K^(h)_ij = c_σ E[σ(u)σ(v)] (h < H),   K^(H)_ij = c_σ K^(H−1)_ij E[σ′(u)σ′(v)].
 *
 * ResNet, x^(1) = √(c_σ/m) σ(W^(1) x), x^(h) = x^(h−1) + c_res/(H√m) · σ(W^(h) x^(h−1)) (models/resmlp.ts),
 * with b^(h)_i the limit of (1/√m) Σ_r x^(h)_ir (the mean of the features, which the skip carries):
 *
 *   K^(1) as above,  b^(1)_i = √c_σ E[σ(u_i)],  u_i ~ N(0, K^(0)_ii)
 *   K^(h)_ij = K^(h−1)_ij + (c_res/H)(b^(h−1)_i E[σ(v)] + b^(h−1)_j E[σ(u)]) + (c_res/H)² E[σ(u)σ(v)]
 *   b^(h)_i  = b^(h−1)_i + (c_res/H) E[σ(u_i)],  u_i ~ N(0, K^(h−1)_ii)          (2 ≤ h < H)
 *   K^(H)_ij = (c_res/H)² K^(H−1)_ij E[σ′(u)σ′(v)]       (H = 1: the fully-connected K^(1))
 *
 * The cross term pairs b_i with σ(v), the branch of point j: ⟨x_i, σ(W x_j)⟩/√m → b_i E[σ(v)]. Du et
 * al. print it with b_i beside σ(u); on their unit-norm data every K_ii and b_i are equal, so the
 * two read the same. K^(H) is the limit of G^(H), the Gram matrix of the last layer's weights W^(H)
 * (empiricalGram's layer `blocks.{H−2}` of resmlp:IN-M-H-OUT or fcnet:IN-M-H-OUT; the tests compare the fc limit with fcnet).
 *
 * Expectations: ReLU in closed form (arc-cosine kernel; cos θ = A_12/√(A_11 A_22)):
 * E[σ(u)σ(v)] = √(A_11 A_22)(sin θ + (π − θ) cos θ)/(2π), E[σ′(u)σ′(v)] = (π − θ)/(2π),
 * E[σ(u)] = √(A_11/(2π)). Smooth activations (softplus, tanh, sigmoid) by Gauss–Hermite quadrature
 * in u = √A_11 z₁, v = √A_22 (ρ z₁ + √(1 − ρ²) z₂) with `nodes` points per axis (default 32);
 * the nodes come from the Golub–Welsch eigenproblem. A point at the origin has ρ = 0 with every pair.
 * The rule is exact for polynomials and loses accuracy as σ(√A_11 z) nears a kink: with 32 nodes,
 * softplus pairs are within 1e-13 relative at variance 1 (the papers' unit-norm inputs, which c_σ
 * keeps at variance 1 layer after layer), 2e-8 at 4 and 2e-4 at 25 — scale the inputs or raise `nodes`.
 */
import { noGrad } from '../engine/autograd.js';
import { tensor } from '../engine/creation.js';
import { cat } from '../engine/ops.js';
import { scope } from '../engine/memory.js';
import { eigh } from '../engine/linalg.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { checkFinite } from './finite.js';
import { activate, type Activation } from '../nn/layers.js';
import { cSigma } from '../nn/c-sigma.js';

export type LimitActivation = 'relu' | 'softplus' | 'tanh' | 'sigmoid';
export const LIMIT_ACTIVATIONS: readonly LimitActivation[] = ['relu', 'softplus', 'tanh', 'sigmoid'];

export interface LimitOptions {
  architecture: 'fc' | 'resnet';
  /** H ≥ 1, the number of weight layers before the output (resmlp's depth). */
  depth: number;
  activation?: LimitActivation;
  /** The ResNet's branch factor c_res (default 0.5, as resmlp). */
  cRes?: number;
  /** Gauss–Hermite nodes per axis for smooth activations (default 32). */
  nodes?: number;
}

type Fn = (t: Tensor) => Tensor;

const derivative: Record<LimitActivation, Fn> = {
  relu: (t) => t.gt(0).double(),
  softplus: (t) => t.sigmoid(),
  tanh: (t) => t.tanh().square().rsub(1),
  sigmoid: (t) => {
    const s = t.sigmoid();
    return s.mul(s.rsub(1));
  },
};

/**
 * Nodes and weights of the Gauss–Hermite rule for E[f(z)], z ~ N(0, 1): Σ_k w_k f(z_k); each [count], float64.
 *
 * @example
 * ```ts
 * import { gaussHermite } from 'dltheory';
 * const { nodes, weights } = gaussHermite(20);
 * weights.mul(nodes.square()).sum().item(); // 1 = E[z²], up to round-off (exact for polynomials up to degree 39)
 * ```
 */
export function gaussHermite(count: number): { nodes: Tensor; weights: Tensor } {
  check(Number.isInteger(count) && count >= 1, () => `Gauss–Hermite: ${count} nodes; need an integer ≥ 1`);
  return scope(() => {
    // The Jacobi matrix of the probabilists' Hermite polynomials: zero diagonal, off-diagonal √k.
    const jacobi = new Float64Array(count * count);
    for (let k = 1; k < count; k++) jacobi[k * count + k - 1] = jacobi[(k - 1) * count + k] = Math.sqrt(k);
    const { values, vectors } = eigh(tensor(jacobi, [count, count], 'float64'));
    return { nodes: values, weights: vectors.select(0, 0).square() };
  });
}

/** The correlation A_12/√(A_11 A_22) of every pair, clamped into [−1, 1]; 0 beside a point at the origin. */
function correlations(k: Tensor, d: Tensor): Tensor {
  const norms = d.clamp(0).sqrt();
  const outer = norms.unsqueeze(1).mul(norms.unsqueeze(0));
  return k.div(outer.clamp(1e-300)).clamp(-1, 1).maskedFill(outer.eq(0), 0);
}

/**
 * E[f(u) g(v)] for every pair (i, j), (u, v) ~ N(0, [[K_ii, K_ij], [K_ji, K_jj]]), by the tensor
 * Gauss–Hermite rule, a block of rows at a time so that no block exceeds 2^22 evaluations.
 */
export function pairExpectation(k: Tensor, f: Fn, g: Fn, nodes = 32): Tensor {
  return scope(() => {
    const n = k.size(0);
    const { nodes: z, weights: w } = gaussHermite(nodes);
    const d = k.diagonal();
    const rho = correlations(k, d);
    const root = d.clamp(0).sqrt();
    const fu = f(root.unsqueeze(1).mul(z.unsqueeze(0))).mul(w); // [n, p], weighted
    const rows = Math.max(1, Math.floor(2 ** 22 / (n * nodes * nodes)));
    const blocks: Tensor[] = [];
    for (let r = 0; r < n; r += rows) {
      blocks.push(scope(() => {
        const len = Math.min(rows, n - r);
        const p = rho.narrow(0, r, len).unsqueeze(2).unsqueeze(3); // [len, n, 1, 1]
        const q = p.square().rsub(1).clamp(0).sqrt();
        const v = p.mul(z.view([1, 1, nodes, 1])).add(q.mul(z.view([1, 1, 1, nodes]))).mul(root.view([1, n, 1, 1]));
        const inner = g(v).mul(w).sum(3); // [len, n, p]
        return inner.mul(fu.narrow(0, r, len).unsqueeze(1)).sum(2);
      }));
    }
    return cat(blocks);
  });
}

/** E[σ(u_i)], u_i ~ N(0, K_ii), for every point. */
function meanActivation(d: Tensor, act: LimitActivation, nodes: number): Tensor {
  return scope(() => {
    if (act === 'relu') return d.clamp(0).div(2 * Math.PI).sqrt();
    const { nodes: z, weights: w } = gaussHermite(nodes);
    return activate(d.clamp(0).sqrt().unsqueeze(1).mul(z.unsqueeze(0)), act).mul(w).sum(1);
  });
}

/** The angle θ_ij of every pair from cos θ (atan2 keeps it accurate near 0 and π). */
function angles(cos: Tensor): Tensor {
  return cos.square().rsub(1).clamp(0).sqrt().atan2(cos);
}

/** E[σ(u)σ(v)] (which 'value') or E[σ′(u)σ′(v)] ('derivative') for every pair. */
function expectation(k: Tensor, act: LimitActivation, which: 'value' | 'derivative', nodes: number): Tensor {
  return scope(() => {
    if (act !== 'relu') {
      const fn: Fn = which === 'value' ? (t) => activate(t, act) : derivative[act];
      return pairExpectation(k, fn, fn, nodes);
    }
    const d = k.diagonal();
    const cos = correlations(k, d);
    const theta = angles(cos);
    const arc = theta.rsub(Math.PI);
    if (which === 'derivative') return arc.div(2 * Math.PI);
    const scale = d.clamp(0).sqrt();
    return theta.sin().add(arc.mul(cos)).mul(scale.unsqueeze(1).mul(scale.unsqueeze(0))).div(2 * Math.PI);
  });
}

function checkPoints(x: Tensor): void {
  check(x.ndim === 2, () => `limiting Gram: points of shape [${x.shape}]; expected [n, dims]`);
  check(x.size(0) >= 1, 'limiting Gram: no points');
  checkFinite(x, 'limiting Gram', 'the limiting Gram matrix needs finite inputs');
}

/**
 * H^∞ of the two-layer ReLU network on points x [n, d], float64 [n, n].
 *
 * @example
 * ```ts
 * import { gramSpectrum, hInfinity, randn } from 'dltheory';
 * const z = randn([100, 10], 'float64');
 * const x = z.div(z.norm(2, 1, true)); // unit-norm points, as in the paper
 * gramSpectrum(hInfinity(x)).lambdaMin;  // λ_0 > 0: no two points parallel (the paper's Theorem 3.1)
 * // empiricalGram(new TwoLayerReLU(10, m).double(), x).ntk tends to hInfinity(x) as m → ∞
 * ```
 */
export function hInfinity(x: Tensor): Tensor {
  checkPoints(x);
  return noGrad(() =>
    scope(() => {
      const xd = x.double();
      const k = xd.mm(xd.t());
      return k.mul(angles(correlations(k, k.diagonal())).rsub(Math.PI)).div(2 * Math.PI);
    })
  );
}

/**
 * K^(H) of the fully-connected or residual network on points x [n, d], float64 [n, n] (see the module comment).
 *
 * @example
 * ```ts
 * import { limitingGram, randn } from 'dltheory';
 * const z = randn([20, 10], 'float64');
 * const x = z.div(z.norm(2, 1, true));
 * const k = limitingGram(x, { architecture: 'resnet', depth: 3 }); // [20, 20]
 * // empiricalGram(buildModel('resmlp:10-M-3-1').double(), x).layers[2].gram ('blocks.1') tends to k as M → ∞
 * ```
 */
export function limitingGram(x: Tensor, opts: LimitOptions): Tensor {
  checkPoints(x);
  const { architecture, depth: H, activation: act = 'relu', cRes = 0.5, nodes = 32 } = opts;
  check(Number.isInteger(H) && H >= 1, () => `limiting Gram: depth ${H}; need an integer ≥ 1`);
  check(LIMIT_ACTIVATIONS.includes(act), () => `limiting Gram: activation '${act}' (have ${LIMIT_ACTIVATIONS.join(', ')})`);
  check(architecture === 'fc' || architecture === 'resnet', () => `limiting Gram: architecture '${architecture}' (fc or resnet)`);
  check(cRes > 0 && cRes <= 1, () => `limiting Gram: c_res ${cRes}; need 0 < c_res ≤ 1`);
  check(Number.isInteger(nodes) && nodes >= 2, () => `limiting Gram: ${nodes} quadrature nodes; need an integer ≥ 2`);
  const c = cSigma(act as Activation);
  return noGrad(() =>
    scope(() => {
      const xd = x.double();
      let k = xd.mm(xd.t());
      if (H === 1) return k.mul(expectation(k, act, 'derivative', nodes)).mul(c);
      if (architecture === 'fc') {
        for (let h = 1; h < H; h++) k = expectation(k, act, 'value', nodes).mul(c);
        return k.mul(expectation(k, act, 'derivative', nodes)).mul(c);
      }
      const branch = cRes / H;
      let b = meanActivation(k.diagonal(), act, nodes).mul(Math.sqrt(c));
      k = expectation(k, act, 'value', nodes).mul(c);
      for (let h = 2; h < H; h++) {
        const m = meanActivation(k.diagonal(), act, nodes);
        const cross = b.unsqueeze(1).mul(m.unsqueeze(0));
        k = k.add(cross.add(cross.t()).mul(branch)).add(expectation(k, act, 'value', nodes).mul(branch * branch));
        b = b.add(m.mul(branch));
      }
      return k.mul(expectation(k, act, 'derivative', nodes)).mul(branch * branch);
    })
  );
}
