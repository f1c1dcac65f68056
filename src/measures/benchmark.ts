/**
 * The measures of the generalisation benchmark, taken on every zoo model beside the margin signature
 * and the classic baselines (population.ts): the ones Jiang, Neyshabur, Mobahi, Krishnan, Bengio,
 * "Fantastic Generalization Measures and Where to Find Them" (ICLR 2020) ranked highest, and the
 * ones practitioners run.
 *   hessian.log_top            log λ_max of the training-loss Hessian (hessian.ts; PyHessian)
 *   hessian.log_trace          log tr H, Hutchinson's estimate (hessian.ts)
 *   spectra.log_alpha          log of the mean heavy-tail exponent α over layers (spectra.ts; WeightWatcher)
 *   spectra.alphaWeighted      mean α·log₁₀ λ_max
 *   spectra.log_stableRank     log of the mean stable rank
 *   spectra.logSpectralNorm    mean log₁₀ ‖W‖₂²
 *   spectra.logNorm            mean log₁₀ ‖W‖_F²
 *   pacbayes[.mag].log_flatness  log 1/σ'², σ' the largest noise raising the training error by 0.1 (flatness.ts)
 *   pacbayes.log_init           log of the PAC-Bayes bound term about the initialisation
 *   pacbayes.log_orig           log of the term about the origin
 *   pacbayes.mag.init, .orig    the magnitude-aware terms as they are: sums of log ratios, of either sign
 *   inputGradient.log          log E_x ‖∂f(x)/∂x‖_F (input-gradient.ts; PGDL's baseline)
 * Each enters the gap regression as the log of a positive measure; the WeightWatcher quantities that
 * are logarithms already (α-weighted, the log norms) and the magnitude-aware PAC-Bayes terms (whose
 * logs were undefined on 10 of the 72 quick-zoo models, where the term is negative) enter as they are. A log of a non-positive
 * value is NaN, and the model drops out of that measure's ranking.
 *
 * Costs are kept population-sized by a budget (BenchmarkBudget). The standard one (about 2.5 s a
 * model of the `paper` zoo on 2 cores): the Hessian on a seeded sample of at most 200 training points,
 * λ_max by at most 20 Lanczos steps (relative tolerance 1e-3) and the trace by 10 probes (its standard
 * error is about a quarter of it on those models: enough to rank models whose traces span orders of
 * magnitude); PAC-Bayes flatness and the input gradient on a sample of at most 500, each σ' by 8
 * bisection steps of 5 draws. The quick one, for the demo's zoo, takes a quarter of that time.
 */
import { manualSeed } from '../engine/creation.js';
import { disposing } from '../engine/memory.js';
import { buildModel } from '../nn/models/spec.js';
import { evalMode, type Module } from '../nn/module.js';
import type { Dataset } from '../data/dataset.js';
import type { Metrics } from '../store/runs.js';
import { hessianEigenvalues, hessianTrace } from './hessian.js';
import { weightSpectra } from './spectra.js';
import { pacBayesFlatness } from './flatness.js';
import { inputGradientNorm } from './input-gradient.js';
import { measurementSample } from './population.js';

/** How much work each sampled measure gets. */
export interface BenchmarkBudget {
  /** Points the Hessian is taken on (all when fewer). */
  hessianPoints: number;
  /** Lanczos steps for λ_max. */
  lanczosSteps: number;
  /** Hutchinson probes for tr H. */
  traceProbes: number;
  /** Points PAC-Bayes flatness and the input gradient are taken on (all when fewer). */
  points: number;
  /** Bisection steps for σ', and noise draws per step. */
  sigmaSteps: number;
  sigmaDraws: number;
}

export const STANDARD_BUDGET: BenchmarkBudget = { hessianPoints: 200, lanczosSteps: 20, traceProbes: 10, points: 500, sigmaSteps: 8, sigmaDraws: 5 };
/**
 * The demo's: measured on the quick zoo's largest MLP (784-512-512-512-10, 4,000 digits), 3.6 s a
 * model with the standard budget, most of it the two σ' searches (2.6 s).
 */
export const QUICK_BUDGET: BenchmarkBudget = { hessianPoints: 100, lanczosSteps: 10, traceProbes: 5, points: 200, sigmaSteps: 6, sigmaDraws: 3 };

const log = (v: number): number => (v > 0 ? Math.log(v) : NaN);

/**
 * The benchmark's measures of a trained model on its training set (see the module comment);
 * `spec` and `seed` rebuild its initialisation (manualSeed(seed), then buildModel(spec)) for the .init terms;
 * `budget` sets the sample sizes and iteration counts (default STANDARD_BUDGET).
 */
export function benchmarkMeasures(
  model: Module,
  train: Dataset,
  cell: { seed: number },
  spec: string,
  budget: BenchmarkBudget = STANDARD_BUDGET,
): Metrics {
  const [x, y] = measurementSample(train.x, train.y, cell.seed, budget.points);
  const [hx, hy] = measurementSample(train.x, train.y, cell.seed, budget.hessianPoints);
  using _points = disposing([x, y, hx, hy]);
  using _eval = evalMode(model);
  const out: Metrics = {};
  out['hessian.log_top'] = log(hessianEigenvalues(model, hx, hy, { k: 1, iterations: budget.lanczosSteps, tol: 1e-3, seed: cell.seed }).eigenvalues[0]);
  out['hessian.log_trace'] = log(hessianTrace(model, hx, hy, { probes: budget.traceProbes, seed: cell.seed }).trace);
  const s = weightSpectra(model).summary;
  out['spectra.log_alpha'] = log(s.alpha);
  out['spectra.alphaWeighted'] = s.alphaWeighted;
  out['spectra.log_stableRank'] = log(s.stableRank);
  out['spectra.logSpectralNorm'] = s.logSpectralNorm;
  out['spectra.logNorm'] = s.logNorm;
  manualSeed(cell.seed);
  using init = buildModel(spec);
  const w0 = init.stateDict();
  for (const magnitudeAware of [false, true]) {
    const r = pacBayesFlatness(model, x, y, { magnitudeAware, samples: budget.sigmaDraws, steps: budget.sigmaSteps, seed: cell.seed, init: w0,
      trainSize: train.y.size(0) });
    const key = magnitudeAware ? 'pacbayes.mag' : 'pacbayes';
    out[`${key}.log_flatness`] = log(r.flatness);
    // The magnitude-aware terms are sums of log ratios, on a log scale already and of either sign (56)–(57).
    if (magnitudeAware) Object.assign(out, { [`${key}.init`]: r.init, [`${key}.orig`]: r.orig });
    else Object.assign(out, { [`${key}.log_init`]: log(r.init), [`${key}.log_orig`]: log(r.orig) });
  }
  out['inputGradient.log'] = log(inputGradientNorm(model, x, y).value);
  return out;
}
