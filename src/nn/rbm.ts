/**
 * Restricted Boltzmann machines (Smolensky 1986; Hinton 2002, "Training products of experts by
 * minimizing contrastive divergence"; Hinton 2010, "A practical guide to training RBMs"), the layers
 * of Schilling et al.'s deep belief network (docs/papers.md §5).
 *
 * Visible v ∈ R^V, hidden h ∈ {0, 1}^H, weight W [H, V] (PyTorch's Linear layout), visible bias b,
 * hidden bias c:
 *
 *   binary–binary,   v ∈ {0, 1}^V:  E(v, h) = −bᵀv − cᵀh − hᵀWv
 *   Gaussian–binary, v ∈ R^V:       E(v, h) = ½‖v − b‖² − cᵀh − hᵀWv   (unit variance: standardise the data)
 *
 *   p(h_j = 1 | v) = σ(c_j + W_j·v)                    (the representation a DBN passes up)
 *   p(v_i = 1 | h) = σ(b_i + (Wᵀh)_i)   or   v | h ~ N(b + Wᵀh, I)
 *   free energy F(v) = −log Σ_h e^{−E(v,h)} = −bᵀv − Σ_j softplus(c_j + W_j·v)   or   ½‖v − b‖² − Σ_j softplus(…)
 *   log p(v) = −F(v) − log Z,  log Z = log Σ_h e^{cᵀh} Σ_v e^{bᵀv + hᵀWv} = logsumexp_h [cᵀh + Σ_i softplus(b_i + (Wᵀh)_i)]
 *              or logsumexp_h [cᵀh + ½‖b + Wᵀh‖² − ½‖b‖²] + (V/2)·log 2π   (enumerated over the 2^H hidden states)
 *
 * CD-k (Hinton 2002): from the data v⁰, h⁰ ~ p(h | v⁰); k times v^s ~ p(v | h^{s−1}), h^s ~ p(h | v^s).
 * The gradient estimate of the mean log-likelihood over a batch of n points is
 *   ΔW = p(h|v⁰)ᵀ v⁰ / n − p(h|v^k)ᵀ v^k / m,  Δb = mean(v⁰) − mean(v^k),  Δc = mean(p(h|v⁰)) − mean(p(h|v^k)):
 * the chain runs on sampled states (so for large k, v^k is a draw from the model and the estimate is
 * unbiased), and the statistics use hidden probabilities given those states (less noise, same mean;
 * Hinton 2010 §3.3). Two variants, options of cdGradient and trainRbm:
 * - `statistics: 'samples'`: the sampled h⁰ and h^k ~ p(h | v^k) in place of the probabilities (same
 *   mean, more noise), the chain then starting from that h⁰;
 * - `persistent` (PCD, Tieleman 2008; scikit-learn's BernoulliRBM): the negative chain of m states
 *   does not restart at the data but continues from the previous batch's h^k ~ p(h | v^k), starting at
 *   h = 0; m is the batch size, n may be smaller for the last batch.
 * Random draws in order, per step: H uniforms per point for h, then V uniforms (binary) or V standard
 * normals (Gaussian) per point for v; with either variant, H uniforms more for h^k at the end (PCD draws
 * no h⁰ unless the statistics are samples). A test replays the default's draws in numpy.
 *
 * Training: minibatch SGD with momentum on the estimate, u ← μ·u + η·(Δ − λ·W for the weight), θ ← θ + u;
 * weight decay λ on W only (Hinton 2010 §10). Initialisation W ~ N(0, 0.01²), biases 0.
 */
import { noGrad } from '../engine/autograd.js';
import { rand, randn, randperm, tensor, zerosLike, zeros, manualSeed } from '../engine/creation.js';
import { keep, scope } from '../engine/memory.js';
import type { DType, Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { linear } from './functional.js';

export type VisibleKind = 'binary' | 'gaussian';

export interface Rbm {
  visible: VisibleKind;
  /** [H, V] */
  weight: Tensor;
  /** b [V] */
  visibleBias: Tensor;
  /** c [H] */
  hiddenBias: Tensor;
}

/** The random draws of the Gibbs chain: libtorch's generator by default, replayable in tests. */
export interface Noise {
  uniform(shape: number[], dtype: DType): Tensor;
  normal(shape: number[], dtype: DType): Tensor;
}
const TORCH_NOISE: Noise = { uniform: (s, d) => rand(s, d), normal: (s, d) => randn(s, d) };

/** The hidden units' part of the CD statistics: p(h | v) (the default) or sampled states h (see the header). */
export type CdStatistics = 'probabilities' | 'samples';

export interface CdOptions {
  statistics?: CdStatistics;
  /** PCD: the negative chain's hidden states [m, H], continued instead of starting at the data. */
  chain?: Tensor;
}

export interface RbmTrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Gibbs steps of CD-k (default 1). */
  k?: number;
  momentum?: number;
  weightDecay?: number;
  /** Default 'probabilities'. */
  statistics?: CdStatistics;
  /** PCD with batchSize persistent chains instead of CD (default false). */
  persistent?: boolean;
  seed: number;
}

