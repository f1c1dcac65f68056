/**
 * Jiang, Krishnan, Mobahi, Bengio (ICLR 2019): the distribution of normalised margins at several
 * layers predicts the generalisation gap. Four claims, all judged on one zoo (src/experiments/zoo.ts):
 * quick, the `quick` grid of MLPs on the embedded MNIST digits; full, the `paper` grid of
 * network-in-network CNNs on one fixed Fashion-MNIST training set, built as Jiang et al. built theirs.
 * Measured and regressed by src/experiments/margins.ts with 10-fold cross-validated R². They share the
 * population through the caller's cache (ctx.cache): it is trained and evaluated once per cache.
 * Each rule compares 95% percentile intervals of a paired bootstrap over the models (B = 1000,
 * src/measures/bootstrap.ts), not point estimates: a CV R² on 72 models depends on which models were
 * drawn, and a difference inside that spread is inconclusive, not a verdict.
 */
import { GRIDS } from '../experiments/zoo.js';
import { evaluatePopulation, type EvaluatedPopulation } from '../experiments/margins.js';
import { pairedDifference, percentileInterval, type Interval } from '../measures/bootstrap.js';
import { MARGIN_SETS, SLOTS } from '../measures/population.js';
import { crossValidatedR2, foldAssignment, type MeasureRow, type Rows } from '../measures/regression.js';
import { boxPlotChart, scatterChart } from '../report/chart.js';
import type { ChartOut, Claim, ClaimContext, Figure, Mode, Outcome, Verdict } from './claim.js';

export const PAPER = 'Jiang, Krishnan, Mobahi, Bengio. Predicting the generalization gap in deep networks with margin distributions. ICLR 2019';
export const FOLDS = 10;
/** Fewer usable models than this cannot support a 20-feature regression: inconclusive. */
const MIN_MODELS = 60;
/** Bootstrap resamples: with 1000 the ends of a 95% interval rest on the 25th draw from either end, not the 5th as with 200. */
export const RESAMPLES = 1000;

/** The zoo each mode's margin claims are judged on. */
export const POPULATION: Record<Mode, string> = { quick: 'quick', full: 'paper' };

export const row = (e: EvaluatedPopulation, name: string): MeasureRow => e.rows.find((r) => r.measure === name)!;
export const fmt = (v: number): string => v.toFixed(3);
/** `0.890 [0.842, 0.931]`: an estimate and its 95% interval. */
export const fmtI = (i: Interval): string => `${fmt(i.estimate)} [${fmt(i.lower)}, ${fmt(i.upper)}]`;
export const signed = (i: Interval): string => `${i.estimate >= 0 ? '+' : ''}${fmtI(i)}`;

export type Score = 'cvR2' | 'kendallTau';
/** A measure's score with its 95% interval. */
export const scoreOf = (e: EvaluatedPopulation, name: string, s: Score): Interval => percentileInterval(row(e, name)[s], e.draws[name][s]);
/** Measure a's score minus measure b's, with the 95% interval of the paired bootstrap difference. */
export const differenceOf = (e: EvaluatedPopulation, a: string, b: string, s: Score): Interval =>
  percentileInterval(row(e, a)[s] - row(e, b)[s], pairedDifference(e.draws[a][s], e.draws[b][s]));

/** Holds when every difference's interval lies above 0, does not hold when one lies below 0, inconclusive otherwise. */
export function verdictOfDifferences(differences: Interval[]): Verdict {
  if (differences.every((d) => d.lower > 0)) return 'holds';
  return differences.some((d) => d.upper < 0) ? 'does not hold' : 'inconclusive';
}

/** The figures of an interval: estimate, lower and upper end. */
export const intervalFigures = (name: string, i: Interval): Figure[] => [
  { name, value: i.estimate },
  { name: `${name}, 95% lower`, value: i.lower },
  { name: `${name}, 95% upper`, value: i.upper },
];

