/**
 * The Hessian spectrum of the training loss, after PyHessian (Yao, Gholami, Keutzer, Mahoney,
 * "PyHessian: Neural Networks Through the Lens of the Hessian", IEEE BigData 2020, arXiv:1912.07145):
 *
 *   L(θ) = (1/n) Σ_i CE(f(x_i; θ), y_i),   H = ∇²_θ L ∈ R^{p×p},
 *
 * the mean cross-entropy over the given points in eval mode (BatchNorm on its running statistics, no
 * dropout), θ every trainable parameter or those of one layer (`params`). H is never formed; every
 * method reads it through Hessian-vector products (Pearlmutter 1994), by double backward:
 *
 *   H v = ∇_θ ⟨∇_θ L(θ), v⟩,
 *
 * the first gradient taken with its graph recorded (createGraph), the second a vector-Jacobian product
 * of that gradient with v. Over several batches the products are summed (L is a sum over points), so
 * memory is one batch's graph however many points there are.
 *
 * - Top eigenvalues (PyHessian §III-A uses power iteration with deflation): Lanczos with full
 *   reorthogonalisation instead (Golub & Van Loan §10.1; Ghorbani, Krishnan, Xiao, ICML 2019, §2). From
 *   a Gaussian start it builds the Krylov basis V_m and the tridiagonal T_m = V_mᵀ H V_m; T_m's
 *   eigenvalues θ_i (Ritz values) approach H's extreme eigenvalues, the i-th with residual
 *   ‖H y_i − θ_i y_i‖ = β_m |s_{m,i}| (s_i the eigenvector of T_m, β_m the next coupling), which bounds
 *   |θ_i − λ| (Parlett, The Symmetric Eigenvalue Problem, Thm 3.2.1). Why Lanczos: the k eigenvalues come
 *   from one Krylov space, converging at a rate set by √gap rather than power iteration's gap ratio,
 *   and the largest eigenvalues by value come out whatever the sign of the others (power iteration
 *   finds the largest |λ|, a negative one at a saddle). Stopping: every one of the top k has residual
 *   ≤ tol · max_i |θ_i|, so each is within tol·‖H‖ of an eigenvalue. A Krylov space holds one copy of
 *   each eigenvalue; a breakdown (β at the round-off of the product: the space is invariant, as when p
 *   is small or at symmetric weights) restarts from a fresh Gaussian vector orthogonal to V, so the
 *   copies of a repeated eigenvalue come one per block, and the run stops once a whole block adds
 *   nothing to the top k. Without a breakdown, an exactly repeated top eigenvalue is found once, where
 *   deflated power iteration would find its copies (repeats are not generic for trained weights).
 * - Trace: Hutchinson's estimator (Hutchinson, Commun. Stat. Simul. Comput. 19, 1990; PyHessian §III-B),
 *   tr H = E[vᵀ H v] for Rademacher v, averaged over probes; the standard error is the probes' sample
 *   standard deviation / √probes.
 * - Spectral density: stochastic Lanczos quadrature (Ubaru, Chen, Saad, SIAM J. Matrix Anal. Appl. 38,
 *   2017, eq. 3.6; Ghorbani et al. 2019 §2; PyHessian §III-C). For a Rademacher v, normalised, m Lanczos
 *   steps give the Gauss quadrature of the spectral measure Σ_j (vᵀq_j)² δ(λ − λ_j): nodes θ_i (the
 *   eigenvalues of T_m) and weights τ_i = s_{1,i}², exact for polynomials of degree ≤ 2m − 1, so
 *   E[Σ_i τ_i θ_i] = tr H / p and E[Σ_i τ_i θ_i²] = tr H² / p. The density averages the runs' quadratures
 *   broadened by a Gaussian: φ(t) = (1/runs) Σ_runs Σ_i τ_i N(t; θ_i, σ²), with σ = `sigma` × (largest
 *   node − smallest node over the runs), on a grid of `points` values from the smallest node − 5σ to
 *   the largest + 5σ (so each Gaussian's mass lies on it), normalised to integrate to 1 on the grid
 *   (trapezoid rule). A breakdown ends a run early: the quadrature is then exact.
 *
 * Products are in the model's dtype (Module.to('float64') for a float64 Hessian); the Lanczos and
 * Hutchinson algebra (vectors, dot products, T) is float64. Draws come from the data layer's Rng
 * seeded with `seed`: the same seed gives the same result.
 *
 * Cost, in Hessian-vector products (HVPs: one forward, a backward that records its graph, and the
 * backward of that; measured ≈ 3 gradient evaluations, on the CNN below): eigenvalues ≤ `iterations` HVPs whatever k is,
 * trace `probes` HVPs, density runs × steps HVPs; the Lanczos basis holds min(iterations, p) × p float64
 * (100 steps of a 100k-parameter CNN: 80 MB). When the points fit one batch, the gradient and its
 * graph are computed once and kept, so each further HVP is the last backward alone (≈ 2 gradients). Cheap settings for a
 * population of models: k = 1, iterations = 20; probes = 10; runs = 1, steps = 20. Measured on two
 * shared cores (load 5), one thread, cnn:1x28x28-10:w=16 (206,922 parameters), 500 points, float32:
 * one HVP 0.8 s (0.6 s each with the kept graph), the top eigenvalue in 20 iterations 12 s, a 10-probe
 * trace 6 s, a 20-step density 8.5 s.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { cat } from '../engine/ops.js';
import { linspace, tensor, zeros } from '../engine/creation.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { eigh } from '../engine/linalg.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { crossEntropy } from '../nn/functional.js';
import { evalMode, type Module } from '../nn/module.js';
import { checkFinite, linalgStep } from './finite.js';
import { parameterGroups } from './ntk.js';

/** Options every Hessian measure takes. */
export interface HessianOptions {
  /** Points per forward/backward pass (default 500); the products are summed over batches. */
  batchSize?: number;
  /** Only the parameters named `params` or under `params.` (a layer: 'fc1', 'layers.0'); default every trainable one. */
  params?: string;
  /** Called after each Hessian-vector product with (products done, products planned). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The parameters the Hessian is taken over, in the model's parameter order: every trainable one, or
 * those named `prefix` or under `prefix.`. Hessian vectors are these tensors flattened and concatenated.
 *
 * Errors: an InputError naming the model's layers when nothing matches `prefix`, or when the model has no trainable parameter.
 */
export function hessianParameters(model: Module, prefix?: string): [string, Tensor][] {
  const named = model.namedParameters();
  check(named.length > 0, () => `Hessian: ${model.label} has no trainable parameter`);
  if (prefix === undefined) return named;
  const chosen = named.filter(([name]) => name === prefix || name.startsWith(`${prefix}.`));
  check(chosen.length > 0, () => `Hessian: no parameter of ${model.label} is '${prefix}' or under it; its layers are ${parameterGroups(model).join(', ')}`);
  return chosen;
}

/**
 * v ↦ H v for the loss on (x, y) over the chosen parameters, float64 vectors [p] in and out; the model is
 * in eval mode until disposed. With one batch the first gradient and its graph are kept between products.
 */
class HessianOperator implements Disposable {
  readonly size: number;
  readonly #params: Tensor[];
  readonly #sizes: number[];
  readonly #shapes: number[][];
  readonly #x: Tensor;
  readonly #y: Tensor;
  readonly #batch: number;
  readonly #eval: Disposable;
  #cached: (Tensor | null)[] | undefined;
  #done = 0;