/** A new RBM, W [hidden, visible] ~ N(0, 0.01²) from libtorch's generator (seed it first), biases 0. */
export function createRbm(visible: number, hidden: number, kind: VisibleKind, dtype: DType = 'float32'): Rbm {
  check(Number.isInteger(visible) && visible >= 1 && Number.isInteger(hidden) && hidden >= 1, () => `RBM sizes ${visible}×${hidden}: need positive integers`);
  return {
    visible: kind,
    weight: keep(scope(() => randn([hidden, visible], dtype).mul(0.01))),
    visibleBias: keep(zeros([visible], dtype)),
    hiddenBias: keep(zeros([hidden], dtype)),
  };
}

export function disposeRbm(rbm: Rbm): void {
  for (const t of [rbm.weight, rbm.visibleBias, rbm.hiddenBias]) t.dispose();
}

/** p(h = 1 | v) for v [n, V]: [n, H]. */
export function hiddenProbs(rbm: Rbm, v: Tensor): Tensor {
  return scope(() => linear(v, rbm.weight, rbm.hiddenBias).sigmoid());
}

/** E[v | h] [n, V] for h [n, H]: σ(b + Wᵀh) or b + Wᵀh. */
export function visibleMean(rbm: Rbm, h: Tensor): Tensor {
  return scope(() => {
    const pre = h.matmul(rbm.weight).add(rbm.visibleBias);
    return rbm.visible === 'binary' ? pre.sigmoid() : pre;
  });
}

/** Binary states (0 or 1) with P(1) = p, in p's shape and dtype. */
export function sampleBernoulli(p: Tensor, noise: Noise = TORCH_NOISE): Tensor {
  return scope(() => noise.uniform(p.shape, p.dtype).lt(p).to(p.dtype));
}

/** A draw of v | h: [n, V] for h [n, H]. */
export function sampleVisible(rbm: Rbm, h: Tensor, noise: Noise = TORCH_NOISE): Tensor {
  return scope(() => {
    const mean = visibleMean(rbm, h);
    return rbm.visible === 'binary' ? sampleBernoulli(mean, noise) : mean.add(noise.normal(mean.shape, mean.dtype));
  });
}

/** F(v) per point: v [n, V] → [n]. */
export function freeEnergy(rbm: Rbm, v: Tensor): Tensor {
  return scope(() => {
    const hidden = linear(v, rbm.weight, rbm.hiddenBias).softplus().sum(1);
    const visible = rbm.visible === 'binary' ? v.mul(rbm.visibleBias).sum(1).neg() : v.sub(rbm.visibleBias).square().sum(1).mul(0.5);
    return visible.sub(hidden);
  });
}

/** log Z, a 0-d tensor in the weight's dtype, by enumerating the 2^H hidden states (H ≤ 20). */
export function logPartition(rbm: Rbm): Tensor {
  const [H, V] = rbm.weight.shape;
  check(H <= 20, () => `exact log Z enumerates 2^H hidden states; H = ${H} is too many (≤ 20)`);
  return scope(() => {
    const bits = new Float64Array(2 ** H * H);
    for (let s = 0; s < 2 ** H; s++) for (let j = 0; j < H; j++) bits[s * H + j] = (s >> j) & 1;
    const h = tensor(bits, [2 ** H, H], 'float64').to(rbm.weight.dtype);
    const field = h.matmul(rbm.weight).add(rbm.visibleBias);
    const hidden = h.matmul(rbm.hiddenBias);
    if (rbm.visible === 'binary') return hidden.add(field.softplus().sum(1)).logsumexp(0);
    const b2 = rbm.visibleBias.square().sum();
    return hidden.add(field.square().sum(1).sub(b2).mul(0.5)).logsumexp(0).add((V / 2) * Math.log(2 * Math.PI));
  });
}