function figures(rows: MeasureRow[]): Figure[] {
  return rows.flatMap((r) => [
    { name: `${r.measure}: CV R²`, value: r.cvR2 },
    { name: `${r.measure}: Kendall τ`, value: r.kendallTau },
  ]);
}

/**
 * Runs the zoo `grid` (default: the mode's POPULATION) and applies `judge` unless it is too small to judge; the population
 * holds the margin claims' feature sets (MARGIN_SETS), or with `allSets` every set measured on all its models.
 */
export function withPopulation(ctx: ClaimContext, judge: (e: EvaluatedPopulation) => Omit<Outcome, 'runs'>, grid = POPULATION[ctx.mode],
  allSets = false): Outcome
{
  const key = `margins|${ctx.store.dir}|${grid}|${ctx.seed}|${allSets ? 'all' : 'margins'}`;
  const e = ctx.cache.get(key,
    () => evaluatePopulation(GRIDS[grid], { folds: FOLDS, minModels: MIN_MODELS, resamples: RESAMPLES }, ctx, allSets ? undefined : MARGIN_SETS));
  const runs = e.population.runs.map((r) => r.id);
  if (e.rows.length === 0) {
    const reason = `only ${e.population.runs.length} models with finite features (${MIN_MODELS} needed)`;
    return { verdict: 'inconclusive', reason, figures: [], charts: [], runs };
  }
  return { ...judge(e), runs };
}

