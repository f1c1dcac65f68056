/**
 * Jiang, Krishnan, Mobahi, Bengio (ICLR 2019): the distribution of normalised margins at several
 * layers predicts the generalisation gap. Four claims, all judged on one zoo of MLPs trained on the
 * embedded MNIST digits (the `quick` or `full` grid of src/experiments/zoo.ts), measured and
 * regressed by src/experiments/margins.ts with 10-fold cross-validated R². The four share the
 * population through the caller's cache (ctx.cache): it is trained and evaluated once per cache.
 */
import { GRIDS } from '../experiments/zoo.js';
import { evaluatePopulation, type EvaluatedPopulation } from '../experiments/margins.js';
import { SLOTS } from '../measures/population.js';
import { crossValidatedR2, foldAssignment, type MeasureRow } from '../measures/regression.js';
import { boxPlotChart, scatterChart } from '../report/chart.js';
import { verdictOf, type ChartOut, type Claim, type ClaimContext, type Figure, type Outcome } from './claim.js';

const PAPER = 'Jiang, Krishnan, Mobahi, Bengio. Predicting the generalization gap in deep networks with margin distributions. ICLR 2019';
const FOLDS = 10;
/** Fewer usable models than this cannot support a 20-feature regression: inconclusive. */
const MIN_MODELS = 60;

const row = (e: EvaluatedPopulation, name: string): MeasureRow => e.rows.find((r) => r.measure === name)!;
const fmt = (v: number): string => v.toFixed(3);

function figures(rows: MeasureRow[]): Figure[] {
  return rows.flatMap((r) => [
    { name: `${r.measure}: CV R²`, value: r.cvR2 },
    { name: `${r.measure}: Kendall τ`, value: r.kendallTau },
  ]);
}

/** Runs the population and applies `judge` unless it is too small to judge. */
function withPopulation(ctx: ClaimContext, judge: (e: EvaluatedPopulation) => Omit<Outcome, 'runs'>): Outcome {
  const key = `margins|${ctx.store.dir}|${ctx.mode}|${ctx.seed}`;
  const e = ctx.cache.get(key, () => evaluatePopulation(GRIDS[ctx.mode], { folds: FOLDS, minModels: MIN_MODELS }, ctx));
  const runs = e.population.runs.map((r) => r.id);
  if (e.rows.length === 0) {
    const reason = `only ${e.population.runs.length} models with finite features (${MIN_MODELS} needed)`;
    return { verdict: 'inconclusive', reason, figures: [], charts: [], runs };
  }
  return { ...judge(e), runs };
}

function predictedVsTrue(e: EvaluatedPopulation, seed: number): ChartOut {
  const rows = e.population.features.signature;
  const cv = crossValidatedR2(rows, e.population.gaps, foldAssignment(rows.length, FOLDS, seed));
  const data = e.population.runs.map((r, i) => ({
    gap: e.population.gaps[i],
    predicted: cv.predictions[i],
    trainSize: String(r.hparams.trainSize),
    model: r.id,
  }));
  return {
    name: 'margins-predicted-gap',
    title: 'Cross-validated predicted gap against the true gap',
    spec: scatterChart({ title: `Predicted vs true gap (10-fold CV R² ${fmt(cv.r2)})`, x: 'gap', y: 'predicted', color: 'trainSize', data, diagonal: true }),
  };
}

function distributions(e: EvaluatedPopulation): ChartOut {
  const runs = e.population.runs;
  const order = [...runs.keys()].sort((a, b) => e.population.gaps[a] - e.population.gaps[b]);
  const pick = [['gap', order[0]], ['gap', order[order.length - 1]]] as const;
  const data = pick.flatMap(([label, i]) =>
    SLOTS.map((slot) => {
      const m = runs[i].final;
      const v = (k: string): number => Math.exp(m[`margin.${slot}.log_${k}`]);
      const group = `${label} ${fmt(e.population.gaps[i])}: ${slot}`;
      return { group, lower: v('lowerFence'), q1: v('q1'), median: v('median'), q3: v('q3'), upper: v('upperFence') };
    })
  );
  return {
    name: 'margins-distributions',
    title: 'Normalised margin distributions per layer, lowest- and highest-gap models',
    spec: boxPlotChart({ title: 'Normalised margins per layer (box: quartiles; whiskers: fences)', group: 'group', data, yTitle: 'normalised margin' }),
  };
}

