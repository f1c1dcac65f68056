/**
 * A data set chosen by name, as the CLI's data options and the claims give it: a named or path data
 * set (see loadNamed), optionally a seeded subset of its training split, optionally with label noise.
 */
import { loadNamed, type Splits } from './sources.js';
import { disposeDataset, labelNoise, subset } from './dataset.js';

export interface DataChoice {
  name: string;
  seed: number;
  trainSize?: number;
  labelNoise?: number;
  dir?: string;
}

/** Loads the splits, then takes a seeded subset of the training set and corrupts its labels as asked. */
export function loadData(c: DataChoice): Splits {
  const splits = loadNamed(c.name, { seed: c.seed, dir: c.dir });
  let train = splits.train;
  if (c.trainSize !== undefined && c.trainSize < train.y.size(0)) {
    const sub = subset(train, c.trainSize, c.seed);
    disposeDataset(train);
    train = sub;
  }
  if (c.labelNoise) {
    const noisy = labelNoise(train, c.labelNoise, c.seed + 1);
    disposeDataset(train);
    train = noisy;
  }
  return { train, test: splits.test };
}

/** A one-line description of the data for the run store. */
export function describeData(c: DataChoice, n: number): string {
  return `${c.name} (${n} train${c.labelNoise ? `, label noise ${c.labelNoise}` : ''})`;
}
