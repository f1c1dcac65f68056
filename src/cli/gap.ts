/**
 * `dltheory gap fit|predict|evaluate`: the generalisation-gap predictor of Jiang et al. (2019) on a
 * zoo population in the run store (src/measures/population.ts, src/measures/regression.ts); evaluate,
 * the ranking of every measure, is in gap-evaluate.ts.
 */
import { readFileSync } from 'node:fs';
import { InputError, check } from '../errors.js';
import { openStore } from '../store/runs.js';
import { formatTable } from '../report/progress.js';
import { writeFileAtomic } from '../io/files.js';
import { disposeDataset } from '../data/dataset.js';
import { loadModel } from '../nn/serialize.js';
import { FEATURE_SETS, marginMeasures, measurementSample, SLOTS, STATS } from '../measures/population.js';
import { crossValidatedR2, fitLinear, foldAssignment, predictLinear } from '../measures/regression.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';
import { loadData } from '../data/load.js';
import { disposing } from '../engine/memory.js';
import { readPair } from './margins.js';
import { HEADER_OPTION, HEADER_USAGE } from './points.js';
import { evaluate, zooPopulation } from './gap-evaluate.js';

interface GapFit {
  grid: string;
  features: string;
  names: string[];
  /** Intercept first. */
  coefficients: number[];
  cvR2: number;
  /** Root mean squared error of the cross-validated predictions: the error bar of a prediction. */
  cvRmse: number;
  models: number;
}

function featureNames(set: string, p: number): string[] {
  if (set === 'signature' || set.startsWith('signature, n')) return SLOTS.flatMap((s) => STATS.map((k) => `${s}.${k}`));
  if (set === 'signature, output layer only') return STATS.map((k) => `output.${k}`);
  return Array.from({ length: p }, (_, i) => `${set}[${i}]`);
}

const usage = `
dltheory gap evaluate [--grid quick|paper|train-size|FILE] [--folds K] [--seed S] [--sort cvR2|psi|tau|cmi]
                      [--csv FILE.csv] [--out FILE.json] [--chart FILE.svg] [--json] [--runs DIR]
dltheory gap fit [--grid ...] [--features SET] [--out FIT.json] [--json] [--runs DIR]
dltheory gap predict --fit FIT.json --model FILE (--data NAME [--train-size N] [--label-noise F] [--seed S]
                     | --input X --labels Y [--header H]) [--json]

evaluate  ranks every feature set on the zoo's population by the least-squares fit of the gap on
          it: 10-fold cross-validated R² (seeded folds), and on the fit's predictions Kendall τ,
          Jiang et al.'s (2020) granulated τ Ψ, the PGDL conditional MI; adjusted R². Sorted by
          --sort (default cvR2, the one score held out: the others favour many features).
          --csv, --out: the table as CSV, as JSON (--json prints it); --chart: Ψ and CV R² as SVG.
fit       least squares of the gap on a feature set (default: signature, the 20 log-signature
          features); writes the coefficients and the cross-validated error.
predict   a model's predicted gap, from the margins on (a seeded sample of up to 2,000 of) its own
          training points, as the zoo measures its models, ± the CV RMSE of a signature fit.
          --input and --labels: .npy or .csv files;
${HEADER_USAGE}
Feature sets: ${Object.keys(FEATURE_SETS).map((s) => `'${s}'`).join(', ')}.
`;

