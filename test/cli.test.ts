// The command line end to end: every kind of bad input gives exit code 2 and one line on stderr;
// a train → predict → eval → runs round trip works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeNpy, readNpy } from '../src/data/npy.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-cli-'));
const runs = join(dir, 'runs');

const { cli, rejects } = cliRunner([], { DLTHEORY_RUNS: runs });

const f32 = (shape: number[], fill: (i: number) => number) => ({
  dtype: 'float32' as const,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('usage errors exit 2 with one line', () => {
  rejects([], /usage|COMMAND/i);
  rejects(['frobnicate'], /unknown command 'frobnicate'/);
  rejects(['train', '--model', 'mlp:784-10', '--data', 'mnist', '--bogus'], /bogus/);
  rejects(['train', '--model', 'mlp:784-10', '--data', 'mnist', '--epochs', 'x'], /--epochs must be an integer/);
  rejects(['train', '--model', 'mlp:784-10', '--data', 'mnist', '--label-noise', '2'], /--label-noise/);
  rejects(['train', '--model', 'mlp:784-10', '--data', 'mnist', '--optimizer', 'rmsprop'], /--optimizer must be one of/);
  rejects(['train', '--data', 'mnist'], /--model is required/);
  rejects(['train', '--model', 'mlp:784-x-10', '--data', 'mnist'], /model spec 'mlp:784-x-10'/);
  rejects(['train', '--model', 'transformer:1', '--data', 'mnist'], /unknown kind 'transformer'/);
  rejects(['train', '--model', 'mlp:784-10', '--data', join(dir, 'nowhere')], /nowhere/);
  rejects(['reproduce', 'no-such-claim'], /unknown claim or group: no-such-claim/);
  rejects(['reproduce', '--quick', '--full'], /not both/);
  // Reading commands leave no empty store behind a mistyped folder.
  rejects(['runs', 'ls', '--runs', join(dir, 'no-store')], /no-store: no run store here/);
  rejects(['gap', 'evaluate', '--runs', join(dir, 'no-store')], /no-store: no run store here/);
  rejects(['gap', 'fit', '--runs', join(dir, 'no-store')], /no-store: no run store here/);
  assert.equal(existsSync(join(dir, 'no-store')), false);
  rejects(['runs', 'frob'], /expected 'ls' or 'show'/);
});

test('malformed data files exit 2 naming the file', () => {
  const idx = join(dir, 'idx');
  mkdirSync(idx);
  // An IDX image file whose header promises more bytes than it holds.
  const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]);
  writeFileSync(join(idx, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(100)])));
  writeFileSync(join(idx, 'train-labels-idx1-ubyte.gz'), gzipSync(Buffer.from([0, 0, 8, 1, 0, 0, 0, 10, ...Array(10).fill(1)])));
  writeFileSync(join(idx, 't10k-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(100)])));
  writeFileSync(join(idx, 't10k-labels-idx1-ubyte.gz'), gzipSync(Buffer.from([0, 0, 8, 1, 0, 0, 0, 10, ...Array(10).fill(1)])));
  rejects(['train', '--model', 'mlp:784-10', '--data', idx], /train-images-idx3-ubyte/);

  const cifar = join(dir, 'cifar');
  mkdirSync(cifar);
  for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'])
    writeFileSync(join(cifar, f), Buffer.alloc(3073 * 2 + 5));
  rejects(['train', '--model', 'cnn:3x32x32-10', '--data', cifar], /data_batch_1\.bin|test_batch\.bin/);

  const npy = join(dir, 'trunc.npy');
  writeNpy(npy, f32([4, 784], () => 0.5));
  writeFileSync(npy, readFileSync(npy).subarray(0, 200));
  rejects(['predict', '--model', join(dir, 'm.safetensors'), '--input', npy, '--out', join(dir, 'o.npy')], /trunc\.npy/);
});

