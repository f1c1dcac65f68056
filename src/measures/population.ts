/**
 * The measures computed for every model of a zoo, flattened into run-store metrics so that a
 * population's features are one query away:
 *   margin.<slot>.log_<stat>     log signature of the normalised margins (margins.ts), stat ∈
 *                                {q1, median, q3, lowerFence, upperFence}
 *   rawmargin.<slot>.log_<stat>  the same without the total-variation normalisation (ablation)
 *   baseline.<name>              the log of each baseline measure
 * Slots put models of different depths on one footing, as Jiang et al.'s four probe points do:
 * `input`, `first` and `last` (the first and last hidden probe points; the same for one hidden layer)
 * and `output` — the logits, where ∇(f_y − f_j) = onehot(y) − onehot(j), so d = (f_y − f_j)/√(2 + ε),
 * normalised by the logits' total variation.
 */
import { manualSeed, tensor } from '../engine/creation.js';
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/memory.js';
import { evalMode, type Module } from '../nn/module.js';
import { buildModel } from '../nn/models/spec.js';
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import type { Metrics, RunRecord } from '../store/runs.js';
import type { HParams } from './regression.js';
import { EPSILON, marginDistribution, type Signature } from './margins.js';
import { logBoxSummary } from './quantiles.js';
import { spectralMargin } from './spectral-margin.js';
import { distanceFromInit, frobeniusProduct, pathNorm } from './norms.js';
import { sharpness } from './sharpness.js';
import { outputMargins } from './output-margin.js';
import type { Tensor } from '../engine/tensor.js';

export const SLOTS = ['input', 'first', 'last', 'output'] as const;
export const STATS: readonly (keyof Signature)[] = ['q1', 'median', 'q3', 'lowerFence', 'upperFence'];
export const BASELINES = ['spectral', 'frobenius', 'distInit', 'pathNorm', 'sharpness', 'outputMargin'] as const;

/** Points of the training set the margins and baselines are measured on (all when fewer). */
const SAMPLE = 2000;

function put(out: Metrics, prefix: string, s: Signature): void {
  for (const k of STATS) out[`${prefix}.log_${k}`] = s[k];
}

/** The points a model is measured on: a seeded sample of at most `size` (default 2,000) of x, y (all when fewer), in input order. */
export function measurementSample(x: Tensor, y: Tensor, seed: number, size = SAMPLE): [Tensor, Tensor] {
  const n = y.size(0);
  if (n <= size) return scope(() => [x.clone(), y.clone()]);
  const rows = Array.from(new Rng(seed).permutation(n).subarray(0, size)).sort((a, b) => a - b);
  return scope(() => {
    const idx = tensor(BigInt64Array.from(rows, BigInt), [rows.length], 'int64');
    return [x.indexSelect(0, idx), y.indexSelect(0, idx)];
  });
}

/**
 * Every measure of a trained model on (a seeded sample of) its training set, in eval mode (BatchNorm
 * on its running statistics, which must not change; no dropout), restoring the model's mode after.
 * `spec` and `cell.seed` rebuild the model's initialisation for the distance from it.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, manualSeed, zooMeasures } from 'dltheory';
 * const [spec, train] = ['mlp:20-64-64-3', gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 })];
 * manualSeed(7); const model = buildModel(spec); // seeded and built as recordRun does
 * // … train model on train …
 * const m = zooMeasures(model, train, { seed: 7 }, spec); // 47 metrics: 41 margin.* and rawmargin.*, 6 baseline.*
 * ```
 */
export function zooMeasures(model: Module, train: Dataset, cell: { seed: number }, spec: string): Metrics {
  const [x, y] = measurementSample(train.x, train.y, cell.seed);
  using _x = x;
  using _y = y;
  using _eval = evalMode(model);
  return { ...marginMeasures(model, x, y), ...baselineMeasures(model, x, y, spec, cell.seed) };
}

/**
 * The margin signatures of every slot, normalised and not, for points x [n, …] with int64 labels y [n] (model in eval mode):
 * `margin.<slot>.log_<stat>` and `rawmargin.<slot>.log_<stat>` for the 4 slots and 5 stats, and `margin.dropped`.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, marginMeasures } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * const m = marginMeasures(buildModel('mlp:20-64-64-3').eval(), x, y);
 * m['margin.last.log_median']; // log median normalised margin at layers.1 (NaN when no point is kept)
 * ```
 */
