import { tensor, type Tensor } from '../engine/index.js';
import { check } from '../errors.js';
import { checkRaw, numel, type RawTensor } from '../io/raw.js';
import { Rng } from './rng.js';

/**
 * A labelled classification dataset. Transforms below work on copies of the data in JS (datasets
 * here are small) and return new Datasets that own new tensors: they never dispose or alias their
 * input, so the caller disposes each Dataset it holds exactly once (disposeDataset, or `using`).
 */
export interface Dataset extends Disposable {
  name: string;
  /** float32, [n, ...feature shape] */
  x: Tensor;
  /** int64, [n], each in [0, classes.length) */
  y: Tensor;
  classes: string[];
}

/** Disposes both tensors of `ds`. */
export function disposeDataset(ds: Dataset): void {
  ds.x.dispose();
  ds.y.dispose();
}

function inputs(ds: Dataset): Float32Array {
  const x = ds.x.toArray();
  if (!(x instanceof Float32Array)) throw new Error(`dataset ${ds.name}: inputs are ${ds.x.dtype}, not float32`);
  return x;
}

function labels(ds: Dataset): BigInt64Array {
  const y = ds.y.toArray();
  if (!(y instanceof BigInt64Array)) throw new Error(`dataset ${ds.name}: labels are ${ds.y.dtype}, not int64`);
  return y;
}

function make(name: string, x: Float32Array, featureShape: number[], y: BigInt64Array, classes: string[]): Dataset {
  return {
    name,
    x: tensor(x, [y.length, ...featureShape], 'float32'),
    y: tensor(y, [y.length], 'int64'),
    classes: [...classes],
    [Symbol.dispose]() {
      disposeDataset(this);
    },
  };
}

/** The rows of `ds` at `rows`, in that order. */
function gather(ds: Dataset, rows: ArrayLike<number>): Dataset {
  const x = inputs(ds);
  const y = labels(ds);
  const featureShape = ds.x.shape.slice(1);
  const size = numel(featureShape);
  const outX = new Float32Array(rows.length * size);
  const outY = new BigInt64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    outX.set(x.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
    outY[i] = y[rows[i]];
  }
  return make(ds.name, outX, featureShape, outY, ds.classes);
}

/**
 * Builds a Dataset from raw inputs `xRaw` ([n, ...], any dtype, converted to float32) and labels
 * `yRaw` ([n], integer values of any dtype). Throws an InputError naming `name` (`labelsName` for the labels, default `name`) unless the label
 * count equals n, every label is an integer in [0, classes.length), at least two classes occur,
 * and every input is finite in float32.
 */
export function datasetFromRaw(name: string, xRaw: RawTensor, yRaw: RawTensor, classes: string[], labelsName = name): Dataset {
  checkRaw(xRaw, `${name} inputs`);
  checkRaw(yRaw, `${labelsName} labels`);
  check(xRaw.shape.length >= 1, `${name}: inputs are a scalar, not [n, ...]`);
  const n = xRaw.shape[0];
  check(yRaw.shape.length === 1, () => `${labelsName}: labels have shape [${yRaw.shape}], not [n]`);
  check(yRaw.shape[0] === n, () => `${labelsName}: ${yRaw.shape[0]} labels for ${n} inputs`);
  check(classes.length >= 2, () => `${name}: ${classes.length} class name(s); a classification needs at least 2`);
  const y = new BigInt64Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = Number(yRaw.data[i]);
    check(Number.isInteger(v) && v >= 0 && v < classes.length, () => `${labelsName}: label ${i} is ${yRaw.data[i]}, not an integer in [0, ${classes.length})`);
    y[i] = BigInt(v);
    seen.add(v);
  }
  check(seen.size >= 2,
    () => `${labelsName}: only ${seen.size} class${seen.size === 1 ? ' occurs' : 'es occur'} in the labels; a classification needs at least 2`);
  const x = new Float32Array(xRaw.data.length);
  let bad = -1;
  for (let i = 0; i < x.length; i++) {
    x[i] = Number(xRaw.data[i]);
    if (bad < 0 && !Number.isFinite(x[i])) bad = i;
  }
  check(bad < 0, () => `${name}: input element ${bad} is ${xRaw.data[bad]}${Number.isFinite(Number(xRaw.data[bad])) ? ', beyond float32 range' : ''}`);
  return make(name, x, xRaw.shape.slice(1), y, classes);
}

