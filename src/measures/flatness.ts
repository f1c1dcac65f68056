/**
 * PAC-Bayesian flatness and bounds, after Jiang, Neyshabur, Mobahi, Krishnan, Bengio, "Fantastic
 * Generalization Measures and Where to Find Them" (ICLR 2020, arXiv:1912.02178), appendix C: the
 * measures they found most predictive of generalization.
 *
 * σ' is the largest σ whose Gaussian weight noise raises the training error by at most a deviation d:
 *
 *   σ' = max { σ : E_u[L̂(w + u)] − L̂(w) ≤ d },   u ~ N(0, σ²I)                      (plain)
 *                                                 u_i ~ N(0, σ²w_i² + ε²)            (magnitude-aware)
 *
 * with L̂ the 0-1 training error (`metric: 'loss'`: the mean cross-entropy, in nats), d = 0.1 and
 * ε = 1e-3 as in the paper. From σ', with m the training-set size, w every trainable parameter (ω of
 * them) and w0 their initial values:
 *
 *   pacbayes.init           = ‖w − w0‖²/(4σ'²) + log(m/σ') + 10                                  (48)
 *   pacbayes.orig           = ‖w‖²/(4σ'²) + log(m/σ') + 10                                       (49)
 *   pacbayes.flatness       = 1/σ'²                                                               (53)
 *   pacbayes.mag.init       = ¼ Σ_i log[(ε² + (σ'² + 1)‖w − w0‖²/ω) / (ε² + σ'²w_i²)] + log(m/σ') + 10  (56)
 *   pacbayes.mag.orig       = ¼ Σ_i log[(ε² + (σ'² + 1)‖w‖²/ω) / (ε² + σ'²w_i²)] + log(m/σ') + 10       (57)
 *   pacbayes.mag.flatness   = 1/σ'²  (σ' of the magnitude-aware noise)                            (61)
 *
 * Each bound term is half the KL divergence between the posterior N(w, diag(noise variance)) and a
 * prior centred at w0 (or 0) with the best isotropic variance, plus the log(m/δ) term with δ = σ'.
 * In (56)–(57) the denominator is that posterior's variance, ε² + σ'²w_i²; the reproduction by
 * Dziugaite et al. 2020 (github.com/nitarshan/robust-generalization-measures,
 * data/generation/measures.py) writes |w_i − w0_i|² there in both, which would make the .orig term
 * need w0 too. Unlike that reproduction (and Jiang et al.), we neither fold BatchNorm nor leave out
 * biases: w is every trainable parameter, the same set the noise perturbs.
 *
 * Search (the paper's bisection, on a log scale): from [σ_lo, σ_hi] = `sigmaRange` (default
 * [1e-5, 10]), each of `steps` (default 15) steps estimates the error increase at σ = √(σ_lo·σ_hi) by
 * the mean over `samples` (default 10) draws u_j, with its standard error s (the draws' standard
 * deviation / √samples), and keeps the half below σ when the mean increase exceeds d, else the half
 * above. σ' = √(σ_lo·σ_hi) of the final interval. Draw j is u_j = σ·z_j (magnitude-aware:
 * √(σ²w² + ε²)·z_j) with z_j the same standard normal vector at every σ (common random numbers:
 * the estimated curve is then a fixed function of σ, and the bisection does not meet fresh noise at
 * each step), z_j from the data layer's Rng, seeded from `seed`, so the result depends only on the
 * seed, not on the engine's kernels. The draws are kept meanwhile: samples·ω numbers of the
 * parameters' dtype (4 MB for the example below).
 *
 * The bracket: σ' is taken to lie in [σ₋, σ₊], σ₋ the largest σ tested whose mean increase is below d
 * by more than Z = 3 standard errors (0 when none is), σ₊ the smallest σ tested whose mean increase
 * is above d by more than Z standard errors (NaN, with the reason, when none is). It assumes the
 * expected increase grows with σ; an end set by one test is wrong with probability about
 * P(t_{samples−1} > 3) (2% at samples = 5, 0.7% at 10), more when several tests lie near it. The
 * final interval of the bisection lies within the bracket, so σ' does. When no tested σ raised the
 * metric by more than d (a model the noise cannot make d worse, such as one at chance), σ' lies
 * beyond the searched range or does not exist: σ' and every measure built on it are NaN, with the reason.
 *
 * The model is measured in eval mode (BatchNorm on running statistics, no dropout); its parameters
 * are set to w + u for each draw and restored right after it, and on error. Cost: 1 + steps·samples
 * forward passes over the points. Measured on cnn:1x28x28-10:w=16 (206,922 parameters) trained to
 * zero error on 500 points, samples = 5, steps = 10 (51 passes): 9.9 s plain, 9.8 s magnitude-aware,
 * on two cores shared with other jobs (load ≈ 5); σ' = 0.0313 within [0.0237, 0.0562], and
 * magnitude-aware 0.539 within [0.316, 1.78]: five draws leave a wide bracket.
 */