export const gapCommand: Command = {
  name: 'gap',
  summary: 'fit, evaluate and apply the margin-signature predictor of the generalisation gap',
  usage,
  options: {
    grid: { type: 'string' },
    folds: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    runs: { type: 'string' },
    features: { type: 'string' },
    out: { type: 'string' },
    sort: { type: 'string' },
    csv: { type: 'string' },
    chart: { type: 'string' },
    fit: { type: 'string' },
    model: { type: 'string' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    'train-size': { type: 'string' },
    'label-noise': { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v, positionals: [sub, ...extra] } = parse(this, argv);
    if (extra.length) throw new InputError(`gap: unexpected arguments: ${extra.join(' ')}`);
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    if (sub !== 'fit' && sub !== 'evaluate' && sub !== 'predict') throw new InputError(`gap: expected fit, predict or evaluate, got '${sub ?? ''}'`);
    for (const o of ['sort', 'csv', 'chart'])
      check(sub === 'evaluate' || v[o] === undefined, `gap ${sub}: --${o} is an option of gap evaluate`);
    if (sub === 'predict') return predict(v, seed);
    if (sub === 'evaluate') return evaluate(v, seed);
    const gridName = (v.grid as string | undefined) ?? 'quick';
    using store = openStore(v.runs as string | undefined, { existing: true });
    const set = choiceOpt(v.features, 'features', Object.keys(FEATURE_SETS), 'signature');
    const p = zooPopulation(store, gridName, [set]);
    const rows = p.features[set];
    const fit = fitLinear(rows, p.gaps);
    const cv = crossValidatedR2(rows, p.gaps, foldAssignment(rows.length, 10, seed));
    const cvRmse = Math.sqrt(cv.predictions.reduce((a, yhat, i) => a + (yhat - p.gaps[i]) ** 2, 0) / rows.length);
    const out: GapFit = {
      grid: gridName,
      features: set,
      names: featureNames(set, rows[0].length),
      coefficients: Array.from(fit.coefficients),
      cvR2: cv.r2,
      cvRmse,
      models: rows.length,
    };
    if (v.out) writeFileAtomic(v.out as string, JSON.stringify(out, null, 2));
    if (v.json) console.log(JSON.stringify({ ...out, adjustedR2: fit.adjustedR2 }));
    else
      console.log(`${set} on ${rows.length} models: adjusted R² ${fit.adjustedR2.toFixed(3)}, CV R² ${cv.r2.toFixed(3)}, CV RMSE ${cvRmse.toFixed(4)}\n` +
        formatTable(['term', 'coefficient'], [['intercept', fit.coefficients[0]], ...out.names.map((n, i) => [n, fit.coefficients[i + 1]])]));
    return 0;
  },
};

async function predict(v: Record<string, string | boolean | undefined>, seed: number): Promise<number> {
  const fitPath = required(v.fit, 'fit');
  let fit: GapFit;
  try {
    fit = JSON.parse(readFileSync(fitPath, 'utf8')) as GapFit;
  } catch (e) {
    throw new InputError(`${fitPath}: not a gap fit written by \`dltheory gap fit --out\`: ${(e as Error).message.split('\n')[0]}`);
  }
  check(FEATURE_SETS[fit.features] && Array.isArray(fit.coefficients), `${fitPath}: not a gap fit written by \`dltheory gap fit --out\``);
  check(fit.features.startsWith('signature'), `${fitPath}: predict takes a fit of margin-signature features, not '${fit.features}'`);
  using model = loadModel(required(v.model, 'model')).model;
  const pair = v.input
    ? readPair(v.input as string, required(v.labels, 'labels'), v.header)
    : (() => {
      const splits = loadData({
        name: required(v.data, 'data (or --input and --labels)'),
        seed,
        dir: v['data-dir'] as string | undefined,
        trainSize: v['train-size'] === undefined ? undefined : numberOpt(v['train-size'], 'train-size', 0, { integer: true, min: 1 }),
        labelNoise: numberOpt(v['label-noise'], 'label-noise', 0, { min: 0, max: 1 }),
      });
      disposeDataset(splits.test);
      return { x: splits.train.x, y: splits.train.y };
    })();
  // The same seeded sample of at most 2,000 training points the zoo's models were measured on.
  const [x, y] = measurementSample(pair.x, pair.y, seed);
  using _sample = disposing([x, y]);
  pair.x.dispose();
  pair.y.dispose();
  const features = FEATURE_SETS[fit.features](marginMeasures(model, x, y));
  const undefinedAt = featureNames(fit.features, features.length).filter((_, i) => !Number.isFinite(features[i]));
  check(undefinedAt.length === 0,
    () =>
      `${v.model}: its margin signature is undefined at ${undefinedAt.join(', ')}: too few points classified correctly, or the points indistinguishable there`);
  const gap = predictLinear(Float64Array.from(fit.coefficients), [Float64Array.from(features)])[0];
  const result = { predictedGap: gap, cvRmse: fit.cvRmse, features: fit.features, grid: fit.grid };
  console.log(
    v.json ? JSON.stringify(result) : `predicted gap ${gap.toFixed(4)} ± ${fit.cvRmse.toFixed(4)} (CV RMSE of the ${fit.grid} fit on ${fit.models} models)`,
  );
  return 0;
}