/**
 * Standardises `train` and each of `others` with statistics of `train` alone: per channel for
 * image-like inputs of rank >= 3 ([n, c, ...], the usual practice for images), else one mean and
 * standard deviation over all features ([n, d]; per-feature statistics would divide by zero on
 * constant pixels such as MNIST's borders). The standard deviation is the population one; a zero
 * standard deviation leaves that channel centred but unscaled. Returns the new datasets in order.
 */
export function standardize(train: Dataset, ...others: Dataset[]): Dataset[] {
  const featureShape = train.x.shape.slice(1);
  for (const ds of others) {
    check(ds.x.shape.slice(1).join() === featureShape.join(), () =>
      `cannot standardise ${ds.name} [${ds.x.shape}] with statistics of ${train.name} [${train.x.shape}]`);
  }
  const channels = featureShape.length >= 2 ? featureShape[0] : 1;
  const inner = numel(featureShape) / channels;
  const x = inputs(train);
  const count = x.length / channels;
  // Blocks of `inner` consecutive elements belong to channels 0, 1, ..., channels-1, 0, 1, ...
  const mean = new Float64Array(channels);
  for (let b = 0; b * inner < x.length; b++) for (let k = b * inner; k < (b + 1) * inner; k++) mean[b % channels] += x[k] / count;
  const variance = new Float64Array(channels);
  for (let b = 0; b * inner < x.length; b++)
    for (let k = b * inner; k < (b + 1) * inner; k++) variance[b % channels] += (x[k] - mean[b % channels]) ** 2 / count;
  const scale = variance.map((v) => (v > 0 ? 1 / Math.sqrt(v) : 1));
  return [train, ...others].map((ds) => {
    const out = ds === train ? x : inputs(ds);
    for (let b = 0; b * inner < out.length; b++) {
      const c = b % channels;
      for (let k = b * inner; k < (b + 1) * inner; k++) out[k] = (out[k] - mean[c]) * scale[c];
    }
    return make(ds.name, out, featureShape, labels(ds), ds.classes);
  });
}

/** The same examples with inputs flattened to [n, features]. */
export function flatten(ds: Dataset): Dataset {
  return make(ds.name, inputs(ds), [numel(ds.x.shape.slice(1))], labels(ds), ds.classes);
}

/** `n` examples of `ds` drawn without replacement by a permutation seeded with `seed`, in that random order. */
export function subset(ds: Dataset, n: number, seed: number): Dataset {
  const total = ds.x.shape[0];
  check(Number.isInteger(n) && n >= 1 && n <= total, () => `subset of ${ds.name}: size ${n} is not an integer in [1, ${total}]`);
  return gather(ds, new Rng(seed).permutation(total).subarray(0, n));
}

/**
 * Replaces the labels of round(fraction·n) examples, chosen by a permutation seeded with `seed`,
 * with labels drawn uniformly over all classes, as in Zhang et al. (2017): a drawn label may equal
 * the old one, so about fraction·(1 − 1/classes) of the labels actually change.
 */
export function labelNoise(ds: Dataset, fraction: number, seed: number): Dataset {
  check(fraction >= 0 && fraction <= 1, () => `label noise fraction ${fraction} is not in [0, 1]`);
  const y = labels(ds);
  const rng = new Rng(seed);
  const chosen = rng.permutation(y.length).subarray(0, Math.round(fraction * y.length));
  for (const i of chosen) y[i] = BigInt(rng.int(ds.classes.length));
  return make(ds.name, inputs(ds), ds.x.shape.slice(1), y, ds.classes);
}

/** Splits `ds` by a permutation seeded with `seed` into `nTest` test examples and the rest for training. */
export function split(ds: Dataset, nTest: number, seed: number): { train: Dataset; test: Dataset } {
  const total = ds.x.shape[0];
  check(Number.isInteger(nTest) && nTest >= 1 && nTest < total, () => `split of ${ds.name}: test size ${nTest} is not an integer in [1, ${total - 1}]`);
  const order = new Rng(seed).permutation(total);
  return { train: gather(ds, order.subarray(nTest)), test: gather(ds, order.subarray(0, nTest)) };
}