/** Mean exact log p(v) (a log density for Gaussian visibles) over v [n, V], a 0-d tensor; differentiable in the parameters. */
export function logLikelihood(rbm: Rbm, v: Tensor): Tensor {
  return scope(() => freeEnergy(rbm, v).mean().neg().sub(logPartition(rbm)));
}

/** Mean over the points of v [n, V] of the squared error ‖v − E[v | p(h | v)]‖² (the mean-field reconstruction). */
export function reconstructionError(rbm: Rbm, v: Tensor): number {
  return noGrad(() => scope(() => visibleMean(rbm, hiddenProbs(rbm, v)).sub(v).square().sum(1).mean().item()));
}

export interface RbmGradient {
  weight: Tensor;
  visibleBias: Tensor;
  hiddenBias: Tensor;
  /** With `chain` given: the chain's next hidden states [m, H], h^k ~ p(h | v^k). */
  chain?: Tensor;
}

/**
 * The CD-k estimate of the gradient of the mean log-likelihood of the batch v0 [n, V] (see the
 * header): weight [H, V], biases [V] and [H]; `o.chain` [m, H] makes it PCD.
 */
export function cdGradient(rbm: Rbm, v0: Tensor, k = 1, noise: Noise = TORCH_NOISE, o: CdOptions = {}): RbmGradient {
  check(Number.isInteger(k) && k >= 1, () => `CD-k needs an integer k ≥ 1, got ${k}`);
  const samples = o.statistics === 'samples';
  return noGrad(() =>
    scope(() => {
      const ph0 = hiddenProbs(rbm, v0);
      const positive = samples ? sampleBernoulli(ph0, noise) : ph0;
      let h = o.chain ?? (samples ? positive : sampleBernoulli(ph0, noise));
      let [v, ph] = [v0, ph0];
      for (let s = 0; s < k; s++) {
        if (s > 0) h = sampleBernoulli(ph, noise);
        v = sampleVisible(rbm, h, noise);
        ph = hiddenProbs(rbm, v);
      }
      const next = samples || o.chain ? sampleBernoulli(ph, noise) : undefined;
      const negative = samples ? next! : ph;
      const [n, m] = [v0.size(0), v.size(0)];
      return {
        weight: positive.t().mm(v0).div(n).sub(negative.t().mm(v).div(m)),
        visibleBias: v0.mean(0).sub(v.mean(0)),
        hiddenBias: positive.mean(0).sub(negative.mean(0)),
        ...(o.chain ? { chain: next } : {}),
      };
    })
  );
}

/**
 * Trains rbm in place on x [n, V] with CD-k, minibatch SGD with momentum and weight decay, in a
 * seeded order. Returns the reconstruction error of x after each epoch.
 */
export function trainRbm(rbm: Rbm, x: Tensor, o: RbmTrainOptions): number[] {
  const { k = 1, momentum = 0, weightDecay = 0 } = o;
  check(Number.isInteger(o.batchSize) && o.batchSize >= 1, () => `batch size ${o.batchSize}: need an integer ≥ 1`);
  check(x.ndim === 2 && x.size(1) === rbm.weight.size(1), () => `RBM with ${rbm.weight.size(1)} visible units got inputs of shape [${x.shape}]`);
  manualSeed(o.seed);
  const params = [rbm.weight, rbm.visibleBias, rbm.hiddenBias];
  const velocity = params.map((p) => keep(zerosLike(p)));
  // PCD's chains start at h = 0, as scikit-learn's do.
  let chain = o.persistent ? keep(zeros([o.batchSize, rbm.weight.size(0)], rbm.weight.dtype)) : undefined;
  const n = x.size(0);
  const errors: number[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      scope(() => {
        const perm = randperm(n);
        for (let i = 0; i < n; i += o.batchSize) {
          scope(() => {
            const batch = x.indexSelect(0, perm.narrow(0, i, Math.min(o.batchSize, n - i)));
            const g = cdGradient(rbm, batch, k, TORCH_NOISE, { statistics: o.statistics, chain });
            const steps = [weightDecay ? g.weight.sub(rbm.weight.mul(weightDecay)) : g.weight, g.visibleBias, g.hiddenBias];
            params.forEach((p, j) => p.add_(velocity[j].mul_(momentum).add_(steps[j], o.lr)));
            if (g.chain) {
              chain!.dispose();
              chain = keep(g.chain);
            }
          });
        }
      });
      errors.push(reconstructionError(rbm, x));
    }
  } finally {
    for (const u of [...velocity, chain]) u?.dispose();
  }
  return errors;
}
