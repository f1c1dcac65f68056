import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../src/errors.js';
import { decodeIdx, readIdx } from '../src/data/idx.js';
import { CIFAR_PIXELS, decodeCifarRecords, readCifar } from '../src/data/cifar.js';
import { Rng } from '../src/data/rng.js';
import type { RawTensor } from '../src/io/raw.js';
import { roundOff } from './round-off.js';

// Modules that create tensors are imported lazily, so the format tests run even where the native
// addon is not built.
const engine = () => import('../src/engine/index.js');
const datasets = () => import('../src/data/dataset.js');
const sources = () => import('../src/data/sources.js');
const synthetic = () => import('../src/data/synthetic.js');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dltheory-data-'));
}

/** Asserts that `fn` throws a one-line InputError whose message names `source` and matches `problem`. */
function rejects(fn: () => unknown, source: string, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.ok(err.message.includes(source), `message does not name ${source}: ${err.message}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    return true;
  });
}

/** An IDX file of element type `type` with big-endian `dims`, followed by `data`. */
function idxBytes(type: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

test('IDX reads plain and gzipped files', () => {
  const dir = tempDir();
  try {
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const bytes = idxBytes(0x08, [2, 2, 3], pixels);
    writeFileSync(join(dir, 'plain-idx3-ubyte'), bytes);
    writeFileSync(join(dir, 'zipped-idx3-ubyte.gz'), gzipSync(bytes));
    for (const name of ['plain-idx3-ubyte', 'zipped-idx3-ubyte.gz']) {
      assert.deepEqual(readIdx(join(dir, name)), { shape: [2, 2, 3], data: pixels });
    }
    rejects(() => readIdx(join(dir, 'missing.gz')), 'missing.gz', /no such file/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('IDX decodes every element type big-endian', () => {
  const be = (size: number, write: (b: Buffer, v: number, at: number) => void, values: number[]) => {
    const b = Buffer.alloc(size * values.length);
    values.forEach((v, i) => write(b, v, size * i));
    return b;
  };
  const cases: [number, Uint8Array, unknown][] = [
    [0x09, Buffer.from([0xff, 0x05]), Int8Array.from([-1, 5])],
    [0x0b, be(2, (b, v, at) => b.writeInt16BE(v, at), [-300, 7]), Int16Array.from([-300, 7])],
    [0x0c, be(4, (b, v, at) => b.writeInt32BE(v, at), [-70000, 2 ** 31 - 1]), Int32Array.from([-70000, 2 ** 31 - 1])],
    [0x0d, be(4, (b, v, at) => b.writeFloatBE(v, at), [1.5, -0.25]), Float32Array.from([1.5, -0.25])],
    [0x0e, be(8, (b, v, at) => b.writeDoubleBE(v, at), [Math.PI, -1e300]), Float64Array.from([Math.PI, -1e300])],
  ];
  for (const [type, data, expected] of cases) assert.deepEqual(decodeIdx(idxBytes(type, [2], data), 't'), { shape: [2], data: expected });
});

test('IDX rejects corrupt files with an InputError naming them', () => {
  const good = idxBytes(0x08, [3, 2], new Uint8Array(6));
  const zipped = gzipSync(good);
  const cases: [string, Uint8Array, RegExp][] = [
    ['cut.gz', zipped.subarray(0, zipped.length - 6), /corrupt or truncated gzip data/],
    ['garbled.gz', Buffer.concat([zipped.subarray(0, 10), Buffer.alloc(20, 0xff)]), /corrupt or truncated gzip data/],
    ['magic', Buffer.from('P5\n28 28\n255\n'), /not an IDX file \(magic 50 35 0a 32/],
    ['type', idxBytes(0x07, [1], new Uint8Array(1)), /not an IDX file/],
    ['nodims', idxBytes(0x08, [], new Uint8Array(0)), /not an IDX file/],
    ['tiny', Buffer.from([0, 0]), /not an IDX file/],
    ['header', good.subarray(0, 8), /ends inside its 2 dimensions/],
    ['short', good.subarray(0, good.length - 1), /IDX data is 5 bytes but dimensions \[3,2\] of u8 need 6/],
    ['long', Buffer.concat([good, Buffer.from([1])]), /IDX data is 7 bytes/],
    ['short.gz', gzipSync(good.subarray(0, good.length - 2)), /IDX data is 4 bytes/],
  ];
  for (const [source, buf, problem] of cases) rejects(() => decodeIdx(buf, source), source, problem);
});

/** CIFAR records with the given labels (each a list of label bytes); image i is filled with byte i+1, first pixel = 200 + i. */
function cifarRecords(labels: number[][]): Buffer {
  return Buffer.concat(
    labels.map((label, i) => {
      const image = Buffer.alloc(CIFAR_PIXELS, i + 1);
      image[0] = 200 + i;
      return Buffer.concat([Buffer.from(label), image]);
    }),
  );
}

test('CIFAR-10 records and folders parse', () => {
  const parsed = decodeCifarRecords(cifarRecords([[3], [9]]), 'b', 1, 10);
  assert.equal(parsed.n, 2);
  assert.deepEqual(parsed.labels, Uint8Array.from([3, 9]));
  assert.equal(parsed.images.length, 2 * CIFAR_PIXELS);
  assert.deepEqual([parsed.images[0], parsed.images[1], parsed.images[CIFAR_PIXELS], parsed.images[CIFAR_PIXELS + 1]], [200, 1, 201, 2]);

  const root = tempDir();
  try {
    const folder = join(root, 'cifar-10-batches-bin');
    mkdirSync(folder);
    for (let b = 1; b <= 5; b++) writeFileSync(join(folder, `data_batch_${b}.bin`), cifarRecords([[b], [b + 1]]));
    writeFileSync(join(folder, 'test_batch.bin'), cifarRecords([[0]]));
    const data = readCifar(root);
    assert.equal(data.kind, 'cifar10');
    assert.equal(data.folder, folder);
    assert.equal(data.classes[0], 'airplane');
    assert.deepEqual(data.train.labels, Uint8Array.from([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]));
    assert.equal(data.train.images[2 * CIFAR_PIXELS], 200);
    assert.equal(data.test.n, 1);

    writeFileSync(join(folder, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    assert.deepEqual(readCifar(folder).classes, 'abcdefghij'.split(''));
    writeFileSync(join(folder, 'batches.meta.txt'), 'a\nb\n');
    rejects(() => readCifar(folder), 'batches.meta.txt', /2 class names, expected 10/);
    rmSync(join(folder, 'batches.meta.txt'));

    writeFileSync(join(folder, 'data_batch_3.bin'), Buffer.concat([cifarRecords([[1]]), Buffer.alloc(5)]));
    rejects(() => readCifar(root), 'data_batch_3.bin', /3078 bytes is not a whole number of 3073-byte CIFAR records/);
    writeFileSync(join(folder, 'data_batch_3.bin'), cifarRecords([[10]]));
    rejects(() => readCifar(root), 'data_batch_3.bin', /record 0 has label 10, not below 10/);
    rmSync(join(folder, 'data_batch_3.bin'));
    rejects(() => readCifar(root), 'data_batch_3.bin', /no such file/);
    rejects(() => readCifar(join(root, 'nothing')), 'nothing', /no CIFAR binary files/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('CIFAR-100 keeps the fine label', () => {
  const root = tempDir();
  try {
    const folder = join(root, 'cifar-100-binary');
    mkdirSync(folder);
    writeFileSync(join(folder, 'train.bin'), cifarRecords([[19, 73], [4, 99]]));
    writeFileSync(join(folder, 'test.bin'), cifarRecords([[0, 5]]));
    const data = readCifar(root);
    assert.equal(data.kind, 'cifar100');
    assert.deepEqual(data.train.labels, Uint8Array.from([73, 99]));
    assert.equal(data.classes.length, 100);
    assert.equal(data.classes[42], '42');
    rejects(() => decodeCifarRecords(cifarRecords([[1]]), 'one.bin', 2, 100), 'one.bin', /3073 bytes is not a whole number of 3074-byte/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('the JS generator is deterministic and well distributed', () => {
  const draw = (seed: number) => Array.from({ length: 5 }, () => new Rng(seed).nextUint32());
  assert.deepEqual(draw(42), draw(42));
  const streams = [0, 1, -1, 2 ** 32, 2 ** 52].map((seed) => new Rng(seed).nextUint32());
  assert.equal(new Set(streams).size, streams.length);
  const rng = new Rng(7);
  const n = 200_000;
  let sum = 0;
  let squares = 0;
  const counts = new Array(3).fill(0);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    squares += z * z;
    counts[rng.int(3)]++;
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
  }
  assert.ok(Math.abs(sum / n) < 0.01, `normal mean ${sum / n}`);
  assert.ok(Math.abs(squares / n - 1) < 0.02, `normal variance ${squares / n}`);
  for (const c of counts) assert.ok(Math.abs(c / n - 1 / 3) < 0.01, `int(3) frequencies ${counts}`);
  const p = new Rng(1).permutation(1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, new Rng(1).permutation(1000));
  assert.throws(() => new Rng(1.5), InputError);
});

/** A dataset of `n` examples [n, 2, 3], example i filled with i + channel/10, label i mod classes. */
function rawToy(n: number, classes: number): [RawTensor, RawTensor] {
  const x = Float32Array.from({ length: n * 6 }, (_, k) => Math.floor(k / 6) + (Math.floor(k / 3) % 2) / 10);
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % classes));
  return [
    { dtype: 'float32', shape: [n, 2, 3], data: x },
    { dtype: 'int64', shape: [n], data: y },
  ];
}

test('datasetFromRaw builds tensors and rejects bad inputs', async () => {
  const { datasetFromRaw, disposeDataset } = await datasets();
  const [x, y] = rawToy(4, 2);
  const ds = datasetFromRaw('toy', x, y, ['a', 'b']);
  assert.deepEqual(ds.x.shape, [4, 2, 3]);
  assert.equal(ds.x.dtype, 'float32');
  assert.equal(ds.y.dtype, 'int64');
  assert.deepEqual(ds.y.toArray(), y.data);
  disposeDataset(ds);
  const f64 = (values: number[]): RawTensor => ({ dtype: 'float64', shape: [values.length], data: Float64Array.from(values) });
  const nan: RawTensor = { ...x, data: Float32Array.from(x.data as Float32Array, (v, i) => (i === 5 ? NaN : v)) };
  const inf: RawTensor = { dtype: 'float64', shape: [4, 1], data: Float64Array.from([1, 2, 1e300, 3]) };
  const cases: [RawTensor, RawTensor, string[], RegExp][] = [
    [x, f64([0, 1, 0]), ['a', 'b'], /3 labels for 4 inputs/],
    [x, { ...y, shape: [4, 1] }, ['a', 'b'], /not \[n\]/],
    [x, f64([0, 0, 0, 0]), ['a', 'b'], /only 1 class occurs/],
    [x, f64([0, 1, 0, 1]), ['a'], /at least 2/],
    [x, f64([0, 1, 2, 1]), ['a', 'b'], /label 2 is 2, not an integer in \[0, 2\)/],
    [x, f64([0, 1, 0.5, 1]), ['a', 'b'], /label 2 is 0.5/],
    [x, f64([0, -1, 0, 1]), ['a', 'b'], /label 1 is -1/],
    [nan, y, ['a', 'b'], /input element 5 is NaN/],
    [inf, y, ['a', 'b'], /input element 2 is 1e\+300, beyond float32 range/],
    [{ ...x, data: new Float32Array(3) }, y, ['a', 'b'], /do not fill shape/],
  ];
  for (const [xs, ys, classes, problem] of cases) rejects(() => datasetFromRaw('toy', xs, ys, classes), 'toy', problem);
});

test('transforms are pure, seeded and deterministic', async () => {
  const { liveTensors } = await engine();
  const { datasetFromRaw, disposeDataset, flatten, split, standardize, subset } = await datasets();
  const before = liveTensors();
  const [x, y] = rawToy(100, 4);
  const ds = datasetFromRaw('toy', x, y, ['a', 'b', 'c', 'd']);
  const rows = (d: { x: { toArray(): unknown } }) => Array.from(d.x.toArray() as Float32Array).filter((_, k) => k % 6 === 0);

  const a = subset(ds, 10, 3);
  const b = subset(ds, 10, 3);
  const c = subset(ds, 10, 4);
  assert.deepEqual(rows(a), rows(b));
  assert.notDeepEqual(rows(a), rows(c));
  assert.equal(new Set(rows(a)).size, 10);
  assert.deepEqual(Array.from(a.y.toArray() as BigInt64Array, Number), rows(a).map((i) => i % 4));

  const { train, test } = split(ds, 30, 1);
  assert.deepEqual([train.x.shape[0], test.x.shape[0]], [70, 30]);
  assert.deepEqual([...rows(train), ...rows(test)].sort((p, q) => p - q), Array.from({ length: 100 }, (_, i) => i));
  const again = split(ds, 30, 1);
  assert.deepEqual(rows(again.test), rows(test));

  const flat = flatten(ds);
  assert.deepEqual(flat.x.shape, [100, 6]);
  assert.deepEqual(flat.x.toArray(), ds.x.toArray());

  const [sTrain, sTest] = standardize(train, test);
  const channelStats = (t: Float32Array, c: number) => {
    const v = t.filter((_, k) => Math.floor(k / 3) % 2 === c);
    const mean = v.reduce((p, q) => p + q, 0) / v.length;
    return [mean, Math.sqrt(v.reduce((p, q) => p + (q - mean) ** 2, 0) / v.length)];
  };
  for (const c of [0, 1]) {
    const [mean, std] = channelStats(sTrain.x.toArray() as Float32Array, c);
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(std - 1) < 1e-5, `channel ${c}: mean ${mean}, std ${std}`);
  }
  // The test set is scaled with the training statistics, so its values follow the same affine map.
  const [trainMean, trainStd] = channelStats(train.x.toArray() as Float32Array, 0);
  assert.ok(Math.abs((sTest.x.toArray() as Float32Array)[0] - ((test.x.toArray() as Float32Array)[0] - trainMean) / trainStd) < 1e-4);
  assert.throws(() => standardize(train, flat), InputError);

  for (const d of [a, b, c, train, test, again.train, again.test, flat, sTrain, sTest]) disposeDataset(d);
  // The input is untouched and still alive after all of the above.
  assert.deepEqual(ds.x.toArray(), x.data);
  disposeDataset(ds);
  assert.equal(liveTensors(), before);
  assert.throws(() => subset(datasetFromRaw('toy', x, y, ['a', 'b', 'c', 'd']), 101, 0), InputError);
});

test('label noise replaces about the right fraction of labels', async () => {
  const { datasetFromRaw, disposeDataset, labelNoise } = await datasets();
  const n = 20_000;
  const classes = 10;
  const x: RawTensor = { dtype: 'float32', shape: [n, 1], data: new Float32Array(n) };
  const y: RawTensor = { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % classes)) };
  const ds = datasetFromRaw('noise', x, y, Array.from({ length: classes }, (_, k) => String(k)));
  for (const fraction of [0, 0.2, 1]) {
    const noisy = labelNoise(ds, fraction, 5);
    const labels = noisy.y.toArray() as BigInt64Array;
    const changed = labels.filter((v, i) => v !== (y.data as BigInt64Array)[i]).length / n;
    // A replaced label is uniform over all classes, so it keeps its old value 1/classes of the time.
    const expected = fraction * (1 - 1 / classes);
    assert.ok(Math.abs(changed - expected) < 0.01, `fraction ${fraction}: ${changed} changed, expected about ${expected}`);
    assert.deepEqual(labels, labelNoise(ds, fraction, 5).y.toArray());
    assert.ok(labels.every((v) => v >= 0n && v < BigInt(classes)));
    disposeDataset(noisy);
  }
  assert.throws(() => labelNoise(ds, 1.5, 0), InputError);
  disposeDataset(ds);
});

test('MNIST loads 10,000 digits split 8,000/2,000', async () => {
  const { loadMnist } = await sources();
  const { disposeDataset } = await datasets();
  const { train, test } = loadMnist({ seed: 0 });
  assert.deepEqual(train.x.shape, [8000, 1, 28, 28]);
  assert.deepEqual(test.x.shape, [2000, 1, 28, 28]);
  assert.deepEqual(train.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const ds of [train, test]) {
    const labels = new Set(Array.from(ds.y.toArray() as BigInt64Array, Number));
    assert.equal(labels.size, 10);
    const x = ds.x.toArray() as Float32Array;
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    assert.ok(x.some((v) => v > 0.99));
  }
  const again = loadMnist({ seed: 0 });
  assert.deepEqual(again.test.y.toArray(), test.y.toArray());
  const other = loadMnist({ seed: 1, testSize: 500 });
  assert.equal(other.test.x.shape[0], 500);
  for (const ds of [train, test, again.train, again.test, other.train, other.test]) disposeDataset(ds);
});

test('Fashion-MNIST loads from the Debian package', async (t) => {
  const { FASHION_MNIST_DIR, loadFashionMnist, loadNamed } = await sources();
  if (!existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))) {
    t.skip(`${FASHION_MNIST_DIR} is missing: apt-get install dataset-fashion-mnist`);
    return;
  }
  const { disposeDataset } = await datasets();
  const { train, test } = loadFashionMnist();
  assert.deepEqual(train.x.shape, [60000, 1, 28, 28]);
  assert.deepEqual(test.x.shape, [10000, 1, 28, 28]);
  assert.equal(train.classes[9], 'Ankle boot');
  const x = test.x.toArray() as Float32Array;
  assert.ok(x.every((v) => v >= 0 && v <= 1) && x.some((v) => v === 1));
  assert.equal(new Set(Array.from(test.y.toArray() as BigInt64Array, Number)).size, 10);
  const named = loadNamed('fashion-mnist');
  assert.deepEqual(named.test.y.toArray(), test.y.toArray());
  for (const ds of [train, test, named.train, named.test]) disposeDataset(ds);
});

test('loadNamed resolves paths and explains what is missing', async () => {
  const { loadNamed, loadFashionMnist } = await sources();
  const { disposeDataset } = await datasets();
  const { writeNpy } = await import('../src/data/npy.js');
  const root = tempDir();
  try {
    const [x, y] = rawToy(10, 2);
    writeNpy(join(root, 'x.npy'), x);
    writeNpy(join(root, 'y.npy'), y);
    writeFileSync(join(root, 'classes.txt'), 'even\nodd\n');
    const npy = loadNamed(root, { testSize: 3, seed: 2 });
    assert.deepEqual([npy.train.x.shape, npy.test.x.shape], [[7, 2, 3], [3, 2, 3]]);
    assert.deepEqual(npy.train.classes, ['even', 'odd']);
    const byFile = loadNamed(join(root, 'x.npy'));
    assert.equal(byFile.test.x.shape[0], 2);

    const idx = join(root, 'idx');
    mkdirSync(idx);
    for (const [split, n] of [['train', 4], ['t10k', 2]] as const) {
      writeFileSync(join(idx, `${split}-images-idx3-ubyte`), idxBytes(0x08, [n, 2, 2], Uint8Array.from({ length: 4 * n }, (_, i) => i * 17)));
      writeFileSync(join(idx, `${split}-labels-idx1-ubyte.gz`), gzipSync(idxBytes(0x08, [n], Uint8Array.from({ length: n }, (_, i) => i % 3))));
    }
    const fromIdx = loadNamed(idx);
    assert.deepEqual(fromIdx.train.x.shape, [4, 1, 2, 2]);
    assert.deepEqual(fromIdx.train.classes, ['0', '1', '2']);
    assert.equal((fromIdx.train.x.toArray() as Float32Array)[15], 1);
    writeFileSync(join(idx, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxBytes(0x08, [3], new Uint8Array(3))));
    rejects(() => loadNamed(idx), 't10k-labels-idx1-ubyte.gz', /labels \[3\] do not match images \[2,2,2\]/);

    const cifar = join(root, 'c10');
    mkdirSync(cifar);
    for (let b = 1; b <= 5; b++) writeFileSync(join(cifar, `data_batch_${b}.bin`), cifarRecords([[0], [1]]));
    writeFileSync(join(cifar, 'test_batch.bin'), cifarRecords([[1], [2]]));
    const c10 = loadNamed('cifar10', { dir: cifar });
    assert.deepEqual(c10.train.x.shape, [10, 3, 32, 32]);
    assert.equal(c10.train.name, 'cifar10');
    assert.equal((c10.train.x.toArray() as Float32Array)[0], Math.fround(200 / 255));
    const byPath = loadNamed(cifar);
    assert.deepEqual(byPath.test.y.toArray(), BigInt64Array.from([1n, 2n]));
    rejects(() => loadNamed('cifar100', { dir: cifar }), cifar, /holds cifar10, not cifar100/);

    for (const s of [npy, byFile, fromIdx, c10, byPath]) {
      disposeDataset(s.train);
      disposeDataset(s.test);
    }
    rejects(() => loadNamed('imagenet'), 'imagenet', /unknown dataset "imagenet": not one of mnist, fashion-mnist, cifar10, cifar100/);
    rejects(() => loadNamed('cifar10'), 'cifar10', /download its binary version/);
    rejects(() => loadFashionMnist(join(root, 'nowhere')), 'nowhere', /install the Debian package dataset-fashion-mnist/);
    rejects(() => loadNamed(join(root, 'classes.txt')), 'classes.txt', /not a dataset/);
    rmSync(join(root, 'y.npy'));
    rejects(() => loadNamed(join(root, 'x.npy')), 'x.npy', /no labels/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('synthetic data is seeded and has the stated geometry', async () => {
  const { gaussianMixture, sphereRegression } = await synthetic();
  const { disposeDataset } = await datasets();
  const a = gaussianMixture({ n: 4000, dim: 20, classes: 4, separation: 6, seed: 3 });
  const b = gaussianMixture({ n: 4000, dim: 20, classes: 4, separation: 6, seed: 3 });
  assert.deepEqual(a.x.toArray(), b.x.toArray());
  assert.deepEqual(a.x.shape, [4000, 20]);
  // Class means estimated from 1,000 points each should be about `separation` apart.
  const x = a.x.toArray() as Float32Array;
  const means = [0, 1, 2, 3].map((k) => {
    const m = new Float64Array(20);
    for (let i = k; i < 4000; i += 4) for (let j = 0; j < 20; j++) m[j] += x[i * 20 + j] / 1000;
    return m;
  });
  for (const [p, q] of [[0, 1], [1, 3], [2, 3]]) {
    const d = Math.sqrt(means[p].reduce((s, v, j) => s + (v - means[q][j]) ** 2, 0));
    assert.ok(Math.abs(d - 6) < 0.3, `means ${p} and ${q} are ${d} apart`);
  }
  assert.throws(() => gaussianMixture({ n: 10, dim: 2, classes: 3, separation: 1, seed: 0 }), InputError);

  const s = sphereRegression({ n: 500, d: 7, seed: 9 });
  const points = s.x.toArray() as Float32Array;
  for (let i = 0; i < 500; i++) {
    const norm = Math.hypot(...points.subarray(i * 7, (i + 1) * 7));
    // Unit vectors stored in float32: each coordinate rounded by at most ε/2.
    assert.ok(Math.abs(norm - 1) <= roundOff('float32', 4), `point ${i}: norm ${norm}`);
  }
  assert.deepEqual(s.y.shape, [500]);
  assert.deepEqual(s.y.toArray(), sphereRegression({ n: 500, d: 7, seed: 9 }).y.toArray());
  for (const d of [a, b]) disposeDataset(d);
  s.x.dispose();
  s.y.dispose();
});