/** Predicted (10-fold CV) against true gap of a feature set, coloured by the first of trainSize, depth, width that varies. */
export function predictedVsTrue(e: EvaluatedPopulation, seed: number, set = 'signature', rows: Rows = e.population.features[set]): ChartOut {
  const cv = crossValidatedR2(rows, e.population.gaps, foldAssignment(rows.length, FOLDS, seed));
  const runs = e.population.runs;
  const color = ['trainSize', 'depth', 'width'].find((k) => new Set(runs.map((r) => String(r.hparams[k]))).size > 1) ?? 'trainSize';
  const data = runs.map((r, i) => ({ gap: e.population.gaps[i], predicted: cv.predictions[i], [color]: String(r.hparams[color]), model: r.id }));
  const slug = set.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '');
  return {
    name: set === 'signature' ? 'margins-predicted-gap' : `margins-predicted-gap-${slug}`,
    title: `Cross-validated predicted gap against the true gap (${set})`,
    spec: scatterChart({ title: `Predicted vs true gap, ${set} (10-fold CV R² ${fmt(cv.r2)})`, x: 'gap', y: 'predicted', color, data, diagonal: true }),
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
  rule: 'The target is a 10-fold cross-validated R² of 0.8 on the quick population, 0.9 on the full (paper) one, for the regression of the gap ' +
    'on the 20 log-signature features (4 probe points × 5). Holds when the lower end of the 95% interval of that CV R² (paired ' +
    'bootstrap over the models, 1000 resamples, percentile interval) is ≥ the target, does not hold when its upper end is below it, ' +
    'inconclusive otherwise or with fewer than 60 usable models.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const r = row(e, 'signature');
      const cv = scoreOf(e, 'signature', 'cvR2');
      const target = ctx.mode === 'full' ? 0.9 : 0.8;
      return {
        verdict: cv.lower >= target ? 'holds' : cv.upper < target ? 'does not hold' : 'inconclusive',
        reason: `CV R² ${fmtI(cv)} (95% interval; target ≥ ${target}), adjusted R² ${fmt(r.adjustedR2)}, ` +
          `Kendall τ ${fmtI(scoreOf(e, 'signature', 'kendallTau'))}, CMI ${fmt(r.cmi)} on ${e.population.runs.length} models`,
        figures: [
          { name: 'CV R²', value: r.cvR2, paper: 'adjusted R² 0.87–0.96 (CIFAR populations)' },
          { name: 'CV R², 95% lower', value: cv.lower },
          { name: 'CV R², 95% upper', value: cv.upper },
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
  rule: 'Holds when the 95% interval (paired bootstrap over the models, 1000 resamples, percentile interval) of the CV R² of the ' +
    '20-feature regression (input, first hidden, last hidden, output) minus that of the 5 output-layer features lies above 0, ' +
    'does not hold when it lies below 0, inconclusive otherwise.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const names = ['signature', 'signature, output layer only'];
      const d = differenceOf(e, names[0], names[1], 'cvR2');
      return {
        verdict: verdictOfDifferences([d]),
        reason: `CV R² all probe points ${fmtI(scoreOf(e, names[0], 'cvR2'))} vs output layer only ` +
          `${fmtI(scoreOf(e, names[1], 'cvR2'))}: difference ${signed(d)} (95% intervals)`,
        figures: [...figures(names.map((n) => row(e, n))), ...intervalFigures('CV R² difference', d)],
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
  rule: 'Holds when the 95% intervals (paired bootstrap over the models, 1000 resamples, percentile intervals) of the CV R² of the ' +
    'normalised log signature minus that of the unnormalised log signature, and minus that of the normalised signature without ' +
    'logs, both lie above 0; does not hold when one lies below 0; inconclusive otherwise.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const names = ['signature', 'signature, not normalised', 'signature, no log', 'signature, neither'];
      const ablations = names.slice(1, 3).map((n) => ({ name: n, d: differenceOf(e, 'signature', n, 'cvR2') }));
      return {
        verdict: verdictOfDifferences(ablations.map((a) => a.d)),
        reason: `${names.map((n) => `${n} ${fmtI(scoreOf(e, n, 'cvR2'))}`).join('; ')} (CV R², 95% intervals); signature minus ` +
          ablations.map((a) => `${a.name.slice(11)} ${signed(a.d)}`).join(', '),
        figures: [...figures(names.map((n) => row(e, n))), ...ablations.flatMap((a) => intervalFigures(`CV R² difference, signature − ${a.name}`, a.d))],
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
  rule: 'For every baseline (spectrally-normalised margin, product of Frobenius norms, distance from initialisation, path norm, ' +
    "sharpness, output margin; each regressed on its log) the signature regression's CV R² minus the baseline's, and its Kendall τ " +
    "minus the baseline's, each with a 95% interval (paired bootstrap over the models, 1000 resamples, percentile interval). Holds " +
    'when all these intervals lie above 0, does not hold when one lies below 0, inconclusive otherwise.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const sig = row(e, 'signature');
      const baselines = e.rows.filter((r) => r.measure.startsWith('baseline: '));
      const scores: Score[] = ['cvR2', 'kendallTau'];
      const differences = scores.map((s) => baselines.map((b) => ({ b, d: differenceOf(e, 'signature', b.measure, s) })));
      // Per score, the baseline whose difference has the lowest lower end: the one the verdict turns on.
      const closest = differences.map((list) => list.reduce((x, y) => (y.d.lower < x.d.lower ? y : x)));
      const [r2, tau] = closest.map(({ b, d }, k) => `${b.measure.slice(10)} ${fmtI(scoreOf(e, b.measure, scores[k]))}, difference ${signed(d)}`);
      return {
        verdict: verdictOfDifferences(differences.flat().map((x) => x.d)),
        reason: `signature CV R² ${fmtI(scoreOf(e, 'signature', 'cvR2'))}, τ ${fmtI(scoreOf(e, 'signature', 'kendallTau'))}; ` +
          `closest baseline in CV R² ${r2}; in τ ${tau} (95% intervals)`,
        figures: [...figures([sig, ...baselines]), ...intervalFigures('CV R² difference to the closest baseline', closest[0].d),
          ...intervalFigures('Kendall τ difference to the closest baseline', closest[1].d)],
        charts: [],
      };
    });
  },
};

export const MARGIN_CLAIMS: Claim[] = [marginsPredictGap, marginsLayers, marginsAblation, marginsVsBaselines];
