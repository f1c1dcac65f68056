/**
 * A sweep: `train` runs of one or more models — built-in specs or model files (ONNX, or a dltheory
 * .safetensors to fine-tune) — over a grid of training settings, from a JSON file. Like the zoo, each
 * run has a deterministic id (a hash of the sweep's name, data and the run's settings) and is
 * committed in one transaction, so a sweep run again trains only what is missing, locally
 * (`dltheory sweep`) or on queue workers (`dltheory sweep --queue`), which call `trainSweepRun` too.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, check } from '../errors.js';
import { DATASET_NAMES } from '../data/sources.js';
import { describeData, loadData } from '../data/load.js';
import { disposeDataset } from '../data/dataset.js';
import { loadModel } from '../nn/serialize.js';
import { buildModel } from '../nn/models/spec.js';
import type { RunRecord, RunStore } from '../store/runs.js';
import { progress } from '../report/progress.js';
import { recordRun } from '../train/record.js';

/** One run's settings. */
export interface SweepRun {
  /** A model spec (`mlp:784-64-10`), or a model file (.onnx, .safetensors) to train from its weights. */
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam';
  weightDecay: number;
  /** A seeded subset of the training set; null for all of it. */
  trainSize: number | null;
  labelNoise: number;
  seed: number;
}

export interface SweepGrid {
  name: string;
  /** A data set name or path (see loadNamed), as `dltheory train --data`. */
  data: string;
  dataDir?: string;
  /** Each setting lists its values; the sweep is their full product. */
  axes: { [K in keyof SweepRun]: SweepRun[K][] };
}

/** Whether a sweep's model is a file rather than a spec. */
export const isModelPath = (model: string): boolean => /\.(onnx|safetensors)$/i.test(model);

const DEFAULTS: Omit<SweepGrid['axes'], 'model'> = { epochs: [5], batchSize: [128], lr: [1e-3], optimizer: ['adam'], weightDecay: [0], trainSize: [null],
  labelNoise: [0], seed: [0] };
