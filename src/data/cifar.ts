import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readInputFile } from '../io/files.js';

/**
 * The binary versions of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html):
 * fixed-size records of label byte(s) then 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
 * each 32×32 row-major).
 */

/** Pixel bytes per CIFAR image: 3 channels of 32×32. */
export const CIFAR_PIXELS = 3 * 32 * 32;

const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const LAYOUT = {
  cifar10: {
    subfolder: 'cifar-10-batches-bin',
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: 'test_batch.bin',
    labelBytes: 1,
    classes: 10,
    names: 'batches.meta.txt',
  },
  cifar100: { subfolder: 'cifar-100-binary', train: ['train.bin'], test: 'test.bin', labelBytes: 2, classes: 100, names: 'fine_label_names.txt' },
} as const;

/** Which CIFAR a folder holds. */
export type CifarKind = keyof typeof LAYOUT;

/** Images and labels of one CIFAR split: `n` images of CIFAR_PIXELS bytes each, in file order. */
export interface CifarSplit {
  n: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/** A whole CIFAR dataset read from `folder`. */
export interface CifarData {
  kind: CifarKind;
  folder: string;
  classes: string[];
  train: CifarSplit;
  test: CifarSplit;
}

/**
 * Parses CIFAR binary records with `labelBytes` label bytes each (1 for CIFAR-10; 2 for CIFAR-100,
 * coarse then fine, of which the fine label is kept). A size that is not a whole number of records,
 * or a label not below `classes`, throws an InputError whose message starts with `source`.
 */
export function decodeCifarRecords(buf: Uint8Array, source: string, labelBytes: number, classes: number): CifarSplit {
  const record = labelBytes + CIFAR_PIXELS;
  if (buf.length === 0 || buf.length % record !== 0) {
    throw new InputError(`${source}: ${buf.length} bytes is not a whole number of ${record}-byte CIFAR records`);
  }
  const n = buf.length / record;
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    labels[i] = buf[at + labelBytes - 1];
    if (labels[i] >= classes) throw new InputError(`${source}: record ${i} has label ${labels[i]}, not below ${classes}`);
    images.set(buf.subarray(at + labelBytes, at + record), i * CIFAR_PIXELS);
  }
  return { n, images, labels };
}

function concat(splits: CifarSplit[]): CifarSplit {
  if (splits.length === 1) return splits[0];
  const n = splits.reduce((a, s) => a + s.n, 0);
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const s of splits) {
    images.set(s.images, at * CIFAR_PIXELS);
    labels.set(s.labels, at);
    at += s.n;
  }
  return { n, images, labels };
}

/** Finds the folder holding CIFAR binary files: `path` itself or its CIFAR-10/CIFAR-100 subfolder; undefined if none. */
export function findCifar(path: string): { kind: CifarKind; folder: string } | undefined {
  for (const kind of ['cifar10', 'cifar100'] as const) {
    const layout = LAYOUT[kind];
    for (const folder of [path, join(path, layout.subfolder)]) {
      if (existsSync(join(folder, layout.train[0]))) return { kind, folder };
    }
  }
  return undefined;
}

/**
 * Reads CIFAR-10 or CIFAR-100 from `path` (the folder holding the .bin files, or the folder above
 * its cifar-10-batches-bin / cifar-100-binary subfolder). Class names come from batches.meta.txt or
 * fine_label_names.txt when present, else the standard CIFAR-10 names or the numbers 0..99.
 * Missing or malformed files throw an InputError naming them.
 */
export function readCifar(path: string): CifarData {
  const found = findCifar(path);
  if (found === undefined) {
    throw new InputError(
      `${path}: no CIFAR binary files (looked for data_batch_1.bin and train.bin here and in cifar-10-batches-bin/ and cifar-100-binary/; ` +
        'the binary version is at https://www.cs.toronto.edu/~kriz/cifar.html)',
    );
  }
  const { kind, folder } = found;
  const layout = LAYOUT[kind];
  const read = (file: string) => decodeCifarRecords(readInputFile(join(folder, file)), join(folder, file), layout.labelBytes, layout.classes);
  const namesPath = join(folder, layout.names);
  let classes: string[];
  if (existsSync(namesPath)) {
    classes = readInputFile(namesPath).toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (classes.length !== layout.classes) throw new InputError(`${namesPath}: ${classes.length} class names, expected ${layout.classes}`);
  } else {
    classes = kind === 'cifar10' ? [...CIFAR10_CLASSES] : Array.from({ length: layout.classes }, (_, i) => String(i));
  }
  return { kind, folder, classes, train: concat(layout.train.map(read)), test: read(layout.test) };
}