import { noGrad } from '../engine/autograd.js';
import { tensor } from '../engine/creation.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { crossEntropy } from '../nn/functional.js';
import { evalMode, type Module } from '../nn/module.js';
import { checkFinite } from './finite.js';
import { snapshot } from './landscape.js';

/** Standard errors between a tested mean and the deviation before the test counts for the bracket. */
const BRACKET_Z = 3;

export interface PacBayesOptions {
  /** Noise N(0, σ²w_i² + ε²) instead of N(0, σ²) (default false). */
  magnitudeAware?: boolean;
  /** ε of the magnitude-aware noise (default 1e-3, the paper's). */
  epsilon?: number;
  /** What the noise may raise by `deviation`: the 0-1 error (default) or the mean cross-entropy. */
  metric?: 'error' | 'loss';
  /** d: the largest allowed rise, in the metric's units (default 0.1, the paper's). */
  deviation?: number;
  /** Monte-Carlo draws per tested σ (default 10, at least 2 for a standard error). */
  samples?: number;
  /** Bisection steps (default 15). */
  steps?: number;
  /** The interval searched, 0 < lo < hi (default [1e-5, 10]). */
  sigmaRange?: [number, number];
  /** Seed of the draws (default 0). */
  seed?: number;
  /** Points per forward pass (default 500). */
  batchSize?: number;
  /** w0: the initial parameters, in parameter order (as snapshot gives them) or by state_dict name; without them the .init term is NaN. */
  init?: Tensor[] | Map<string, Tensor>;
  /** m: the training-set size in the bound terms (default the number of points given). */
  trainSize?: number;
}

/** The estimate at one tested σ. */
export interface SigmaEstimate {
  sigma: number;
  /** E_u[L̂(w + u)] estimated: the mean over the draws. */
  mean: number;
  /** Its standard error (the draws' standard deviation / √samples). */
  stdErr: number;
  /** mean − L̂(w). */
  increase: number;
  /** Whether the increase exceeded the deviation, which moved the bisection down. */
  above: boolean;
}

export interface PacBayesResult {
  magnitudeAware: boolean;
  metric: 'error' | 'loss';
  deviation: number;
  epsilon: number;
  /** L̂(w) on the points. */
  baseline: number;
  /** σ', the estimate: √(lo·hi) of the final interval. */
  sigma: number;
  /** The final interval of the bisection [lo, hi]. */
  interval: [number, number];
  /** [σ₋, σ₊]: where σ' lies given the Monte-Carlo error (see the module comment); σ₊ NaN when no test was clearly above. */
  bracket: [number, number];
  steps: number;
  samples: number;
  /** Every tested σ, in order. */
  trace: SigmaEstimate[];
  /** The tests at the ends of the final interval (null for an end of sigmaRange, never tested). */
  final: { below: SigmaEstimate | null; above: SigmaEstimate | null };
  /** pacbayes.flatness (or .mag.flatness): 1/σ'². */
  flatness: number;
  /** pacbayes.init (or .mag.init); NaN without `init`. */
  init: number;
  /** pacbayes.orig (or .mag.orig). */
  orig: number;
  /** m. */
  trainSize: number;
  /** ω: the number of parameters. */
  parameters: number;
  /** Why a field is NaN, one line each. */
  undefined: string[];
}

/** w0 in parameter order, checked against the model's parameters (kept: dispose them). */
function initialWeights(model: Module, init: Tensor[] | Map<string, Tensor>): Tensor[] {
  const named = model.namedParameters();
  const list = init instanceof Map
    ? named.map(([name]) => {
      const t = init.get(name);
      check(t !== undefined, () => `PAC-Bayes: the initial weights have no '${name}'`);
      return t;
    })
    : init;
  check(list.length === named.length, () => `PAC-Bayes: ${list.length} initial tensors for ${named.length} parameters`);
  return scope(() =>
    list.map((t, k) => {
      check(t.shape.join() === named[k][1].shape.join(), () => `PAC-Bayes: initial '${named[k][0]}' is [${t.shape}], the parameter [${named[k][1].shape}]`);
      return keep(t.detach().to('float64'));
    })
  );
}