const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 1;
const AXIS_RULES: { [K in keyof SweepRun]: [(v: unknown) => boolean, string] } = {
  model: [(v) => typeof v === 'string' && v.length > 0, 'a model spec or a model file'],
  epochs: [count, 'an integer ≥ 1'],
  batchSize: [count, 'an integer ≥ 1'],
  lr: [(v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'a number > 0'],
  optimizer: [(v) => v === 'sgd' || v === 'adam', 'sgd or adam'],
  weightDecay: [(v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'a number ≥ 0'],
  trainSize: [(v) => v === null || count(v), 'an integer ≥ 1 or null'],
  labelNoise: [(v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number in [0, 1]'],
  seed: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer ≥ 0'],
};

/** Reads a sweep from a JSON file: name, data, optional dataDir, and axes (model required; the others default to one value each). */
export function readSweep(path: string): SweepGrid {
  let raw: Partial<SweepGrid>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<SweepGrid>;
  } catch (e) {
    throw new InputError(`${path}: not a readable JSON sweep: ${(e as Error).message.split('\n')[0]}`);
  }
  check(raw !== null && typeof raw === 'object' && !Array.isArray(raw), `${path}: a sweep is a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !['name', 'data', 'dataDir', 'axes'].includes(k));
  check(unknown.length === 0, () => `${path}: unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (name, data, dataDir, axes)`);
  check(typeof raw.name === 'string' && /^[A-Za-z0-9_-]+$/.test(raw.name), `${path}: "name" must be letters, digits, '_' or '-'`);
  check(typeof raw.data === 'string' && raw.data.length > 0, `${path}: "data" must be a data set name or path`);
  check(raw.dataDir === undefined || typeof raw.dataDir === 'string', `${path}: "dataDir" must be a folder`);
  check(raw.axes !== null && typeof raw.axes === 'object' && Array.isArray(raw.axes.model), `${path}: "axes" must list at least "model"`);
  const axes = { ...DEFAULTS, ...raw.axes } as SweepGrid['axes'];
  for (const [k, v] of Object.entries(axes)) {
    const rule = AXIS_RULES[k as keyof SweepRun];
    check(rule !== undefined, () => `${path}: unknown axis "${k}" (${Object.keys(AXIS_RULES).join(', ')})`);
    check(Array.isArray(v) && v.length > 0, `${path}: axis "${k}" must be a non-empty list`);
    const bad = (v as unknown[]).find((x) => !rule[0](x));
    check(bad === undefined, () => `${path}: axis "${k}": ${JSON.stringify(bad)} is not ${rule[1]}`);
  }
  return { name: raw.name, data: raw.data, ...(raw.dataDir === undefined ? {} : { dataDir: raw.dataDir }), axes };
}

/** The sweep's runs in a fixed order: the product of the axes, the model varying slowest. */
export function sweepRuns(grid: SweepGrid): SweepRun[] {
  const keys = Object.keys(AXIS_RULES) as (keyof SweepRun)[];
  let runs: SweepRun[] = [{} as SweepRun];
  for (const key of keys) runs = runs.flatMap((r) => (grid.axes[key] as unknown[]).map((v) => ({ ...r, [key]: v })));
  return runs;
}

/** The run's id, stable across runs and key orders: `sweep-NAME-` and 12 hex digits of a hash. */
export function sweepRunId(grid: Pick<SweepGrid, 'name' | 'data'>, run: SweepRun): string {
  const key = JSON.stringify([grid.name, grid.data, ...(Object.keys(AXIS_RULES) as (keyof SweepRun)[]).map((k) => run[k])]);
  return `sweep-${grid.name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** A data set name stays a name; a path is read under `root`. */
export const underRoot = (ref: string, root: string): string => (DATASET_NAMES as readonly string[]).includes(ref) ? ref : join(root, ref);

/**
 * Trains one run of the sweep and commits it to `store` as a `train` run tagged `sweep/NAME`, with
 * the data and model paths read under `root` (the current folder locally, a worker's --data-root).
 */
export function trainSweepRun(grid: Omit<SweepGrid, 'axes'>, run: SweepRun, store: RunStore, root = '.'): void {
  const data = { name: underRoot(grid.data, root), seed: run.seed, trainSize: run.trainSize ?? undefined, labelNoise: run.labelNoise,
    dir: grid.dataDir && join(root, grid.dataDir) };
  const loaded = isModelPath(run.model) ? loadModel(join(root, run.model)).model : undefined;
  const splits = loadData(data);
  try {
    const r = recordRun(store, {
      id: sweepRunId(grid, run),
      spec: run.model,
      model: loaded,
      data: describeData({ ...data, name: grid.data }, splits.train.y.size(0)),
      splits,
      options: { epochs: run.epochs, batchSize: run.batchSize, lr: run.lr, optimizer: run.optimizer, weightDecay: run.weightDecay, seed: run.seed },
      kind: 'train',
      tag: `sweep/${grid.name}`,
      hparams: { trainSize: run.trainSize, labelNoise: run.labelNoise, data: grid.data, sweep: grid.name, ...(loaded ? { from: run.model } : {}) },
    });
    r.model.dispose();
  } finally {
    disposeDataset(splits.train);
    disposeDataset(splits.test);
  }
}

/** Trains every missing run of the sweep here; returns all its runs, in order. Every spec is checked before any training. */
export function runSweep(grid: SweepGrid, o: { store: RunStore; progress?: boolean; log?: (m: string) => void }): RunRecord[] {
  const runs = sweepRuns(grid);
  const todo = runs.filter((r) => !o.store.hasRun(sweepRunId(grid, r)));
  o.log?.(`sweep ${grid.name}: ${runs.length} runs, ${runs.length - todo.length} already done`);
  for (const spec of new Set(todo.map((r) => r.model).filter((m) => !isModelPath(m)))) buildModel(spec).dispose();
  const bar = o.progress && todo.length ? progress({ total: todo.length, label: `sweep ${grid.name}` }) : undefined;
  try {
    for (const run of todo) {
      trainSweepRun(grid, run, o.store);
      bar?.tick(1, { run: sweepRunId(grid, run) });
    }
  } finally {
    bar?.done();
  }
  return runs.map((r) => o.store.getRun(sweepRunId(grid, r))!.run);
}
