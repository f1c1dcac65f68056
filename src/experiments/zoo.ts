/**
 * A model zoo: a population of networks trained over a grid of hyper-parameters — width, depth,
 * weight decay, dropout, batch norm, training-set size, label noise, learning rate, augmentation,
 * seed — recorded in the run store with the measures of every model. The population is what the
 * gap regression of Jiang et al. (2019), docs/papers.md §1, is fitted and judged on: by the margin
 * claims (src/experiments/margins.ts), `dltheory zoo` and `dltheory gap`.
 *
 * Each grid cell has a deterministic run id (a hash of the grid name and the cell), and a model is
 * committed with its measures in one transaction, so a killed zoo run again trains only the models
 * that are missing: nothing lost, nothing twice.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError, check } from '../errors.js';
import { Rng } from '../data/rng.js';
import { disposeDataset, labelNoise, subset, type Dataset } from '../data/dataset.js';
import { loadNamed, standardizeSplits, type Splits } from '../data/sources.js';
import { randomShift } from '../data/augment.js';
import type { Module } from '../nn/module.js';
import type { Metrics, RunRecord, RunStore } from '../store/runs.js';
import { progress } from '../report/progress.js';
import { recordRun } from '../train/record.js';
import { loadModel } from '../nn/serialize.js';
import { buildModel } from '../nn/models/spec.js';

export interface ZooCell {
  width: number;
  depth: number;
  weightDecay: number;
  dropout: number;
  batchNorm: boolean;
  trainSize: number;
  labelNoise: number;
  lr: number;
  /** Largest random shift in pixels; 0 for none. */
  augment: number;
  seed: number;
}

export interface ZooGrid {
  name: string;
  /** mnist, fashion-mnist, cifar10 or a path (see loadNamed). */
  data: string;
  dataDir?: string;
  /** mlp: hidden layers of `width` × `depth`; cnn: the small CNN with `w = width` (depth unused); nin: `depth` network-in-network blocks of `width` channels. */
  arch: 'mlp' | 'cnn' | 'nin';
  optimizer: 'sgd' | 'adam';
  batchSize: number;
  /** Epoch cap; training stops earlier at `targetTrainAccuracy`. */
  epochs: number;
  targetTrainAccuracy: number;
  /** Each axis lists its values; the grid is their full product, or a seeded sample of `sample` cells. */
  axes: { [K in keyof ZooCell]: ZooCell[K][] };
  sample?: number;
  /**
   * A model below this final training accuracy has not fitted its training set and is left out of
   * the population (as Jiang et al. keep only models that reached their stopping criterion); default 0.
   */
  minTrainAccuracy?: number;
  /** The generalisation benchmark's measures are taken with the quick budget (src/measures/benchmark.ts); default the standard one. */
  quickMeasures?: boolean;
}

/** What trains a cell and names it: a grid without its axes (what a queue job carries, src/queue/payload.ts). */
export type ZooTraining = Omit<ZooGrid, 'axes' | 'sample' | 'minTrainAccuracy'>;

const BASE = { data: 'mnist', arch: 'mlp', optimizer: 'adam', batchSize: 128 } as const;
const FIXED = { weightDecay: [0], dropout: [0], batchNorm: [false], lr: [1e-3], augment: [0], seed: [0] };

/**
 * The built-in grids:
 * - `quick` (72 MLPs on 500–2,000 MNIST digits, about 4 minutes on 2 cores with their measures), the demo's;
 * - `paper`, built as Jiang et al. built theirs (2019 §5, 2020 §A): one fixed training set (1,000
 *   Fashion-MNIST images), width, depth, weight decay, dropout, batch norm, learning rate and
 *   augmentation varied (a seeded sample of 160 of their 192 combinations of network-in-network
 *   CNNs, sized to train on 2 cores in about an hour), each trained to 99% training accuracy or 30 epochs;
 * - `train-size` (a seeded sample of 200 MLPs on MNIST), which varies the training-set size as
 *   well: a population where the size alone explains much of the gap (docs/reproduce-quick.md).
 * Like Jiang et al.'s populations they vary the architecture and the training, not the labels: models
 * trained on noisy labels stop short of fitting them in the epoch budget, and the signature — measured
 * on the points a model classifies correctly — misses what it has not fitted (measured on a 108-model
 * grid with label noise 0/0.1/0.2: CV R² 0.32 over all, 0.91 over the noise-free models). A grid file
 * can still vary `labelNoise`. A regression on 20 features also needs several times as many models:
 * on 32 its CV R² was negative.
 */
