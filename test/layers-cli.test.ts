// `dltheory layers` end to end: the summary rows of mlp, cnn and resnet specs and of a saved model —
// output shapes from the architectures' arithmetic (convolutions that keep the size, pools that
// halve it), parameter counts from the layers' own formulas (Linear in·out + out, Conv2d
// in·out·k² + out, BatchNorm 2·channels) and summing to Module.numParameters(); the input shape
// inferred or given; bad input exiting with code 2 and one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel } from '../src/nn/serialize.js';
import { inferInputShape, type Summary } from '../src/nn/summary.js';
import { Conv2d } from '../src/nn/conv.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-layers-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['layers']);

const linear = (i: number, o: number) => i * o + o;
const conv = (i: number, o: number, k: number, bias = true) => i * o * k * k + (bias ? o : 0);
const bn = (c: number) => 2 * c;

/** The summary as --json prints it, checked to add up to the model's own count. */
function summary(...args: string[]): Summary {
  const r = cli(...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;
  assert.equal(s.unattributed, 0);
  assert.equal(s.rows.reduce((a, row) => a + row.parameters, 0), s.total, 'the rows add up to the total');
  return s;
}

/** [point, operator, shape, parameters] of every row. */
const rows = (s: Summary) => s.rows.map((r) => [r.point, r.operator, r.shape, r.parameters]);

test('mlp: a row per hidden Linear and the output, BatchNorm counted with the layer that reads it', () => {
  const s = summary('--model', 'mlp:784-256-128-10');
  assert.deepEqual(s.inputShape, [784], 'the first Linear layer says the input size');
  assert.deepEqual(rows(s), [
    ['input', 'input', [-1, 784], 0],
    ['layers.0', 'Linear', [-1, 256], linear(784, 256)],
    ['layers.1', 'relu → Linear', [-1, 128], linear(256, 128)],
    ['output', 'relu → Linear', [-1, 10], linear(128, 10)],
  ]);
  using model = buildModel('mlp:784-256-128-10');
  assert.equal(s.total, model.numParameters());

  const withBn = summary('--model', 'mlp:20-16-8-3:softplus:bn:dropout=0.1');
  assert.deepEqual(rows(withBn).slice(2), [
    ['layers.1', 'BatchNorm → softplus → Dropout → Linear', [-1, 8], bn(16) + linear(16, 8)],
    ['output', 'BatchNorm → softplus → Dropout → Linear', [-1, 3], bn(8) + linear(8, 3)],
  ]);
  // An image given to an MLP is flattened: its input probe point shows [N, 784].
  assert.deepEqual(summary('--model', 'mlp:784-10', '--input-shape', '1,28,28').rows[0].shape, [-1, 784]);
});

test('cnn: 3×3 convolutions keep the size and each pool halves it; the spec gives the input shape', () => {
  const s = summary('--model', 'cnn:1x28x28-10');
  assert.deepEqual(s.inputShape, [1, 28, 28]);
  assert.deepEqual(rows(s), [
    ['input', 'input', [-1, 1, 28, 28], 0],
    ['conv1', 'Conv2d → relu → MaxPool2d', [-1, 32, 14, 14], conv(1, 32, 3)],
    ['conv2', 'Conv2d → relu → MaxPool2d', [-1, 64, 7, 7], conv(32, 64, 3)],
    ['fc1', 'Flatten → Linear', [-1, 128], linear(64 * 7 * 7, 128)],
    ['output', 'relu → Linear', [-1, 10], linear(128, 10)],
  ]);
  using model = buildModel('cnn:1x28x28-10');
  assert.equal(s.total, model.numParameters());
  const small = summary('--model', 'cnn:3x12x12-5:w=4:bn', '--input-shape', '3,12,12');
  assert.deepEqual(rows(small).slice(1, 3), [
    ['conv1', 'Conv2d → BatchNorm → relu → MaxPool2d', [-1, 4, 6, 6], conv(3, 4, 3) + bn(4)],
    ['conv2', 'Conv2d → BatchNorm → relu → MaxPool2d', [-1, 8, 3, 3], conv(4, 8, 3) + bn(8)],
  ]);
});

test('resnet: the stem counted with stage1, strides 1, 2, 2, the 1×1 shortcuts where the shape changes', () => {
  const s = summary('--model', 'resnet:3x32x32-10');
  const w = 16;
  const block = (i: number, o: number) => conv(i, o, 3, false) + bn(o) + conv(o, o, 3, false) + bn(o) + (i === o ? 0 : conv(i, o, 1, false) + bn(o));
  assert.deepEqual(rows(s), [
    ['input', 'input', [-1, 3, 32, 32], 0],
    ['stage1', 'Conv2d → BatchNorm → relu → BasicBlock', [-1, w, 32, 32], conv(3, w, 3, false) + bn(w) + block(w, w)],
    ['stage2', 'BasicBlock', [-1, 2 * w, 16, 16], block(w, 2 * w)],
    ['stage3', 'BasicBlock', [-1, 4 * w, 8, 8], block(2 * w, 4 * w)],
    ['output', 'AdaptiveAvgPool2d → Flatten → Linear', [-1, 10], linear(4 * w, 10)],
  ]);
  using model = buildModel('resnet:3x32x32-10');
  assert.equal(s.total, model.numParameters());
});

test("skip-to-output nets: the trunk's rows, the skip units, and an output row that adds their linear map", () => {
  const s = summary('--model', 'skip:6-5-3:m=4');
  assert.deepEqual(rows(s), [
    ['input', 'input', [-1, 6], 0],
    ['layers.0', 'Linear', [-1, 5], linear(6, 5)],
    ['skip', 'Linear', [-1, 4], linear(6, 4)],
    ['output', 'softplus → Linear, + softplus → Linear of skip', [-1, 3], linear(5, 3) + 4 * 3],
  ]);
  const cnn = summary('--model', 'skipcnn:1x8x8-3:m=4:w=2');
  assert.deepEqual(cnn.inputShape, [1, 8, 8], 'the trunk says the input shape');
  assert.deepEqual(cnn.rows.map((r) => r.point), ['input', 'conv1', 'conv2', 'fc1', 'skip', 'output']);
});

test('a saved model; the text table shows the batch dimension as N and the total', () => {
  const file = join(dir, 'm.safetensors');
  using model = buildModel('mlp:6-5-2');
  saveModel(model, file);
  const r = cli('--model', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mlp:6-5-2 on points of shape \[6\]/);
  assert.match(r.stdout, /layers\.0\s+Linear\s+\[N, 5\]\s+35\n/);
  assert.match(r.stdout, /output\s+relu → Linear\s+\[N, 2\]\s+12\n/);
  assert.match(r.stdout, /total parameters: 47$/m);
});

test('the input shape is inferred from an inputShape field or a first 2-D weight, else unknown', () => {
  using cnn = buildModel('cnn:3x12x12-5:w=2');
  using mlp = buildModel('resmlp:7-8-2-1');
  using conv = new Conv2d(3, 4, 3);
  assert.deepEqual([inferInputShape(cnn), inferInputShape(mlp), inferInputShape(conv)], [[3, 12, 12], [7], undefined]);
});

test('bad input exits with 2 and one line', () => {
  rejects([], /--model is required/);
  rejects(['--model', 'mlp:4'], /an MLP needs at least input and output sizes/);
  rejects(['--model', join(dir, 'missing.safetensors')], /missing\.safetensors/);
  rejects(['--model', 'cnn:1x8x8-3:w=2', '--input-shape', ''], /--input-shape must be integers/);
  rejects(['--model', 'cnn:1x8x8-3', '--input-shape', '1,0,8'], /--input-shape must be integers ≥ 1 separated by commas, got '1,0,8'/);
  rejects(['--model', 'cnn:1x8x8-3', '--input-shape', '1,12,12'], /points of shape \[1,12,12\] do not fit cnn:1x8x8-3/);
  rejects(['--model', 'mlp:4-2', '--seed', '1'], /layers: Unknown option '--seed'/);
});