test('train, predict, eval and runs work end to end; bad model files and shapes exit 2', () => {
  const model = join(dir, 'm.safetensors');
  const r = cli('train', '--model', 'mlp:784-32-10', '--data', 'mnist', '--train-size', '1000', '--epochs', '3', '--save', model, '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const final = lines.at(-1);
  for (const k of ['trainAccuracy', 'testAccuracy', 'trainLoss', 'testLoss', 'epochs', 'seconds']) assert.equal(typeof final[k], 'number', k);
  assert.equal(final.epochs, 3);
  assert.ok(final.testAccuracy > 0.5, `a 784-32-10 MLP on 1000 digits beats 50%: ${final.testAccuracy}`);

  const x = join(dir, 'x.npy');
  const out = join(dir, 'logits.npy');
  writeNpy(x, f32([3, 1, 28, 28], (i) => (i % 7) / 7));
  assert.equal(cli('predict', '--model', model, '--input', x, '--out', out).code, 0);
  const logits = readNpy(out);
  assert.deepEqual(logits.shape, [3, 10]);
  assert.ok(Array.from(logits.data as Float32Array).every(Number.isFinite));

  const ev = cli('eval', '--model', model, '--data', 'mnist', '--json');
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(JSON.parse(ev.stdout).accuracy, final.testAccuracy);

  const ls = cli('runs', 'ls', '--json');
  assert.equal(ls.code, 0);
  const listed = JSON.parse(ls.stdout) as { id: string }[];
  assert.ok(listed.some((run) => run.id === final.runId));
  assert.equal(cli('runs', 'show', final.runId).code, 0);
  rejects(['runs', 'show', 'no-such-run'], /no run 'no-such-run'/);

  const wrong = join(dir, 'wrong.npy');
  writeNpy(wrong, f32([2, 5], () => 1));
  rejects(['predict', '--model', model, '--input', wrong, '--out', out], /wrong\.npy: inputs of shape \[2,5\] do not fit model mlp:784-32-10/);
  const nan = join(dir, 'nan.npy');
  writeNpy(nan, f32([2, 784], (i) => (i === 3 ? NaN : 0)));
  rejects(['predict', '--model', model, '--input', nan, '--out', out], /nan\.npy: point 0, dimension 3 is NaN/);
  const notModel = join(dir, 'not.safetensors');
  writeFileSync(notModel, 'this is not a safetensors file at all');
  rejects(['predict', '--model', notModel, '--input', x, '--out', out], /not\.safetensors/);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, readFileSync(model).subarray(0, 300));
  rejects(['predict', '--model', cut, '--input', x, '--out', out], /cut\.safetensors/);
  rejects(['eval', '--model', model, '--data', 'mnist', '--split', 'valid'], /--split must be one of/);

  // train --model FILE continues from the file's weights: its first epoch starts where the saved run ended.
  rejects(['train', '--model', model, '--data', 'mnist', '--save', join(dir, 'm.onnx')], /--save .*m\.onnx: only a model loaded from ONNX/);
  const more = cli('train', '--model', model, '--data', 'mnist', '--train-size', '1000', '--epochs', '1', '--json');
  assert.equal(more.code, 0, more.stderr);
  const [first, ...rest] = more.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(first.trainLoss < lines[0].trainLoss, `fine-tuning starts trained: loss ${first.trainLoss}, from scratch ${lines[0].trainLoss}`);
  const { run } = JSON.parse(cli('runs', 'show', rest.at(-1).runId, '--json').stdout);
  assert.equal(run.spec, 'mlp:784-32-10');
  assert.equal(run.hparams.from, model);
});