export const GRIDS: Record<string, ZooGrid> = {
  quick: {
    ...BASE,
    name: 'quick',
    epochs: 40,
    quickMeasures: true,
    targetTrainAccuracy: 0.995,
    axes: { ...FIXED, width: [128, 512], depth: [1, 2, 3], trainSize: [500, 1000, 2000], weightDecay: [0, 1e-4], augment: [0, 2], labelNoise: [0] },
  },
  paper: {
    ...BASE,
    name: 'paper',
    data: 'fashion-mnist',
    arch: 'nin',
    epochs: 30,
    targetTrainAccuracy: 0.99,
    axes: {
      width: [16, 32],
      depth: [1, 2, 3],
      weightDecay: [0, 5e-4],
      dropout: [0, 0.25],
      batchNorm: [false, true],
      trainSize: [1000],
      labelNoise: [0],
      lr: [1e-3, 3e-3],
      augment: [0, 1],
      seed: [0],
    },
    sample: 160,
    minTrainAccuracy: 0.9,
  },
  'train-size': {
    ...BASE,
    name: 'train-size',
    epochs: 50,
    targetTrainAccuracy: 0.995,
    sample: 200,
    axes: {
      width: [128, 256, 512],
      depth: [1, 2, 3],
      weightDecay: [0, 1e-4, 5e-4],
      dropout: [0, 0.2],
      batchNorm: [false, true],
      trainSize: [1000, 2000, 4000, 8000],
      labelNoise: [0],
      lr: [3e-4, 1e-3],
      augment: [0, 2],
      seed: [0, 1],
    },
  },
};

/** The grid's runs that fitted their training set (minTrainAccuracy), and the ids of those that did not. */
export function fittedRuns(grid: ZooGrid, runs: RunRecord[]): { fitted: RunRecord[]; unfitted: string[] } {
  const min = grid.minTrainAccuracy ?? 0;
  return { fitted: runs.filter((r) => r.final.trainAccuracy >= min), unfitted: runs.filter((r) => !(r.final.trainAccuracy >= min)).map((r) => r.id) };
}

