// `dltheory margins` end to end: the JSON fields, the CSV rows, --limit, and every kind of bad input
// exiting with code 2 and one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel } from '../src/nn/serialize.js';
import { writeNpy } from '../src/data/npy.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-margins-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['margins']);

const path = (name: string) => join(dir, name);
const f32 = (shape: number[], fill: (i: number) => number) => ({
  dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});
const i64 = (values: number[]) => ({ dtype: 'int64' as const, shape: [values.length], data: BigInt64Array.from(values, BigInt) });

// A random MLP on 6 features with 3 classes, 40 points, labels cycling 0, 1, 2.
const N = 40;
manualSeed(0);
saveModel(buildModel('mlp:6-8-3'), path('m.safetensors'));
writeNpy(path('x.npy'), f32([N, 6], (i) => Math.sin(1.7 * i + 0.3)));
writeNpy(path('y.npy'), i64(Array.from({ length: N }, (_, i) => i % 3)));
const base = ['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')];

interface CsvRow {
  index: number;
  label: number;
  probe: string;
  margin: number;
  normalized: number;
}
function readCsv(file: string): { header: string; rows: CsvRow[] } {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  return {
    header,
    rows: lines.map((l) => {
      const [index, label, probe, margin, normalized] = l.split(',');
      return { index: Number(index), label: Number(label), probe, margin: Number(margin), normalized: Number(normalized) };
    }),
  };
}

test('--json gives per probe point the name, total variation, dropped fraction and signature; --csv one row per point and probe', () => {
  const r = cli(...base, '--json', '--csv', path('all.csv'), '--dtype', 'float64', '--batch', '7');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.n, N);
  assert.deepEqual(out.probes.map((p: { name: string }) => p.name), ['input', 'layers.0']);
  for (const p of out.probes) {
    assert.ok(p.totalVariation > 0);
    assert.ok(p.droppedFraction > 0 && p.droppedFraction < 1, `a random model misclassifies some points: ${p.droppedFraction}`);
    for (const k of ['q1', 'median', 'q3', 'lowerFence', 'upperFence']) assert.equal(typeof p.signature[k], 'number', k);
    assert.ok(p.signature.lowerFence <= p.signature.q1 && p.signature.q1 <= p.signature.median && p.signature.median <= p.signature.q3);
  }
  const { header, rows } = readCsv(path('all.csv'));
  assert.equal(header, 'index,label,probe,margin,normalized_margin');
  assert.equal(rows.length, N * 2);
  rows.forEach((row, k) => {
    assert.equal(row.index, Math.floor(k / 2));
    assert.equal(row.label, row.index % 3);
    assert.equal(row.probe, ['input', 'layers.0'][k % 2]);
    const tv = out.probes[k % 2].totalVariation;
    assert.ok(Math.abs(row.normalized - row.margin / tv) <= 1e-12 * Math.abs(row.normalized));
  });
  // The signed margins hold the dropped points too, and their fraction is the JSON's.
  const negative = rows.filter((row) => row.probe === 'input' && !(row.margin > 0)).length;
  assert.equal(negative / N, out.probes[0].droppedFraction);

  // --limit N: the first N points, in order, with the same margins.
  const lim = cli(...base, '--limit', '5', '--csv', path('five.csv'), '--dtype', 'float64');
  assert.equal(lim.code, 0, lim.stderr);
  assert.match(lim.stdout, /5 points/);
  assert.match(lim.stdout, /layers\.0/);
  const five = readCsv(path('five.csv')).rows;
  assert.deepEqual(five.map((row) => row.index), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  five.forEach((row, k) => assert.ok(Math.abs(row.margin - rows[k].margin) <= 1e-12 * Math.abs(rows[k].margin)));
});

test('a named data set: --data mnist --split test --limit', () => {
  manualSeed(1);
  saveModel(buildModel('mlp:784-16-10'), path('mnist.safetensors'));
  const r = cli('--model', path('mnist.safetensors'), '--data', 'mnist', '--split', 'test', '--limit', '50', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.n, 50);
  assert.deepEqual(out.probes.map((p: { name: string }) => p.name), ['input', 'layers.0']);
});

test('bad input exits 2 with one line', () => {
  writeFileSync(path('not.safetensors'), 'not a safetensors file');
  rejects(['--model', path('not.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')], /not\.safetensors/);
  writeNpy(path('short.npy'), i64([0, 1, 2]));
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('short.npy')], /short\.npy: 3 labels for the 40 inputs/);
  writeNpy(path('one.npy'), i64(Array(N).fill(1)));
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('one.npy')], /one\.npy: only 1 class occurs/);
  writeNpy(path('nan.npy'), f32([N, 6], (i) => (i === 9 ? NaN : 0)));
  rejects(['--model', path('m.safetensors'), '--input', path('nan.npy'), '--labels', path('y.npy')], /nan\.npy: element 9 is NaN/);
  writeNpy(path('big.npy'), i64(Array.from({ length: N }, (_, i) => (i === 7 ? 3 : i % 2))));
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('big.npy')], /big\.npy: label of point 7 is 3, outside the model's 3 classes/);
  writeNpy(path('wide.npy'), f32([N, 5], () => 0));
  rejects(['--model', path('m.safetensors'), '--input', path('wide.npy'), '--labels', path('y.npy')], /wide\.npy, .*y\.npy: inputs of shape \[40,5\] do not fit model mlp:6-8-3/);
  rejects([...base, '--data', 'mnist'], /either --data or --input/);
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy')], /--labels is required/);
  rejects([...base, '--dtype', 'float16'], /--dtype must be one of/);
  rejects([...base, '--limit', '0'], /--limit must be an integer ≥ 1/);
  rejects([...base, '--probes', 'conv9'], /no probe point 'conv9'/);
});
