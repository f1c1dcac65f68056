// `dltheory spectra` on a saved model and on a spec: the library's weightSpectra values in --json, an
// SVG chart, the table and the averages in text; and bad input (a missing, truncated or non-model
// file, a model with no weight matrix, a NaN weight) exiting 2 with one line. Seven runs of the
// command in all, each of which loads libtorch. ONNX graphs are read by the same loader
// (test/onnx-cli.test.ts); one here has no weight matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/engine/index.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { buildModel } from '../src/nn/models/spec.js';
import { loadModel, saveModel } from '../src/nn/serialize.js';
import { SUMMARY_FIELDS, weightSpectra } from '../src/measures/spectra.js';
import { cliRunner } from './cli-run.js';
import { onnxBytes } from './onnx-build.js';
import { roundOff } from './round-off.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-spectra-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const { cli, rejects } = cliRunner();
const path = (name: string) => join(dir, name);

manualSeed(0);
saveModel(buildModel('cnn:1x8x8-3:w=4'), path('cnn.safetensors'));
const FIELDS = ['lambdaMax', 'alpha', 'xmin', 'ksDistance', 'tailSize', 'alphaWeighted', 'stableRank', 'logSpectralNorm', 'logFrobeniusNorm',
  'logNorm'] as const;
/** The library's float64 SVDs in this process against the CLI's on one thread: the same matrices, other blockings. */
const TOL = roundOff('float64', 256);
const close = (what: string, a: number | null, b: number) =>
  assert.ok(Number.isNaN(b) ? a === null : Math.abs(a! - b) <= TOL * Math.max(1, Math.abs(b)), `${what}: ${a} vs the library's ${b}`);

test('spectra --json --chart on a saved model: the library’s layers and summary, null with the reason where α is undefined; an SVG', () => {
  const svg = path('esd.svg');
  const r = cli('spectra', '--model', path('cnn.safetensors'), '--json', '--eigenvalues', '--chart', svg);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  using model = loadModel(path('cnn.safetensors')).model;
  const { layers, summary } = weightSpectra(model);
  assert.deepEqual(out.layers.map((l: { name: string }) => l.name), ['conv1', 'conv2', 'fc1', 'fc2']);
  layers.forEach((l, i) => {
    const o = out.layers[i];
    assert.deepEqual([o.shape, o.n, o.m, o.matrices, o.nonzero, o.notes], [l.shape, l.n, l.m, l.matrices, l.nonzero, l.notes]);
    for (const f of FIELDS) close(`${l.name}.${f}`, o[f], l[f]);
    assert.equal(o.eigenvalues.length, l.eigenvalues.length);
    o.eigenvalues.forEach((v: number, k: number) => close(`${l.name} λ_${k}`, v, l.eigenvalues[k]));
  });
  // conv1 [4, 1, 3, 3] has 9 eigenvalues and fc2 [3, 32] 3, too few to fit; conv2 has 9·4, fc1 [128, 32] 32.
  out.layers.forEach((l: { name: string; alpha: number | null; notes: string[] }, i: number) => {
    if (i === 0 || i === 3) assert.ok(l.alpha === null && /fewer than minEvals = 10/.test(l.notes[0]), l.name);
    else assert.ok(l.alpha! > 1, `${l.name}: α ${l.alpha}`);
  });
  for (const f of SUMMARY_FIELDS) close(`summary.${f}`, out.summary[f], summary[f]);
  assert.deepEqual(out.undefined, []);
  const chart = readFileSync(svg, 'utf8');
  assert.match(chart, /^<svg/);
  for (const text of ['conv2', 'fc2', 'P(λ ≥ x)', 'stroke-dasharray']) assert.ok(chart.includes(text), `the chart shows ${text}`);
});

test('spectra on a spec: the table, the averages and the notes', () => {
  const r = cli('spectra', '--model', 'cnn:1x28x28-10:w=16', '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[2], /^layer\s+shape\s+alpha\s+alphaWeighted\s+stableRank\s+logSpectralNorm\s+logFrobeniusNorm\s+lambdaMax$/);
  for (const [name, shape] of [['conv1', '16,1,3,3'], ['conv2', '32,16,3,3'], ['fc1', '128,1568'], ['fc2', '10,128']])
    assert.ok(lines.some((l) => l.startsWith(`${name} `) && l.includes(`[${shape}]`)), `a row for ${name}`);
  for (const f of SUMMARY_FIELDS) assert.ok(lines.some((l) => new RegExp(`^${f}\\s+-?\\d`).test(l)), `the mean of ${f}`);
  assert.ok(lines.includes('conv1: alpha: 9 nonzero eigenvalues, fewer than minEvals = 10, too few to fit (WeightWatcher skips such layers)'));
});

test('bad input: exit 2 with one line', () => {
  const good = readFileSync(path('cnn.safetensors'));
  writeFileSync(path('cut.safetensors'), good.subarray(0, 300));
  writeFileSync(path('notes.txt'), 'not a model\n');
  rejects(['spectra', '--model', path('missing.safetensors')], /missing\.safetensors: cannot read/);
  rejects(['spectra', '--model', path('cut.safetensors')], /cut\.safetensors: not a safetensors file/);
  rejects(['spectra', '--model', path('notes.txt')], /notes\.txt: not a safetensors file/);
  // A graph of one Relu: a model with no weight matrix.
  writeFileSync(path('relu.onnx'),
    onnxBytes({ inputs: [{ name: 'x', shape: ['batch', 3] }], outputs: ['y'], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }));
  rejects(['spectra', '--model', path('relu.onnx')], /has no weight matrix/);
  // conv2.weight is [8, 4, 3, 3]: flat position 2·36 + 5 is [2, 0, 1, 2].
  const file = readSafetensors(path('cnn.safetensors'));
  (file.tensors['conv2.weight'].data as Float32Array)[2 * 36 + 5] = NaN;
  writeSafetensors(path('nan.safetensors'), file.tensors, file.metadata);
  rejects(['spectra', '--model', path('nan.safetensors')], /nan\.safetensors: tensor 'conv2\.weight' holds NaN at index \[2,0,1,2\]/);
});