/** Reads a grid from a JSON file: the fields of ZooGrid; missing axes take one default value. */
export function readGrid(path: string): ZooGrid {
  let raw: Partial<ZooGrid>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<ZooGrid>;
  } catch (e) {
    throw new InputError(`${path}: not a readable JSON grid: ${(e as Error).message.split('\n')[0]}`);
  }
  check(raw !== null && typeof raw === 'object' && !Array.isArray(raw), `${path}: a grid is a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !GRID_KEYS.includes(k));
  check(unknown.length === 0,
    () => `${path}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (${GRID_KEYS.join(', ')})`);
  const axes = { ...FIXED, width: [256], depth: [1], trainSize: [2000], labelNoise: [0], ...raw.axes };
  const grid = { ...BASE, epochs: 30, targetTrainAccuracy: 0.99, name: '', ...raw, axes } as ZooGrid;
  check(/^[A-Za-z0-9_-]+$/.test(grid.name), `${path}: "name" must be letters, digits, '_' or '-'`);
  check(['mlp', 'cnn', 'nin'].includes(grid.arch), `${path}: "arch" must be mlp, cnn or nin`);
  check(['sgd', 'adam'].includes(grid.optimizer), `${path}: "optimizer" must be sgd or adam`);
  check(typeof grid.data === 'string' && grid.data.length > 0, `${path}: "data" must be a data set name or path`);
  for (const [k, ok] of [['epochs', isCount], ['batchSize', isCount], ['targetTrainAccuracy', (v: unknown) => typeof v === 'number' && v > 0]] as const)
    check(ok(grid[k]), `${path}: "${k}" must be ${k === 'targetTrainAccuracy' ? 'a number > 0' : 'an integer ≥ 1'}`);
  check(grid.sample === undefined || isCount(grid.sample), `${path}: "sample" must be an integer ≥ 1`);
  check(grid.minTrainAccuracy === undefined || inRange(0, 1)(grid.minTrainAccuracy), `${path}: "minTrainAccuracy" must be a number in [0, 1]`);
  check(grid.quickMeasures === undefined || typeof grid.quickMeasures === 'boolean', `${path}: "quickMeasures" must be true or false`);
  for (const [k, v] of Object.entries(grid.axes)) {
    const rule = AXIS_RULES[k as keyof ZooCell];
    check(rule !== undefined, () => `${path}: unknown axis "${k}" (${Object.keys(AXIS_RULES).join(', ')})`);
    check(Array.isArray(v) && v.length > 0, `${path}: axis "${k}" must be a non-empty list`);
    const bad = (v as unknown[]).find((x) => !rule[0](x));
    check(bad === undefined, () => `${path}: axis "${k}": ${JSON.stringify(bad)} is not ${rule[1]}`);
  }
  return grid;
}

const GRID_KEYS = ['name', 'data', 'dataDir', 'arch', 'optimizer', 'batchSize', 'epochs', 'targetTrainAccuracy', 'axes', 'sample', 'minTrainAccuracy',
  'quickMeasures'];
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 1;
const inRange = (lo: number, hi: number, hiOpen = false) => (v: unknown): boolean => typeof v === 'number' && v >= lo && (hiOpen ? v < hi : v <= hi);
/** Each axis's test and what it asks for. */
const AXIS_RULES: { [K in keyof ZooCell]: [(v: unknown) => boolean, string] } = {
  width: [isCount, 'an integer ≥ 1'],
  depth: [isCount, 'an integer ≥ 1'],
  weightDecay: [inRange(0, Infinity), 'a number ≥ 0'],
  dropout: [inRange(0, 1, true), 'a number in [0, 1)'],
  batchNorm: [(v) => typeof v === 'boolean', 'true or false'],
  trainSize: [isCount, 'an integer ≥ 1'],
  labelNoise: [inRange(0, 1), 'a number in [0, 1]'],
  lr: [(v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'a number > 0'],
  augment: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer ≥ 0'],
  seed: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer ≥ 0'],
};

/** The grid's cells in a fixed order (the product, or its seeded sample). */
export function gridCells(grid: ZooGrid): ZooCell[] {
  let cells: ZooCell[] = [{} as ZooCell];
  for (const [key, values] of Object.entries(grid.axes) as [keyof ZooCell, unknown[]][])
    cells = cells.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  if (grid.sample === undefined || grid.sample >= cells.length) return cells;
  const order = new Rng(0).permutation(cells.length);
  return Array.from(order.subarray(0, grid.sample)).sort((a, b) => a - b).map((i) => cells[i]);
}

/** The model spec of a cell for the grid's architecture and data shape. */
export function cellSpec(grid: ZooTraining, cell: ZooCell, inputShape: number[], classes: number): string {
  const opts = `${cell.batchNorm ? ':bn' : ''}${cell.dropout ? `:dropout=${cell.dropout}` : ''}`;
  if (grid.arch === 'cnn') return `cnn:${inputShape.join('x')}-${classes}:w=${cell.width}${opts}`;
  if (grid.arch === 'nin') return `nin:${inputShape.join('x')}-${classes}:w=${cell.width}:d=${cell.depth}${opts}`;
  const features = inputShape.reduce((a, b) => a * b, 1);
  return `mlp:${[features, ...Array(cell.depth).fill(cell.width), classes].join('-')}${opts}`;
}

/** The cell's run id: stable across runs, so a resumed zoo recognises finished models. */
export function cellId(grid: ZooTraining, cell: ZooCell): string {
  const key = JSON.stringify([grid.name, grid.data, grid.arch, grid.optimizer, grid.batchSize, grid.epochs, grid.targetTrainAccuracy, cell]);
  return `zoo-${grid.name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** A group of measures of a trained model on its training set, stored with its run. */
export interface ZooMeasure {
  /**
   * A metric every run measured by this group holds. A stored run without it (trained before the
   * group existed) is measured from its saved weights, and the metrics are added to its run.
   */
  marker: string;
  measure: (model: Module, train: Dataset, cell: ZooCell, spec: string, grid: ZooTraining) => Metrics;
}

export interface ZooOptions {
  store: RunStore;
  measures?: ZooMeasure[];
  progress?: boolean;
  log?: (message: string) => void;
}

/** The measure groups a stored run lacks. */
function missingMeasures(run: RunRecord, o: ZooOptions): ZooMeasure[] {
  return (o.measures ?? []).filter((m) => !(m.marker in run.final));
}

/**
 * Trains every missing model of the grid, and measures every stored model that lacks a measure group
 * (from its saved weights); returns all the grid's runs (old and new), in cell order.
 */
export function runZoo(grid: ZooGrid, o: ZooOptions): RunRecord[] {
  const cells = gridCells(grid);
  const todo = cells.filter((c) => !o.store.hasRun(cellId(grid, c)));
  const remeasure = cells.filter((c) => {
    const stored = o.store.getRun(cellId(grid, c));
    return stored !== undefined && missingMeasures(stored.run, o).length > 0;
  });
  o.log?.(`zoo ${grid.name}: ${cells.length} models, ${cells.length - todo.length} already done` +
    (remeasure.length ? `, ${remeasure.length} of them to measure again` : ''));
  if (todo.length || remeasure.length) {
    const { train, test } = loadZooData(grid);
    const bar = o.progress ? progress({ total: todo.length + remeasure.length, label: `zoo ${grid.name}` }) : undefined;
    try {
      checkCells(grid, todo, train);
      for (const cell of remeasure) {
        measureStored(grid, cell, train, o);
        bar?.tick(1, { model: cellId(grid, cell), measured: true });
      }
      for (const cell of todo) {
        trainCell(grid, cell, { train, test }, o.store, o.measures);
        bar?.tick(1, { model: cellId(grid, cell) });
      }
    } finally {
      bar?.done();
      disposeDataset(train);
      disposeDataset(test);
    }
  }
  return cells.map((c) => o.store.getRun(cellId(grid, c))!.run);
}

/** The grid's data, standardized, as every zoo model sees it (the caller disposes both splits). */
export function loadZooData(grid: Pick<ZooGrid, 'data' | 'dataDir'>): Splits {
  return standardizeSplits(loadNamed(grid.data, { seed: 0, dir: grid.dataDir }));
}

/** Every model the cells name can be built for the data, and every training size fits it: checked before any training. */
export function checkCells(grid: ZooTraining, cells: ZooCell[], train: Dataset): void {
  const points = train.y.size(0);
  for (const cell of cells)
    check(cell.trainSize <= points, `zoo ${grid.name}: trainSize ${cell.trainSize} exceeds the ${points} training points of ${grid.data}`);
  for (const spec of new Set(cells.map((c) => cellSpec(grid, c, train.x.shape.slice(1), train.classes.length)))) {
    try {
      buildModel(spec).dispose();
    } catch (e) {
      throw e instanceof InputError ? new InputError(`zoo ${grid.name}: ${e.message}`) : e;
    }
  }
}

/** The cell's training set: the seeded subset of `train`, with its label noise. */
function cellTrainingSet(cell: ZooCell, train: Dataset): Dataset {
  const sub = subset(train, cell.trainSize, cell.seed);
  const noisy = cell.labelNoise ? labelNoise(sub, cell.labelNoise, cell.seed + 1) : sub;
  if (noisy !== sub) disposeDataset(sub);
  return noisy;
}

/** Measures a stored model with the groups its run lacks and adds their metrics to the run, in one transaction. */
function measureStored(grid: ZooGrid, cell: ZooCell, train: Dataset, o: ZooOptions): void {
  const { run } = o.store.getRun(cellId(grid, cell))!;
  const path = o.store.weightsPath(run);
  check(path !== null, `zoo ${grid.name}: run ${run.id} has no weights to measure`);
  using model = loadModel(path).model;
  const data = cellTrainingSet(cell, train);
  try {
    const metrics = Object.assign({}, ...missingMeasures(run, o).map((m) => m.measure(model, data, cell, run.spec, grid))) as Metrics;
    o.store.addMetrics(run.id, metrics);
  } finally {
    disposeDataset(data);
  }
}

/**
 * Test points evaluated after every epoch for the learning curves; the final test accuracy (and the
 * gap) uses the whole test set. Evaluating 1,000 cost about a third of an epoch on 500 training points.
 */
const CURVE_TEST_POINTS = 500;

/**
 * Trains one cell of the grid on `splits` (from `loadZooData`), measures it with `measures` and
 * commits the run to `store`: the local zoo and a queue worker (src/queue/processor.ts) both call
 * this, so a model trained on a worker is recorded exactly as one trained here.
 */
export function trainCell(grid: ZooTraining, cell: ZooCell, { train, test }: Splits, store: RunStore, measures?: ZooMeasure[]): void {
  const noisy = cellTrainingSet(cell, train);
  const curveTest = test.y.size(0) > CURVE_TEST_POINTS ? subset(test, CURVE_TEST_POINTS, 0) : undefined;
  const spec = cellSpec(grid, cell, train.x.shape.slice(1), train.classes.length);
  try {
    const run = recordRun(store, {
      id: cellId(grid, cell),
      spec,
      kind: 'zoo',
      tag: `zoo/${grid.name}`,
      data: `${grid.data} (${cell.trainSize} train, label noise ${cell.labelNoise})`,
      splits: { train: noisy, test },
      curveTest,
      hparams: { ...cell, grid: grid.name },
      options: {
        epochs: grid.epochs,
        batchSize: grid.batchSize,
        lr: cell.lr,
        optimizer: grid.optimizer,
        weightDecay: cell.weightDecay,
        seed: cell.seed,
        targetTrainAccuracy: grid.targetTrainAccuracy,
        augment: cell.augment ? (x) => randomShift(x, cell.augment) : undefined,
      },
      measure: measures && ((model) => Object.assign({}, ...measures.map((m) => m.measure(model, noisy, cell, spec, grid))) as Metrics),
    });
    run.model.dispose();
  } finally {
    disposeDataset(noisy);
    if (curveTest) disposeDataset(curveTest);
  }
}
