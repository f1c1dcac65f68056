/**
 * The random-label experiment of Zhang, Bengio, Hardt, Recht, Vinyals (ICLR 2017), the starting point
 * of docs/papers.md §1, run by the claim random-labels (src/claims/random-labels.ts): the same MLP,
 * seed and optimiser on the embedded MNIST digits (standardised), once with the true labels and once
 * for each of several random labelings of the training digits; test accuracy is always measured on
 * the true test labels. Every training is recorded in the run store. Also the balanced random labels
 * that src/experiments/nguyen.ts uses.
 */
import { loadMnist, standardizeSplits, type Splits } from '../data/sources.js';
import { datasetFromRaw, disposeDataset, subset, type Dataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { recordRun, type RecordedRun } from '../train/record.js';
import type { RunContext } from './context.js';

export interface RandomLabelPlan {
  /** The MLP, e.g. 'mlp:784-1024-1024-10'. */
  spec: string;
  trueSize: number;
  randomSize: number;
  /** Independent random labelings. */
  labelings: number;
  trueEpochs: number;
  randomEpochs: number;
}

/** A recorded run whose model is released: its id, epochs and final metrics. */
export type TrainedRun = Omit<RecordedRun, 'model'>;

/**
 * Random labels independent of the true ones and balanced within every true class: each class's
 * points get the labels 0 … C−1 in turn, in a seeded random order. Uniform i.i.d. labels (Zhang et
 * al.) leave, with a few thousand points, a chance excess of some label within some class (the
 * diagonal of the true × random count table is about 11–12% instead of 10%), and a network that
 * memorises them carries that excess to the test set: 14% test accuracy instead of 10% was measured
 * that way. Balancing removes the excess without making the labels any less random.
 */
export function balancedRandomLabels(ds: Dataset, seed: number): Dataset {
  const rng = new Rng(seed);
  const truth = ds.y.toNumbers();
  const classes = ds.classes.length;
  const labels = new BigInt64Array(truth.length);
  for (let c = 0; c < classes; c++) {
    const members = truth.flatMap((y, i) => (y === c ? [i] : []));
    const offset = rng.int(classes);
    const order = rng.permutation(members.length);
    order.forEach((k, j) => (labels[members[k]] = BigInt((j + offset) % classes)));
  }
  const x = { dtype: 'float32' as const, shape: ds.x.shape, data: ds.x.toArray() };
  return datasetFromRaw(ds.name, x, { dtype: 'int64', shape: [truth.length], data: labels }, ds.classes);
}

/** Trains on `size` digits with the true labels (labeling null) or random labeling number k. */
function run(ctx: RunContext, splits: Splits, spec: string, labeling: number | null, size: number, epochs: number): RecordedRun {
  const seed = ctx.seed + (labeling ?? 0);
  const sub = subset(splits.train, size, seed);
  const train = labeling === null ? sub : balancedRandomLabels(sub, seed + 1);
  if (train !== sub) disposeDataset(sub);
  const labels = labeling === null ? 'true labels' : `random labeling ${labeling + 1}`;
  try {
    ctx.log(`random-labels: training ${spec} on ${size} digits with ${labels}`);
    return recordRun(ctx.store, {
      spec,
      data: `mnist (${size} train, ${labels})`,
      splits: { train, test: splits.test },
      kind: 'claim',
      tag: `random-labels/${labeling === null ? 'true' : `random-${labeling + 1}`}`,
      hparams: { trainSize: size, labelNoise: labeling === null ? 0 : 1 },
      options: {
        epochs,
        batchSize: 128,
        lr: 1e-3,
        optimizer: 'adam',
        seed,
        // Stop when memorised; the exact train accuracy is measured after training.
        targetTrainAccuracy: 0.998,
        progress: ctx.progress,
      },
    });
  } finally {
    disposeDataset(train);
  }
}

/**
 * Trains the MLP on plan.trueSize digits with the true labels, then on plan.randomSize digits with
 * each of plan.labelings random labelings (labeling k seeded with seed + k); the models are released.
 * `testSize` is the number of test digits every test accuracy is measured on.
 */
export function randomLabelRuns(plan: RandomLabelPlan, ctx: RunContext): { truth: TrainedRun; random: TrainedRun[]; testSize: number } {
  const splits = standardizeSplits(loadMnist({ seed: ctx.seed }));
  const testSize = splits.test.y.shape[0];
  const runs: RecordedRun[] = [];
  try {
    runs.push(run(ctx, splits, plan.spec, null, plan.trueSize, plan.trueEpochs));
    for (let k = 0; k < plan.labelings; k++) runs.push(run(ctx, splits, plan.spec, k, plan.randomSize, plan.randomEpochs));
  } finally {
    for (const r of runs) r.model.dispose();
    disposeDataset(splits.train);
    disposeDataset(splits.test);
  }
  const [truth, ...random] = runs.map(({ model: _model, ...r }) => r);
  return { truth, random, testSize };
}
