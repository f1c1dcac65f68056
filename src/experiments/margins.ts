/**
 * The population the margin claims of Jiang, Krishnan, Mobahi, Bengio (ICLR 2019), docs/papers.md §1,
 * are judged on (src/claims/margins.ts): the zoo of a grid (src/experiments/zoo.ts) trained in the
 * run store, or taken from it where a model is already there, each model's features measured on its
 * own training set (src/measures/population.ts), every measure's regression on the gap scored by
 * k-fold cross-validated R² with the same seeded folds (src/measures/regression.ts), and the scores
 * bootstrapped over models on the same folds for their intervals (src/measures/bootstrap.ts).
 */
import { bootstrapResamples, bootstrapScores, type ScoreDraws } from '../measures/bootstrap.js';
import { populationFeatures, zooMeasures, type Population } from '../measures/population.js';
import { benchmarkMeasures, QUICK_BUDGET, STANDARD_BUDGET } from '../measures/benchmark.js';
import { evaluateMeasures, foldAssignment, type MeasureRow } from '../measures/regression.js';
import type { RunContext } from './context.js';
import { fittedRuns, runZoo, type ZooGrid, type ZooMeasure } from './zoo.js';

/** The measures taken on every zoo model: the margin signature with the classic baselines, and the generalisation benchmark's. */
export const ZOO_MEASURES: ZooMeasure[] = [
  { marker: 'margin.dropped', measure: zooMeasures },
  // The marker is the newest metric of the group, so a zoo measured before it existed is measured again.
  { marker: 'pacbayes.mag.init',
    measure: (model, train, cell, spec, grid) => benchmarkMeasures(model, train, cell, spec, grid.quickMeasures ? QUICK_BUDGET : STANDARD_BUDGET) },
];

export interface EvaluatedPopulation {
  population: Population;
  /** One row a measure; none when the population has fewer than `minModels` usable models. */
  rows: MeasureRow[];
  /** Each measure's scores on the same bootstrap resamples of the models, by measure name; empty with the rows. */
  draws: Record<string, ScoreDraws>;
}

export interface ScoringOptions {
  folds: number;
  minModels: number;
  /** Bootstrap resamples B. */
  resamples: number;
}

/**
 * Scores every measure of `population` when at least `minModels` models are usable: `folds`-fold
 * CV with folds drawn by Rng(seed), and `resamples` bootstrap resamples on those folds drawn by
 * Rng(seed + 1), a stream apart from the folds' so the resamples do not echo the fold permutation.
 */
export function scorePopulation(population: Population, o: ScoringOptions, seed: number): EvaluatedPopulation {
  const n = population.runs.length;
  if (n < o.minModels) return { population, rows: [], draws: {} };
  const rows = evaluateMeasures(population.features, population.gaps, population.hparams, { folds: o.folds, seed });
  const folds = foldAssignment(n, o.folds, seed);
  const resamples = bootstrapResamples(n, o.resamples, seed + 1);
  const draws = Object.fromEntries(Object.entries(population.features).map(([name, f]) => [name, bootstrapScores(f, population.gaps, folds, resamples)]));
  return { population, rows, draws };
}

/**
 * Trains the grid's missing models, measures the population and scores the feature sets `sets` (default: every
 * set measured on all its models) with scorePopulation, seeded by ctx.seed.
 */
export function evaluatePopulation(grid: ZooGrid, o: ScoringOptions, ctx: RunContext, sets?: readonly string[]): EvaluatedPopulation {
  const runs = runZoo(grid, { store: ctx.store, measures: ZOO_MEASURES, progress: ctx.progress, log: ctx.log });
  const { fitted, unfitted } = fittedRuns(grid, runs);
  if (unfitted.length) ctx.log(`zoo ${grid.name}: ${unfitted.length} of ${runs.length} models left out below ${grid.minTrainAccuracy} training accuracy`);
  return scorePopulation(populationFeatures(fitted, sets), o, ctx.seed);
}