  /** Products planned, for onProgress. */
  planned = 1;

  constructor(readonly model: Module, x: Tensor, y: Tensor, readonly opts: HessianOptions) {
    const { batchSize = 500 } = opts;
    check(Number.isInteger(batchSize) && batchSize >= 1, () => `Hessian: batchSize must be an integer ≥ 1, got ${batchSize}`);
    check(x.ndim >= 2 && x.size(0) >= 1, () => `Hessian: inputs of shape [${x.shape}]; expected [n, features...] with n ≥ 1`);
    const n = x.size(0);
    check(y.ndim === 1 && y.size(0) === n && y.dtype === 'int64', () => `Hessian: labels of shape [${y.shape}] (${y.dtype}); expected int64 [${n}]`);
    scope(() => checkFinite(x.flatten(1), 'Hessian', 'the Hessian needs finite inputs'));
    this.#params = hessianParameters(model, opts.params).map(([, p]) => p);
    this.#sizes = this.#params.map((p) => p.numel);
    this.#shapes = this.#params.map((p) => p.shape);
    this.size = this.#sizes.reduce((a, b) => a + b, 0);
    this.#batch = batchSize;
    this.#eval = evalMode(model);
    this.#x = keep(scope(() => x.detach().to(model.dtype)));
    this.#y = keep(y.detach());
    try {
      const classes = noGrad(() =>
        scope(() => {
          let out: Tensor;
          try {
            out = model.forward(this.#x.narrow(0, 0, 1));
          } catch (e) {
            throw new InputError(`Hessian: a point of shape [${x.shape.slice(1)}] does not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
          }
          check(out.ndim === 2, () => `Hessian: ${model.label} gives outputs of shape [${out.shape}] per point; cross-entropy needs logits [1, classes]`);
          return out.size(1);
        })
      );
      const [lo, hi] = scope(() => [this.#y.amin().item(), this.#y.amax().item()]);
      check(lo >= 0 && hi < classes, () => `Hessian: labels range over [${lo}, ${hi}]; ${model.label} has ${classes} classes (0…${classes - 1})`);
    } catch (e) {
      this[Symbol.dispose]();
      throw e;
    }
  }

  /** The first gradient of the loss on points [start, start + len), its graph recorded: per parameter, null where unused. */
  #gradient(start: number, len: number): (Tensor | null)[] {
    const n = this.#x.size(0);
    const logits = this.model.forward(this.#x.narrow(0, start, len));
    const loss = crossEntropy(logits, this.#y.narrow(0, start, len), 'sum').div(n);
    return grad(loss, this.#params, { createGraph: true, allowUnused: true });
  }

  /** The second backward: Σ_params ⟨g, v⟩ differentiated, flattened and concatenated as float64 [p]. */
  #secondBackward(g: (Tensor | null)[], v: Tensor[], retain: boolean): Tensor {
    // A parameter whose gradient is null or constant contributes no row of H·v through itself.
    const used = g.flatMap((t, i) => (t?.requiresGrad ? [i] : []));
    const hv = used.length === 0
      ? []
      : grad(used.map((i) => g[i]!), this.#params, { gradOutputs: used.map((i) => v[i]), retainGraph: retain, allowUnused: true });
    return cat(this.#params.map((p, i) => (hv[i] ?? zeros(this.#shapes[i], p.dtype)).flatten())).to('float64');
  }

  /** H v for v float64 [p]: a new float64 [p] tensor. */
  apply(v: Tensor): Tensor {
    const n = this.#x.size(0);
    const hv = scope(() =>
      enableGrad(() => {
        const pieces = v.to(this.model.dtype).split(this.#sizes).map((t, i) => t.view(this.#shapes[i]));
        if (n <= this.#batch) {
          this.#cached ??= scope(() => this.#gradient(0, n)).map((t) => t && keep(t));
          return this.#secondBackward(this.#cached, pieces, true);
        }
        const sum = zeros([this.size], 'float64');
        for (let start = 0; start < n; start += this.#batch) {
          scope(() => sum.add_(this.#secondBackward(this.#gradient(start, Math.min(this.#batch, n - start)), pieces, false)));
        }
        return sum;
      })
    );
    this.opts.onProgress?.(++this.#done, this.planned);
    return hv;
  }

  [Symbol.dispose](): void {
    dispose([this.#cached, this.#x, this.#y]);
    this.#eval[Symbol.dispose]();
  }
}

/** vᵀw of two float64 vectors [p]. */
function dot(v: Tensor, w: Tensor): number {
  return scope(() => v.matmul(w).item());
}

/** A float64 vector [p] of Rademacher (±1) draws, 32 signs per draw of the generator. */
function rademacher(rng: Rng, p: number): Tensor {
  const v = new Float64Array(p);
  for (let i = 0; i < p; i += 32) {
    const bits = rng.nextUint32();
    for (let b = 0; b < 32 && i + b < p; b++) v[i + b] = (bits >>> b) & 1 ? 1 : -1;
  }
  return tensor(v, [p], 'float64');
}

/** A float64 vector [p] of standard normal draws. */
function gaussian(rng: Rng, p: number): Tensor {
  return tensor(Float64Array.from({ length: p }, () => rng.normal()), [p], 'float64');
}

/** Eigenvalues of the symmetric tridiagonal T (diagonal alpha, off-diagonal beta), ascending, and their eigenvectors' first and last components. */
function tridiagonalEigen(alpha: number[], beta: number[]): { values: number[]; first: number[]; last: number[] } {
  const m = alpha.length;
  const t = new Float64Array(m * m);
  alpha.forEach((a, i) => (t[i * m + i] = a));
  beta.slice(0, m - 1).forEach((b, i) => (t[i * m + i + 1] = t[(i + 1) * m + i] = b));
  return scope(() => {
    const { values, vectors } = linalgStep('Hessian: Lanczos', tensor(t, [m, m], 'float64'), eigh);
    return {
      values: values.toNumbers(),
      first: vectors.select(0, 0).toNumbers(),
      last: vectors.select(0, m - 1).toNumbers(),
    };
  });
}

/** The round-off of one Hessian-vector product relative to ‖H‖ (measured: a few ε of the model's dtype), with a margin. */
function productRoundOff(model: Module): number {
  return 100 * (model.dtype === 'float64' ? 2 ** -52 : 2 ** -23);
}

/**
 * Lanczos with full reorthogonalisation (classical Gram–Schmidt, twice) from a vector `draw()` gives, at
 * most `steps` steps: T's diagonal alpha and couplings beta (beta[j] between steps j and j + 1). After
 * each step `after(alpha, beta, residual, breakdown)` may stop it; residual is the coupling to the next
 * vector. A breakdown, β under the round-off of the product (an invariant Krylov space), ends the run,
 * or with `restart` continues from a new draw made orthogonal to the basis (coupling 0, residual 0).
 */
function lanczos(
  op: HessianOperator,
  draw: () => Tensor,
  steps: number,
  o: { restart?: boolean; after?: (alpha: number[], beta: number[], residual: number, breakdown: boolean) => boolean } = {},
): { alpha: number[]; beta: number[] } {
  const m = Math.min(steps, op.size);
  const basis = zeros([m, op.size], 'float64');
  const [alpha, beta]: number[][] = [[], []];
  const floor = productRoundOff(op.model);
  let scale = 0;
  /** w minus its projection on the first `rows` basis vectors, twice ("twice is enough", Parlett §6.9), and its norm. */
  const orthogonalise = (w: Tensor, rows: number): number => {
    const v = basis.narrow(0, 0, rows);
    for (let pass = 0; pass < 2; pass++) scope(() => w.add_(v.t().matmul(v.matmul(w)), -1));
    return Math.sqrt(dot(w, w));
  };
  try {
    scope(() => {
      const start = draw();
      basis.select(0, 0).copy_(start.div(Math.sqrt(dot(start, start))));
    });
    for (let j = 0; j < m; j++) {
      let breakdown = false;
      const residual = scope(() => {
        const v = basis.select(0, j);
        const w = op.apply(v);
        alpha.push(dot(v, w));
        const b = orthogonalise(w, j + 1);
        scale = Math.max(scale, Math.abs(alpha[j]), b);
        if (j + 1 === m) return b;
        if (b > floor * scale) {
          basis.select(0, j + 1).copy_(w.div(b));
          beta.push(b);
          return b;
        }
        breakdown = true;
        if (!o.restart) return 0;
        const fresh = draw();
        basis.select(0, j + 1).copy_(fresh.div(orthogonalise(fresh, j + 1)));
        beta.push(0);
        return 0;
      });
      if ((breakdown && !o.restart) || o.after?.(alpha, beta, residual, breakdown)) break;
    }
    return { alpha, beta };
  } finally {
    basis.dispose();
  }
}

/** Checks `value` is an integer ≥ `min`. */
function checkCount(what: string, name: string, value: number, min: number): void {
  check(Number.isSafeInteger(value) && value >= min, () => `${what}: ${name} must be an integer ≥ ${min}, got ${value}`);
}

export interface EigenvalueOptions extends HessianOptions {
  /** How many of the largest eigenvalues (default 1). */
  k?: number;
  /** At most this many Lanczos steps, i.e. Hessian-vector products (default 100; capped at p). */
  iterations?: number;
  /** Stop when each of the top k has residual ≤ tol · ‖H‖ (estimated by the largest |Ritz value|; default 1e-4). */
  tol?: number;
  /** Seed of the start vector (default 0). */
  seed?: number;
}

export interface EigenvalueResult {
  /** The k largest eigenvalues by value, largest first (loss units per parameter unit squared). */
  eigenvalues: number[];
  /** Per eigenvalue, the Lanczos step (HVPs) at which it met tol and kept it; the steps run when it never did. */
  iterations: number[];
  /** Per eigenvalue, the residual bound β_m |s_{m,i}| ≥ |estimate − eigenvalue| at the end. */
  residuals: number[];
}

/**
 * The k largest eigenvalues of the Hessian of the mean cross-entropy on x [n, …] with int64 labels y [n]
 * (classes 0…C−1), by Lanczos with full reorthogonalisation (module comment). Convergence is checked after
 * every step, from step 50 on every ⌈m/50⌉-th step m (each check is an m × m eigendecomposition).
 *
 * Errors: an InputError for bad options (k > p, iterations < k, tol < 0), inputs that are not finite or do
 * not fit the model, labels out of range, an unknown `params`, or a Hessian holding NaN.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, hessianEigenvalues } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 200, dim: 10, classes: 3, separation: 4, seed: 0 });
 * const { eigenvalues } = hessianEigenvalues(buildModel('mlp:10-32-3').double(), x, y, { k: 3, iterations: 50 });
 * ```
 */
export function hessianEigenvalues(model: Module, x: Tensor, y: Tensor, opts: EigenvalueOptions = {}): EigenvalueResult {
  const { k = 1, iterations = 100, tol = 1e-4, seed = 0 } = opts;
  checkCount('hessianEigenvalues', 'k', k, 1);
  checkCount('hessianEigenvalues', 'iterations', iterations, k);
  check(tol >= 0, () => `hessianEigenvalues: tol must be a number ≥ 0, got ${tol}`);
  using op = new HessianOperator(model, x, y, opts);
  const p = op.size;
  check(k <= p, () => `hessianEigenvalues: k = ${k} eigenvalues of a Hessian over ${p} parameters`);
  const steps = Math.min(iterations, p);
  op.planned = steps;
  const rng = new Rng(seed);
  const result: EigenvalueResult = { eigenvalues: [], iterations: [], residuals: [] };
  const since: (number | undefined)[] = Array(k).fill(undefined);
  let atBreakdown: number[] | undefined;
  lanczos(op, () => gaussian(rng, p), steps, {
    restart: true,
    after: (alpha, beta, residual, breakdown) => {
      const m = alpha.length;
      if (m < k || (!breakdown && m < steps && m > 50 && m % Math.ceil(m / 50) !== 0)) return false;
      const { values, last } = tridiagonalEigen(alpha, beta);
      const norm = Math.max(...values.map(Math.abs));
      const top = Array.from({ length: k }, (_, i) => m - 1 - i);
      result.eigenvalues = top.map((i) => values[i]);
      result.residuals = top.map((i) => Math.abs(residual * last[i]));
      result.residuals.forEach((r, i) => (since[i] = r <= tol * norm ? since[i] ?? m : undefined));
      result.iterations = since.map((s) => s ?? m);
      if (!breakdown) return since.every((s) => s !== undefined);
      // At a breakdown every Ritz value is exact, but the complement of the Krylov space may hold more
      // copies of a repeated eigenvalue: stop once a whole restarted block has added nothing to the top k.
      const same = atBreakdown?.every((e, i) => Math.abs(e - result.eigenvalues[i]) <= Math.max(tol, productRoundOff(model)) * norm);
      atBreakdown = result.eigenvalues;
      return same === true;
    },
  });
  return result;
}

export interface TraceOptions extends HessianOptions {
  /** Rademacher probes (default 100). */
  probes?: number;
  /** Stop early, from the 10th probe on, once stdErr ≤ tol · |trace| (default 0: every probe). */
  tol?: number;
  /** Seed of the probes (default 0). */
  seed?: number;
}

export interface TraceResult {
  /** Hutchinson's estimate of tr H: the mean of vᵀHv over the probes. */
  trace: number;
  /** The probes' sample standard deviation / √probes (NaN for one probe). */
  stdErr: number;
  /** Probes used. */
  probes: number;
}

/**
 * Hutchinson's estimate of the trace of the Hessian of the mean cross-entropy on x [n, …] with int64
 * labels y [n], over Rademacher probes (module comment): one Hessian-vector product per probe.
 *
 * Errors: as hessianEigenvalues; probes must be an integer ≥ 1.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, hessianTrace } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 200, dim: 10, classes: 3, separation: 4, seed: 0 });
 * const { trace, stdErr } = hessianTrace(buildModel('mlp:10-32-3'), x, y, { probes: 10 });
 * ```
 */
export function hessianTrace(model: Module, x: Tensor, y: Tensor, opts: TraceOptions = {}): TraceResult {
  const { probes = 100, tol = 0, seed = 0 } = opts;
  checkCount('hessianTrace', 'probes', probes, 1);
  check(tol >= 0, () => `hessianTrace: tol must be a number ≥ 0, got ${tol}`);
  using op = new HessianOperator(model, x, y, opts);
  op.planned = probes;
  const rng = new Rng(seed);
  const samples: number[] = [];
  const summary = () => {
    const m = samples.length;
    const mean = samples.reduce((a, b) => a + b, 0) / m;
    const sd = Math.sqrt(samples.reduce((a, s) => a + (s - mean) ** 2, 0) / (m - 1));
    return { trace: mean, stdErr: m > 1 ? sd / Math.sqrt(m) : Number.NaN, probes: m };
  };
  for (let i = 0; i < probes; i++) {
    samples.push(scope(() => {
      const v = rademacher(rng, op.size);
      return dot(v, op.apply(v));
    }));
    if (tol > 0 && samples.length >= 10) {
      const s = summary();
      if (s.stdErr <= tol * Math.abs(s.trace)) break;
    }
  }
  return summary();
}

export interface DensityOptions extends HessianOptions {
  /** Independent Rademacher starts, averaged (default 1). */
  runs?: number;
  /** Lanczos steps per run, i.e. quadrature nodes (default 30; capped at p). */
  steps?: number;
  /** Gaussian broadening σ relative to the nodes' range, largest − smallest node (default 0.01; 1 absolute when all nodes coincide). */
  sigma?: number;
  /** Grid size (default 1000). */
  points?: number;
  /** Seed of the starts (default 0). */
  seed?: number;
}

export interface DensityResult {
  /** The grid of eigenvalues t, ascending, from the smallest node − 5σ to the largest + 5σ. */
  grid: number[];
  /** φ(t) on the grid, ≥ 0, integrating to 1 by the trapezoid rule. */
  density: number[];
  /** Per run, the quadrature nodes (eigenvalues of T), ascending. */
  nodes: number[][];
  /** Per run, the quadrature weights (squared first components of T's eigenvectors), summing to 1. */
  weights: number[][];
}

/**
 * The spectral density of the Hessian of the mean cross-entropy on x [n, …] with int64 labels y [n], by
 * stochastic Lanczos quadrature with Gaussian broadening (module comment): runs × steps Hessian-vector products.
 *
 * Errors: as hessianEigenvalues; runs, steps ≥ 1 and points ≥ 2 integers, sigma > 0.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, hessianDensity } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 200, dim: 10, classes: 3, separation: 4, seed: 0 });
 * const { grid, density, nodes, weights } = hessianDensity(buildModel('mlp:10-32-3'), x, y, { runs: 3, steps: 20 });
 * ```
 */
export function hessianDensity(model: Module, x: Tensor, y: Tensor, opts: DensityOptions = {}): DensityResult {
  const { runs = 1, steps = 30, sigma = 0.01, points = 1000, seed = 0 } = opts;
  checkCount('hessianDensity', 'runs', runs, 1);
  checkCount('hessianDensity', 'steps', steps, 1);
  checkCount('hessianDensity', 'points', points, 2);
  check(sigma > 0 && Number.isFinite(sigma), () => `hessianDensity: sigma must be a finite number > 0, got ${sigma}`);
  using op = new HessianOperator(model, x, y, opts);
  const p = op.size;
  op.planned = runs * Math.min(steps, p);
  const rng = new Rng(seed);
  const nodes: number[][] = [];
  const weights: number[][] = [];
  for (let r = 0; r < runs; r++) {
    const { alpha, beta } = lanczos(op, () => rademacher(rng, p), steps);
    const { values, first } = tridiagonalEigen(alpha, beta);
    nodes.push(values);
    weights.push(first.map((s) => s * s));
  }
  const all = nodes.flat();
  const [lo, hi] = [Math.min(...all), Math.max(...all)];
  const width = hi > lo ? hi - lo : 1;
  const s = sigma * width;
  const grid = scope(() => linspace(lo - 5 * s, hi + 5 * s, points, 'float64').toNumbers());
  const density = grid.map((t) => {
    let sum = 0;
    nodes.forEach((run, r) => run.forEach((theta, i) => (sum += weights[r][i] * Math.exp(-(((t - theta) / s) ** 2) / 2))));
    return sum;
  });
  const step = grid[1] - grid[0];
  const integral = step * (density.reduce((a, b) => a + b, 0) - (density[0] + density[points - 1]) / 2);
  return { grid, density: density.map((d) => d / integral), nodes, weights };
}

/**
 * H v, the Hessian of the mean cross-entropy on x [n, …] with int64 labels y [n] times v [p] (float32 or
 * float64; the chosen parameters flattened and concatenated in hessianParameters' order), as float64 [p];
 * one forward and two backward passes per batch.
 *
 * Errors: as hessianEigenvalues, and v not of shape [p].
 */
export function hessianVectorProduct(model: Module, x: Tensor, y: Tensor, v: Tensor, opts: HessianOptions = {}): Tensor {
  using op = new HessianOperator(model, x, y, opts);
  check(v.ndim === 1 && v.size(0) === op.size, () => `hessianVectorProduct: v has shape [${v.shape}]; expected [${op.size}]`);
  return scope(() => op.apply(v.to('float64')));
}
