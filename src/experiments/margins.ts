/**
 * The population the margin claims of Jiang, Krishnan, Mobahi, Bengio (ICLR 2019), docs/papers.md §1,
 * are judged on (src/claims/margins.ts): the zoo of a grid (src/experiments/zoo.ts) trained in the
 * run store, or taken from it where a model is already there, each model's features measured on its
 * own training set (src/measures/population.ts), and every measure's regression on the gap scored by
 * k-fold cross-validated R² with the same seeded folds (src/measures/regression.ts).
 */
import { populationFeatures, zooMeasures, type Population } from '../measures/population.js';
import { evaluateMeasures, type MeasureRow } from '../measures/regression.js';
import type { RunContext } from './context.js';
import { runZoo, type ZooGrid } from './zoo.js';

export interface EvaluatedPopulation {
  population: Population;
  /** One row a measure; none when the population has fewer than `minModels` usable models. */
  rows: MeasureRow[];
}

/**
 * Trains the grid's missing models, measures the population and, when at least `minModels` have
 * finite features, scores every measure by `folds`-fold cross-validation with folds seeded by ctx.seed.
 */
export function evaluatePopulation(grid: ZooGrid, o: { folds: number; minModels: number }, ctx: RunContext): EvaluatedPopulation {
  const runs = runZoo(grid, { store: ctx.store, measure: zooMeasures, progress: ctx.progress, log: ctx.log });
  const population = populationFeatures(runs);
  const enough = population.runs.length >= o.minModels;
  return { population, rows: enough ? evaluateMeasures(population.features, population.gaps, population.hparams, { folds: o.folds, seed: ctx.seed }) : [] };
}