test('what a new user tried: data that do not fit the model, a diverging run, no points, negative options, wrong output names', () => {
  rejects(['train', '--model', 'mlp:100-16-10', '--data', 'mnist', '--train-size', '100', '--epochs', '1'],
    /mnist.*: inputs \[.*\] do not fit model mlp:100-16-10/);
  rejects(['train', '--model', 'mlp:784-16-3', '--data', 'mnist', '--train-size', '100', '--epochs', '1'],
    /label of point \d+ is \d, outside the model's 3 classes/);
  const diverged = cli('train', '--model', 'mlp:784-16-10', '--data', 'mnist', '--train-size', '200', '--epochs', '1', '--lr', '1e30', '--optimizer', 'sgd');
  assert.equal(diverged.code, 1, diverged.stderr);
  assert.match(diverged.stderr, /training diverged: loss (NaN|-?Infinity) at epoch 1, step \d+/);

  const folder = join(dir, 'npyset');
  mkdirSync(folder);
  writeNpy(join(folder, 'X.npy'), f32([20, 784], (i) => (i % 11) / 11));
  writeNpy(join(folder, 'y.npy'), { dtype: 'float64', shape: [20], data: Float64Array.from({ length: 20 }, (_, i) => (i === 3 ? NaN : i % 2)) });
  rejects(['train', '--model', 'mlp:784-8-10', '--data', join(folder, 'X.npy')], /npyset\/y\.npy: label 3 is NaN/);

  const model = join(dir, 'm.safetensors');
  const none = join(dir, 'none.npy');
  writeNpy(none, f32([0, 784], () => 0));
  rejects(['predict', '--model', model, '--input', none, '--out', join(dir, 'o.npy')], /none\.npy: shape \[0,784\] holds no point/);
  rejects(['predict', '--model', model, '--input', join(dir, 'x.npy'), '--out', join(dir, 'o.csv')],
    /--out is written as \.npy, so its name must end in \.npy/);
  writeFileSync(join(dir, 'a.npz'), Buffer.from('PK\x03\x04 and the rest of a zip', 'latin1'));
  rejects(['gdv', '--input', join(dir, 'a.npz.npy'), '--labels', join(dir, 'y.npy')], /a\.npz\.npy: cannot read/);
  writeFileSync(join(dir, 'zip.npy'), Buffer.from('PK\x03\x04 and the rest of a zip', 'latin1'));
  rejects(['gdv', '--input', join(dir, 'zip.npy'), '--labels', join(dir, 'y.npy')], /zip\.npy: an \.npz archive \(np\.savez\)/);
  rejects(['gdv', '--input', join(dir, 'x.txt'), '--labels', join(dir, 'y.npy')], /x\.txt: give a \.npy file or a \.csv file/);
  rejects(['gdv', '--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--limit', '-1'], /--limit must be an integer ≥ 1, got '-1'/);
  rejects(['gdv', '--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--seed', '1e30'], /--seed must be an integer ≥ 0, got '1e30'/);
  rejects(['gdv', '--model', model, '--data', 'mnist', '--probes', ''], /--probes lists nothing/);
  rejects(['gdv', '--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--probes', 'input'], /--probes needs --model/);
  rejects(['train', '--model', 'mlp:784-10', '--data', 'mnist', '--runs', model], /m\.safetensors: cannot hold a run store/);

  const labels = join(dir, 'huge-labels.npy');
  writeNpy(labels, { dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 2n ** 53n + 1n, 1n]) });
  writeNpy(join(dir, 'three.npy'), f32([3, 2], (i) => i));
  rejects(['gdv', '--input', join(dir, 'three.npy'), '--labels', labels],
    /huge-labels\.npy: label 1 is 9007199254740993, beyond ±2\^53, too large for a label/);
  writeNpy(join(dir, 'nodims.npy'), f32([4, 0], () => 0));
  writeNpy(join(dir, 'four.npy'), { dtype: 'int64', shape: [4], data: BigInt64Array.from([0n, 0n, 1n, 1n]) });
  rejects(['gdv', '--input', join(dir, 'nodims.npy'), '--labels', join(dir, 'four.npy')], /no dimension; GDV needs at least one/);
});