/**
 * σ' of `model` on points x [n, …] (as the model takes them) with int64 labels y [n], and the
 * PAC-Bayes terms of Jiang et al. built on it; see the module comment for the definitions and the
 * search. Errors: an InputError for bad options, mismatched or non-finite points, points the model
 * does not take, or initial weights that do not match the parameters.
 *
 * @example
 * ```ts
 * import { buildModel, pacBayesFlatness, randn, randint } from 'dltheory';
 * const model = buildModel('cnn:1x28x28-10:w=16'); // … trained
 * const [x, y] = [randn([500, 1, 28, 28]), randint(0, 10, [500])];
 * const r = pacBayesFlatness(model, x, y, { samples: 5, steps: 10, seed: 1 });
 * r.sigma; r.bracket; r.flatness; // σ', [σ₋, σ₊], 1/σ'²
 * pacBayesFlatness(model, x, y, { magnitudeAware: true, samples: 5, steps: 10 }).flatness; // pacbayes.mag.flatness
 * ```
 */
export function pacBayesFlatness(model: Module, x: Tensor, y: Tensor, opts: PacBayesOptions = {}): PacBayesResult {
  const { magnitudeAware = false, epsilon = 1e-3, metric = 'error', deviation = 0.1, samples = 10, steps = 15, seed = 0, batchSize = 500 } = opts;
  const [sigmaLo, sigmaHi] = opts.sigmaRange ?? [1e-5, 10];
  check(metric === 'error' || metric === 'loss', () => `PAC-Bayes: metric must be 'error' or 'loss', got '${metric}'`);
  check(deviation > 0 && Number.isFinite(deviation) && (metric === 'loss' || deviation < 1),
    () => `PAC-Bayes: the deviation must be > 0${metric === 'error' ? ' and < 1 (an error rate)' : ' and finite'}, got ${deviation}`);
  check(Number.isInteger(samples) && samples >= 2, () => `PAC-Bayes: samples must be an integer ≥ 2 (for a standard error), got ${samples}`);
  check(Number.isInteger(steps) && steps >= 1, () => `PAC-Bayes: steps must be an integer ≥ 1, got ${steps}`);
  check(Number.isInteger(batchSize) && batchSize >= 1, () => `PAC-Bayes: batchSize must be an integer ≥ 1, got ${batchSize}`);
  check(sigmaLo > 0 && sigmaHi > sigmaLo && Number.isFinite(sigmaHi), () => `PAC-Bayes: sigmaRange must have 0 < lo < hi < ∞, got [${sigmaLo}, ${sigmaHi}]`);
  check(epsilon >= 0 && Number.isFinite(epsilon), () => `PAC-Bayes: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  check(x.ndim >= 2 && x.size(0) >= 1, () => `PAC-Bayes: points of shape [${x.shape}]; expected [n, features...] with n ≥ 1`);
  const n = x.size(0);
  check(y.ndim === 1 && y.size(0) === n && y.dtype === 'int64',
    () => `PAC-Bayes: ${n} points but labels of shape [${y.shape}] (${y.dtype}); expected int64 [${n}]`);
  const trainSize = opts.trainSize ?? n;
  check(Number.isInteger(trainSize) && trainSize >= 1, () => `PAC-Bayes: trainSize must be an integer ≥ 1, got ${trainSize}`);
  const params = model.parameters();
  check(params.length > 0, () => `PAC-Bayes: ${model.label} has no trainable parameter`);
  scope(() => checkFinite(x.flatten(1), 'PAC-Bayes', 'the training error needs finite points'));

  const dtype = model.dtype;
  const w0 = opts.init ? initialWeights(model, opts.init) : undefined;
  const w = snapshot(model);
  const xs = keep(scope(() => x.detach().to(dtype)));
  using _eval = evalMode(model);

  /** L̂ at the model's current parameters. */
  const measure = (): number =>
    noGrad(() => {
      let total = 0;
      for (let i = 0; i < n; i += batchSize) {
        const len = Math.min(batchSize, n - i);
        total += scope(() => {
          const out = model.forward(xs.narrow(0, i, len));
          const yb = y.narrow(0, i, len);
          return metric === 'error' ? out.argmax(1).ne(yb).sum().item() : crossEntropy(out, yb, 'sum').item();
        });
      }
      return total / n;
    });
  /** L̂(w + u) with u = scale·z, the parameters restored after. */
  const perturbed = (z: Tensor[], scale: (k: number) => Tensor | number): number => {
    try {
      noGrad(() => scope(() => params.forEach((p, k) => p.copy_(w[k].add(z[k].mul(scale(k)))))));
      return measure();
    } finally {
      noGrad(() => params.forEach((p, k) => p.copy_(w[k])));
    }
  };
  // z_j, drawn once and reused at every σ (common random numbers), each from its own stream.
  const master = new Rng(seed);
  const z = Array.from({ length: samples }, () => {
    const rng = new Rng(master.nextUint32());
    return params.map((p) => {
      const a = new Float64Array(p.numel);
      for (let i = 0; i < a.length; i++) a[i] = rng.normal();
      return keep(tensor(a, p.shape, dtype));
    });
  });

  try {
    let baseline: number;
    try {
      baseline = measure();
    } catch (e) {
      throw new InputError(`PAC-Bayes: points of shape [${x.shape.slice(1)}] do not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
    }
    const estimate = (sigma: number): SigmaEstimate => {
      // Magnitude-aware: the noise's standard deviation √(σ²w² + ε²), elementwise.
      const std = magnitudeAware ? w.map((t) => keep(scope(() => t.square().mul(sigma * sigma).add(epsilon * epsilon).sqrt()))) : [];
      try {
        const values = Array.from({ length: samples }, (_, j) => scope(() => perturbed(z[j], (k) => (magnitudeAware ? std[k] : sigma))));
        const mean = values.reduce((a, b) => a + b, 0) / samples;
        const stdErr = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (samples - 1) / samples);
        return { sigma, mean, stdErr, increase: mean - baseline, above: mean - baseline > deviation };
      } finally {
        dispose(std);
      }
    };
    let [lo, hi] = [sigmaLo, sigmaHi];
    const trace: SigmaEstimate[] = [];
    for (let s = 0; s < steps; s++) {
      const e = estimate(Math.sqrt(lo * hi));
      trace.push(e);
      if (e.above) hi = e.sigma;
      else lo = e.sigma;
    }
    const undefinedWhy: string[] = [];
    // Never above the deviation: σ' lies beyond the search (or cannot exist, when the metric cannot rise by d), not at its end.
    const found = hi < sigmaHi;
    if (!found) {
      undefinedWhy.push(`sigma: no σ up to ${lo.toPrecision(3)} raised the ${metric} (${baseline.toPrecision(3)} at w) by more than ${deviation}; ` +
        `σ' and the measures built on it are undefined`);
    }
    const sigma = found ? Math.sqrt(lo * hi) : NaN;
    const clearlyBelow = trace.filter((e) => e.increase + BRACKET_Z * e.stdErr <= deviation).map((e) => e.sigma);
    const clearlyAbove = trace.filter((e) => e.increase - BRACKET_Z * e.stdErr > deviation).map((e) => e.sigma);
    const bracket: [number, number] = [Math.max(0, ...clearlyBelow), clearlyAbove.length ? Math.min(...clearlyAbove) : NaN];
    if (!clearlyAbove.length) {
      undefinedWhy.push(
        `bracket[1]: no σ tested (up to ${
          Math.max(...trace.map((e) => e.sigma)).toPrecision(3)
        }) raised the ${metric} by more than ${deviation} by ${BRACKET_Z} standard errors`,
      );
    }
    const terms = bounds(w, w0, sigma, trainSize, magnitudeAware, epsilon);
    if (!w0) undefinedWhy.push('init: needs the initial weights');
    return {
      magnitudeAware,
      metric,
      deviation,
      epsilon,
      baseline,
      sigma,
      interval: [lo, hi],
      bracket,
      steps: trace.length,
      samples,
      trace,
      final: { below: trace.find((e) => e.sigma === lo) ?? null, above: trace.find((e) => e.sigma === hi) ?? null },
      flatness: 1 / sigma ** 2,
      ...terms,
      trainSize,
      parameters: model.numParameters(),
      undefined: undefinedWhy,
    };
  } finally {
    noGrad(() => params.forEach((p, k) => p.copy_(w[k])));
    dispose([w, w0, xs, z]);
  }
}