export const marginsPredictGap: Claim = {
  id: 'margins-predict-gap',
  group: 'margins',
  statement: 'A linear regression on the log signature of normalised margins at several layers predicts the generalisation gap.',
  paper: PAPER,
  rule: 'Holds when the 10-fold cross-validated R² of the regression of the gap on the 20 log-signature features (4 probe points × 5) is ' +
    '≥ 0.8 on the quick population, ≥ 0.9 on the full one; inconclusive with fewer than 60 usable models.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const r = row(e, 'signature');
      const target = ctx.mode === 'full' ? 0.9 : 0.8;
      return {
        verdict: verdictOf(r.cvR2 >= target),
        reason: `CV R² ${fmt(r.cvR2)} (target ≥ ${target}), adjusted R² ${fmt(r.adjustedR2)}, Kendall τ ${fmt(r.kendallTau)}, ` +
          `CMI ${fmt(r.cmi)} on ${e.population.runs.length} models`,
        figures: [
          { name: 'CV R²', value: r.cvR2, paper: 'adjusted R² 0.87–0.96 (CIFAR populations)' },
          { name: 'adjusted R²', value: r.adjustedR2 },
          { name: 'Kendall τ', value: r.kendallTau },
          { name: 'PGDL conditional MI', value: r.cmi },
          { name: 'models', value: e.population.runs.length },
        ],
        charts: [predictedVsTrue(e, ctx.seed), distributions(e)],
      };
    });
  },
};

export const marginsLayers: Claim = {
  id: 'margins-layers',
  group: 'margins',
  statement: 'Margins at all probe points together predict the gap better than the output-layer margins alone.',
  paper: PAPER,
  rule: 'Holds when the CV R² of the 20-feature regression (input, first hidden, last hidden, output) exceeds that of the 5 output-layer features.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const all = row(e, 'signature');
      const out = row(e, 'signature, output layer only');
      return {
        verdict: verdictOf(all.cvR2 > out.cvR2),
        reason: `CV R² all probe points ${fmt(all.cvR2)} vs output layer only ${fmt(out.cvR2)}`,
        figures: figures([all, out]),
        charts: [],
      };
    });
  },
};

export const marginsAblation: Claim = {
  id: 'margins-ablation',
  group: 'margins',
  statement: 'Normalising the margins by the total variation of each layer, and taking logs of the signature, each improve the prediction.',
  paper: PAPER,
  rule: 'Holds when the CV R² of the normalised log signature exceeds both that of the unnormalised log signature and that of the ' +
    'normalised signature without logs.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const names = ['signature', 'signature, not normalised', 'signature, no log', 'signature, neither'];
      const [full, raw, nolog] = names.map((n) => row(e, n));
      return {
        verdict: verdictOf(full.cvR2 > raw.cvR2 && full.cvR2 > nolog.cvR2),
        reason: `${names.map((n) => `${n} ${fmt(row(e, n).cvR2)}`).join('; ')} (CV R²)`,
        figures: figures(names.map((n) => row(e, n))),
        charts: [],
      };
    });
  },
};

export const marginsVsBaselines: Claim = {
  id: 'margins-vs-baselines',
  group: 'margins',
  statement: 'The margin-signature regression predicts the gap better than the classic generalisation measures.',
  paper: PAPER,
  rule: 'Holds when the signature regression has a higher CV R² and a higher Kendall τ than every baseline (spectrally-normalised margin, ' +
    'product of Frobenius norms, distance from initialisation, path norm, sharpness, output margin), each regressed on its log.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const sig = row(e, 'signature');
      const baselines = e.rows.filter((r) => r.measure.startsWith('baseline: '));
      const best = baselines.reduce((a, b) => (b.cvR2 > a.cvR2 ? b : a));
      const beaten = baselines.every((b) => sig.cvR2 > b.cvR2 && sig.kendallTau > b.kendallTau);
      return {
        verdict: verdictOf(beaten),
        reason: `signature CV R² ${fmt(sig.cvR2)}, τ ${fmt(sig.kendallTau)}; ` +
          `best baseline ${best.measure.slice(10)} CV R² ${fmt(best.cvR2)}, τ ${fmt(best.kendallTau)}`,
        figures: figures([sig, ...baselines]),
        charts: [],
      };
    });
  },
};

export const MARGIN_CLAIMS: Claim[] = [marginsPredictGap, marginsLayers, marginsAblation, marginsVsBaselines];