export function marginMeasures(model: Module, x: Tensor, y: Tensor): Metrics {
  const out: Metrics = {};
  // The model's default points without the input and the output (all hidden ones for the built-in models; an ONNX graph's stages).
  const hidden = model.defaultProbePoints().filter((p) => p !== 'input' && p !== model.outputPoint());
  const chosen = { input: 'input', first: hidden[0], last: hidden[hidden.length - 1] };
  const result = marginDistribution(model, x, y, { probes: [...new Set(Object.values(chosen))] });
  for (const [slot, name] of Object.entries(chosen)) {
    const p = result.probes.find((q) => q.name === name)!;
    put(out, `margin.${slot}`, p.logSignature);
    put(out, `rawmargin.${slot}`, logBoxSummary(p.distances.filter((d) => d > 0)));
  }
  const logits = result.logitMargin.filter((m) => m > 0);
  const tv = noGrad(() => scope(() => model.forward(x.to(model.dtype)).double().var(0, { correction: 0 }).sum().sqrt().item()));
  const d = logits.map((m) => m / Math.sqrt(2 + EPSILON));
  put(out, 'margin.output', logBoxSummary(d.map((v) => v / tv)));
  put(out, 'rawmargin.output', logBoxSummary(d));
  out['margin.dropped'] = result.probes[0].droppedFraction;
  return out;
}

/**
 * The log of every baseline measure (spectral margin, norms, sharpness, output margin) on x [n, …] with int64 labels y [n];
 * `spec` and `seed` rebuild the model's initialisation (manualSeed(seed), then buildModel(spec)) for the distance from it.
 *
 * @example
 * ```ts
 * import { baselineMeasures, buildModel, gaussianMixture, manualSeed } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 300, dim: 20, classes: 3, separation: 4, seed: 0 });
 * manualSeed(7); const model = buildModel('mlp:20-64-3').eval();
 * baselineMeasures(model, x, y, 'mlp:20-64-3', 7); // { 'baseline.spectral': …, 'baseline.frobenius': …, … } (6 logs)
 * ```
 */
export function baselineMeasures(model: Module, x: Tensor, y: Tensor, spec: string, seed: number): Metrics {
  const out: Metrics = {};
  out['baseline.spectral'] = spectralMargin(model, x, y).log;
  out['baseline.frobenius'] = frobeniusProduct(model).log;
  const init = initialModel(spec, seed);
  try {
    out['baseline.distInit'] = distanceFromInit(model, init.stateDict()).log;
  } finally {
    init.dispose();
  }
  out['baseline.pathNorm'] = pathNorm(model, x.shape.slice(1)).log;
  out['baseline.sharpness'] = sharpness(model, x, y, { seed }).log;
  out['baseline.outputMargin'] = logBoxSummary(outputMargins(model, x, y).filter((m) => m > 0)).median;
  return out;
}

/** The model as it was initialised: recordRun seeds with the run's seed, then builds. */
function initialModel(spec: string, seed: number): Module {
  manualSeed(seed);
  return buildModel(spec);
}

/**
 * The generalisation benchmark's measures (benchmark.ts) as one-feature sets, named as `gap evaluate`
 * lists them, by metric key: the log of each positive measure, or the measure where it is a log already.
 */
export const BENCHMARK_FEATURES: Record<string, string> = {
  'hessian: top eigenvalue': 'hessian.log_top',
  'hessian: trace': 'hessian.log_trace',
  'spectra: alpha': 'spectra.log_alpha',
  'spectra: alpha-weighted': 'spectra.alphaWeighted',
  'spectra: stable rank': 'spectra.log_stableRank',
  'spectra: log spectral norm': 'spectra.logSpectralNorm',
  'spectra: log norm': 'spectra.logNorm',
  'pac-bayes: flatness': 'pacbayes.log_flatness',
  'pac-bayes: magnitude-aware flatness': 'pacbayes.mag.log_flatness',
  'pac-bayes: init': 'pacbayes.log_init',
  'pac-bayes: orig': 'pacbayes.log_orig',
  'pac-bayes: magnitude-aware init': 'pacbayes.mag.init',
  'pac-bayes: magnitude-aware orig': 'pacbayes.mag.orig',
  'input gradient': 'inputGradient.log',
};