/** The .init and .orig terms (48)–(49) or (56)–(57) at σ', in float64; init NaN without w0. */
function bounds(w: Tensor[], w0: Tensor[] | undefined, sigma: number, m: number, magnitudeAware: boolean, epsilon: number): { init: number; orig: number } {
  return scope(() => {
    const flat = (ts: Tensor[]) => ts.map((t) => t.to('float64').flatten());
    const sq = (ts: Tensor[]) => ts.reduce((a, t) => a + t.square().sum().item(), 0);
    const wf = flat(w);
    const omega = wf.reduce((a, t) => a + t.numel, 0);
    const [s2, e2] = [sigma * sigma, epsilon * epsilon];
    const tail = Math.log(m / sigma) + 10;
    // Σ_i log(ε² + σ'²w_i²): the posterior's log-variances, shared by both magnitude-aware terms.
    const logPosterior = magnitudeAware ? wf.reduce((a, t) => a + t.square().mul(s2).add(e2).log().sum().item(), 0) : 0;
    const term = (sqNorm: number) => magnitudeAware ? (omega * Math.log(e2 + ((s2 + 1) * sqNorm) / omega) - logPosterior) / 4 + tail : sqNorm / (4 * s2) + tail;
    const orig = term(sq(wf));
    const init = w0 ? term(sq(wf.map((t, k) => t.sub(w0[k].flatten())))) : NaN;
    return { init, orig };
  });
}
