// `dltheory margins` end to end: the JSON fields, the CSV rows, --limit, and every kind of bad input
// exiting with code 2 and one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, scope, tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel } from '../src/nn/serialize.js';
import { writeNpy } from '../src/data/npy.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-margins-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['margins']);

const path = (name: string) => join(dir, name);
const f32 = (shape: number[], fill: (i: number) => number) => ({
  dtype: 'float32' as const,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
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
  assert.equal(header, 'index,label,probe,distance,normalized_margin,undefined');
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
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('short.npy')], /short\.npy: 3 labels for the 40 points of .*x\.npy/);
  writeNpy(path('one.npy'), i64(Array(N).fill(1)));
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('one.npy')], /one\.npy: only 1 class occurs/);
  writeNpy(path('nan.npy'), f32([N, 6], (i) => (i === 9 ? NaN : 0)));
  rejects(['--model', path('m.safetensors'), '--input', path('nan.npy'), '--labels', path('y.npy')], /nan\.npy: point 1, dimension 3 is NaN/);
  writeNpy(path('big.npy'), i64(Array.from({ length: N }, (_, i) => (i === 7 ? 3 : i % 2))));
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('big.npy')],
    /big\.npy: label of point 7 is 3, outside the model's 3 classes/);
  writeNpy(path('wide.npy'), f32([N, 5], () => 0));
  rejects(['--model', path('m.safetensors'), '--input', path('wide.npy'), '--labels', path('y.npy')],
    /wide\.npy, .*y\.npy: inputs of shape \[40,5\] do not fit model mlp:6-8-3/);
  rejects([...base, '--data', 'mnist'], /either --data or --input/);
  rejects(['--model', path('m.safetensors'), '--input', path('x.npy')], /--labels is required/);
  rejects([...base, '--dtype', 'float16'], /--dtype must be one of/);
  rejects([...base, '--limit', '0'], /--limit must be an integer ≥ 1/);
  rejects([...base, '--probes', 'conv9'], /no probe point 'conv9'/);
});

/** The model's predicted class for each row of `rows` [n, 6] (float32, as the CLI runs it). */
function predicted(rows: number[][]): number[] {
  manualSeed(0);
  const model = buildModel('mlp:6-8-3');
  const out = noGrad(() => scope(() => model.forward(tensor(rows.flat(), [rows.length, 6], 'float32')).argmax(1).toNumbers()));
  model.dispose();
  return out;
}

/** Runs margins --json --csv on inputs `rows` with `labels` and returns the JSON's probes and the CSV's lines. */
function measure(name: string, rows: number[][], labels: number[]) {
  writeNpy(path(`${name}-x.npy`), f32([rows.length, 6], (i) => rows[Math.floor(i / 6)][i % 6]));
  writeNpy(path(`${name}-y.npy`), i64(labels));
  const r = cli('--model', path('m.safetensors'), '--input', path(`${name}-x.npy`), '--labels', path(`${name}-y.npy`), '--json', '--csv', path(`${name}.csv`));
  assert.equal(r.code, 0, r.stderr);
  return { probes: JSON.parse(r.stdout).probes, csv: readFileSync(path(`${name}.csv`), 'utf8').trimEnd().split('\n').slice(1) };
}

test('a constant sample: 7 copies of one point kept, the rest misclassified: std 0, skewness and kurtosis null and named, at every probe point', () => {
  const copy = [0.3, -1.2, 0.8, 0.1, -0.4, 1.1];
  const others = Array.from({ length: 5 }, (_, k) => Array.from({ length: 6 }, (_, j) => Math.cos(k * 6 + j)));
  const rows = [...Array(7).fill(copy), ...others];
  const classes = predicted(rows);
  // The copies get their predicted class; every other point a class that is neither its prediction nor the copies'.
  const wrong = classes.map((c, i) => (i < 7 ? c : [0, 1, 2].find((k) => k !== c && k !== classes[0]) ?? (c + 1) % 3));
  const { probes } = measure('constant', rows, wrong);
  assert.equal(probes.length, 2);
  for (const p of probes) {
    assert.equal(p.droppedFraction, 1 - 7 / 12, p.name);
    assert.equal(p.moments.std, 0, `${p.name}: a constant sample has std 0, not round-off`);
    assert.equal(p.moments.skewness, null, p.name);
    assert.equal(p.moments.kurtosis, null, p.name);
    assert.deepEqual(p.undefined, ['moments.skewness: constant sample', 'moments.kurtosis: constant sample'], p.name);
    assert.ok(p.moments.mean > 0 && p.signature.q1 === p.signature.q3, p.name);
  }
});

test('identical points: total variation 0, so the normalised margins are empty cells and null statistics, named as such; no point kept is named differently', () => {
  const copy = [0.3, -1.2, 0.8, 0.1, -0.4, 1.1];
  const rows = Array(6).fill(copy);
  const c = predicted([copy])[0];
  const same = measure('same', rows, [c, c, c, (c + 1) % 3, c, (c + 2) % 3]);
  for (const p of same.probes) {
    assert.equal(p.totalVariation, 0, p.name);
    assert.equal(p.signature.median, null, p.name);
    assert.equal(p.moments.mean, null, p.name);
    assert.deepEqual(p.undefined, ['normalized_margin: total variation 0: every point has the same activation'], p.name);
  }
  for (const line of same.csv) {
    const cells = line.split(',');
    assert.equal(cells.length, 6, line);
    assert.ok(Number.isFinite(Number(cells[3])), `the margin itself is defined: ${line}`);
    assert.equal(cells[4], '', `no Infinity: ${line}`);
    assert.match(cells[5], /total variation 0/);
  }
  const none = measure('none', [copy, copy.map((v) => -v)], predicted([copy, copy.map((v) => -v)]).map((k) => (k + 1) % 3));
  for (const p of none.probes) {
    assert.equal(p.droppedFraction, 1);
    assert.equal(p.signature.median, null);
    assert.deepEqual(p.undefined, ['signature: no point kept (every point misclassified)', 'moments: no point kept']);
  }
});

test('a float32 overflow inside the model is an error that says so, and float64 measures the same model', () => {
  const file = readSafetensors(path('m.safetensors'));
  (file.tensors['layers.0.weight'].data as Float32Array)[5] = 3e38;
  writeSafetensors(path('big.safetensors'), file.tensors, file.metadata);
  const args = ['--model', path('big.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')];
  rejects(args,
    /margins: (logits|activations at \S+|squared gradient norm at \S+): point \d+, dimension \d+ is (-?Infinity|NaN); the model overflows float32 \(measure in float64\)/);
  const r = cli(...args, '--dtype', 'float64', '--json');
  assert.equal(r.code, 0, r.stderr);
  for (const p of JSON.parse(r.stdout).probes) assert.ok(p.undefined.length > 0 || Number.isFinite(p.signature.median), p.name);
});