/**
 * The feature sets compared on a population, each a function of a run's stored metrics (`final`) to its feature vector.
 *
 * @example
 * ```ts
 * import { FEATURE_SETS, openStore } from 'dltheory';
 * const [run] = openStore('runs').findByTag('zoo/quick');
 * FEATURE_SETS['signature'](run.final).length;          // 20: 4 slots × 5 statistics
 * FEATURE_SETS['baseline: spectral'](run.final).length; // 1
 * ```
 */
export const FEATURE_SETS: Record<string, (m: Metrics) => number[]> = {
  signature: (m) => SLOTS.flatMap((s) => STATS.map((k) => m[`margin.${s}.log_${k}`])),
  'signature, output layer only': (m) => STATS.map((k) => m[`margin.output.log_${k}`]),
  'signature, not normalised': (m) => SLOTS.flatMap((s) => STATS.map((k) => m[`rawmargin.${s}.log_${k}`])),
  'signature, no log': (m) => SLOTS.flatMap((s) => STATS.map((k) => Math.exp(m[`margin.${s}.log_${k}`]))),
  'signature, neither': (m) => SLOTS.flatMap((s) => STATS.map((k) => Math.exp(m[`rawmargin.${s}.log_${k}`]))),
  ...Object.fromEntries(BASELINES.map((b) => [`baseline: ${b}`, (m: Metrics) => [m[`baseline.${b}`]]])),
  ...Object.fromEntries(Object.entries(BENCHMARK_FEATURES).map(([name, key]) => [name, (m: Metrics) => [m[key]]])),
};

/** The feature sets of the margin claims: the signature, its ablations and the classic baselines. */
export const MARGIN_SETS: readonly string[] = Object.keys(FEATURE_SETS).filter((s) => !(s in BENCHMARK_FEATURES));

export interface Population {
  runs: RunRecord[];
  gaps: Float64Array;
  features: Record<string, Float64Array[]>;
  /** The grid's varied hyper-parameters of each model, for Ψ and the CMI score; `seed` where it varies (Ψ's groups agree on it, CMI ignores it). */
  hparams: HParams[];
  /** Models left out because a feature was not finite (e.g. a log of a margin ≤ 0), by id. */
  excluded: string[];
  /** Per feature set with a non-finite feature on some model, how many models. */
  nonFinite: Record<string, number>;
}

/** The feature sets every run was measured for (a run of a zoo measured before the benchmark lacks its sets). */
export function measuredSets(runs: readonly RunRecord[]): string[] {
  return Object.keys(FEATURE_SETS).filter((s) => runs.every((r) => FEATURE_SETS[s](r.final).every((v) => v !== undefined)));
}

/**
 * The features of every model whose features are all finite, aligned with their gaps: per set, one Float64Array per kept run.
 *
 * @example
 * ```ts
 * import { evaluateMeasures, openStore, populationFeatures } from 'dltheory';
 * const runs = openStore('runs').findByTag('zoo/quick'); // the zoo of `dltheory zoo --grid quick`
 * const p = populationFeatures(runs, ['signature', 'baseline: spectral']);
 * p.features['signature'].length === p.gaps.length;     // true; p.excluded names the runs left out
 * evaluateMeasures(p.features, p.gaps, p.hparams);
 * ```
 */
export function populationFeatures(runs: RunRecord[], sets: readonly string[] = measuredSets(runs)): Population {
  const rows = runs.map((r) => Object.fromEntries(sets.map((s) => [s, FEATURE_SETS[s](r.final)])));
  const ok = runs.map((r, i) => Number.isFinite(r.final.gap) && sets.every((s) => rows[i][s].every(Number.isFinite)));
  const kept = runs.filter((_, i) => ok[i]);
  const varied = Object.keys(kept[0]?.hparams ?? {}).filter(
    (k) => k !== 'grid' && new Set(kept.map((r) => JSON.stringify(r.hparams[k]))).size > 1,
  );
  return {
    runs: kept,
    gaps: Float64Array.from(kept, (r) => r.final.gap),
    features: Object.fromEntries(sets.map((s) => [s, rows.filter((_, i) => ok[i]).map((row) => Float64Array.from(row[s]))])),
    hparams: kept.map((r) => Object.fromEntries(varied.map((k) => [k, r.hparams[k] as string | number | boolean]))),
    excluded: runs.filter((_, i) => !ok[i]).map((r) => r.id),
    nonFinite: Object.fromEntries(
      sets.map((s) => [s, rows.filter((row) => !row[s].every(Number.isFinite)).length] as const).filter(([, count]) => count > 0),
    ),
  };
}
