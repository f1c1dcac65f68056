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
import type { Module } from '../nn/module.js';
import { buildModel } from '../nn/models/spec.js';
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import type { Metrics } from '../store/runs.js';
import { EPSILON, marginDistribution, type Signature } from './margins.js';
import { logBoxSummary } from './quantiles.js';
import { spectralMargin } from './spectral-margin.js';
import { distanceFromInit, frobeniusProduct, pathNorm } from './norms.js';
import { sharpness } from './sharpness.js';

export const SLOTS = ['input', 'first', 'last', 'output'] as const;
export const STATS: readonly (keyof Signature)[] = ['q1', 'median', 'q3', 'lowerFence', 'upperFence'];
export const BASELINES = ['spectral', 'frobenius', 'distInit', 'pathNorm', 'sharpness', 'outputMargin'] as const;

/** Points of the training set the margins and baselines are measured on (all when fewer). */
const SAMPLE = 2000;

function put(out: Metrics, prefix: string, s: Signature): void {
  for (const k of STATS) out[`${prefix}.log_${k}`] = s[k];
}

/** Every measure of a trained model on (a seeded sample of) its training set. */
export function zooMeasures(model: Module, train: Dataset, cell: { seed: number }, spec: string): Metrics {
  const n = train.y.size(0);
  const rows = n <= SAMPLE ? null : Array.from(new Rng(cell.seed).permutation(n).subarray(0, SAMPLE)).sort((a, b) => a - b);
  const [x, y] = scope(() => {
    if (!rows) return [train.x.clone(), train.y.clone()];
    const idx = tensor(BigInt64Array.from(rows, BigInt), [rows.length], 'int64');
    return [train.x.indexSelect(0, idx), train.y.indexSelect(0, idx)];
  });
  try {
    const out: Metrics = {};
    const points = model.probePoints();
    const hidden = points.filter((p) => p !== 'input');
    const chosen = { input: 'input', first: hidden[0], last: hidden[hidden.length - 1] };
    const result = marginDistribution(model, x, y, { probes: [...new Set(Object.values(chosen))] });
    for (const [slot, name] of Object.entries(chosen)) {
      const p = result.probes.find((q) => q.name === name)!;
      put(out, `margin.${slot}`, p.logSignature);
      put(out, `rawmargin.${slot}`, logBoxSummary(p.distances.filter((d) => d > 0)));
    }
    const logits = result.logitMargin.filter((m) => m > 0);
    const tv = noGrad(() => scope(() => model.forward(x).double().var(0, { correction: 0 }).sum().sqrt().item()));
    const d = logits.map((m) => m / Math.sqrt(2 + EPSILON));
    put(out, 'margin.output', logBoxSummary(d.map((v) => v / tv)));
    put(out, 'rawmargin.output', logBoxSummary(d));
    out['margin.dropped'] = result.probes[0].droppedFraction;

    out['baseline.spectral'] = spectralMargin(model, x, y).log;
    out['baseline.frobenius'] = frobeniusProduct(model).log;
    const init = initialModel(spec, cell.seed);
    try {
      out['baseline.distInit'] = distanceFromInit(model, init.stateDict()).log;
    } finally {
      init.dispose();
    }
    out['baseline.pathNorm'] = pathNorm(model, x.shape.slice(1)).log;
    out['baseline.sharpness'] = sharpness(model, x, y, { seed: cell.seed }).log;
    out['baseline.outputMargin'] = logBoxSummary(logits).median;
    return out;
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** The model as it was initialised: recordRun seeds with the run's seed, then builds. */
function initialModel(spec: string, seed: number): Module {
  manualSeed(seed);
  return buildModel(spec);
}
