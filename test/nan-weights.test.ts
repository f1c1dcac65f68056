// No silent NaN from a model: a weights file with one NaN is refused by every command that loads it
// (exit 2, naming the file, the tensor and the index), finite weights whose outputs overflow are
// refused by predict and eval, and a linear-algebra step on a non-finite matrix names its measure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, tensor } from '../src/engine/index.js';
import { InputError } from '../src/errors.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { writeNpy } from '../src/data/npy.js';
import { buildModel } from '../src/nn/models/spec.js';
import { loadModel, saveModel } from '../src/nn/serialize.js';
import { gramSpectrum } from '../src/measures/gram.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-nan-weights-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string) => join(dir, name);
const { rejects } = cliRunner();

/** A copy of the model file at `from` with `value` at flat position `at` of tensor `name`. */
function poisoned(from: string, to: string, name: string, at: number, value: number): string {
  const file = readSafetensors(from);
  (file.tensors[name].data as Float32Array)[at] = value;
  writeSafetensors(to, file.tensors, file.metadata);
  return to;
}

manualSeed(0);
saveModel(buildModel('mlp:784-16-10'), path('good.safetensors'));
writeNpy(path('x.npy'), { dtype: 'float32', shape: [4, 784], data: new Float32Array(4 * 784).fill(0.5) });
writeNpy(path('y.npy'), { dtype: 'int64', shape: [4], data: BigInt64Array.from([0n, 1n, 2n, 3n]) });

test('one NaN in a weight: margins, predict, eval and gram exit 2 naming the file, the tensor and its index', () => {
  // layers.0.weight is [16, 784]: flat position 2·784 + 5 is row 2, column 5.
  const bad = poisoned(path('good.safetensors'), path('nan.safetensors'), 'layers.0.weight', 2 * 784 + 5, NaN);
  const named = /nan\.safetensors: tensor 'layers\.0\.weight' holds NaN at index \[2,5\] \(shape \[16,784\]\); weights must be finite/;
  assert.throws(() => loadModel(bad), (e: unknown) => e instanceof InputError && named.test(e.message));
  rejects(['margins', '--model', bad, '--input', path('x.npy'), '--labels', path('y.npy')], named);
  rejects(['predict', '--model', bad, '--input', path('x.npy'), '--out', path('out.npy')], named);
  rejects(['eval', '--model', bad, '--data', 'mnist'], named);
  rejects(['gram', '--model', bad, '--input', path('x.npy')], named);
  const inf = poisoned(path('good.safetensors'), path('inf.safetensors'), 'layers.1.bias', 3, -Infinity);
  rejects(['predict', '--model', inf, '--input', path('x.npy'), '--out', path('out.npy')],
    /inf\.safetensors: tensor 'layers\.1\.bias' holds -Infinity at index \[3\]/);
});

test('finite weights whose logits overflow float32: predict and eval exit 2 instead of writing NaN', () => {
  // Every first-layer weight 1e36 on inputs ≥ 0.5: each hidden unit sums to ~4e38 > float32's 3.4e38, so +Infinity.
  const file = readSafetensors(path('good.safetensors'));
  (file.tensors['layers.0.weight'].data as Float32Array).fill(1e36);
  writeSafetensors(path('huge.safetensors'), file.tensors, file.metadata);
  const huge = path('huge.safetensors');
  rejects(['predict', '--model', huge, '--input', path('x.npy'), '--out', path('out.npy')],
    /huge\.safetensors on .*x\.npy: logits: point 0, dimension \d+ is (-?Infinity|NaN)/);
  rejects(['eval', '--model', huge, '--data', 'mnist'], /huge\.safetensors on mnist test: the loss is (NaN|-?Infinity); the logits overflow/);
});

test('a linear-algebra step on a non-finite matrix names the measure and the entry', () => {
  const g = tensor([1, 0, 0, NaN], [2, 2], 'float64');
  assert.throws(() => gramSpectrum(g), (e: unknown) => e instanceof InputError && /^Gram spectrum: the matrix \[2,2\] holds NaN at \[1,1\]/.test(e.message));
  g.dispose();
});
