// `dltheory gdv` end to end: the JSON fields for NPY and CSV input, a model's per-layer list and
// chart, and every kind of bad input exiting with code 2 and one line on stderr.
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

const dir = mkdtempSync(join(tmpdir(), 'dltheory-gdv-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['gdv']);

const path = (name: string) => join(dir, name);
const N = 40;
const D = 6;
const X = Float32Array.from({ length: N * D }, (_, i) => Math.sin(1.7 * i + 0.3) + (Math.floor(i / D) % 3));
const Y = Array.from({ length: N }, (_, i) => i % 3);
const csvRows = (x: ArrayLike<number>, cols: number) =>
  Array.from({ length: x.length / cols }, (_, r) => Array.from(x).slice(r * cols, (r + 1) * cols).join(','));

manualSeed(0);
saveModel(buildModel('mlp:6-8-3'), path('m.safetensors'));
manualSeed(0);
saveModel(buildModel('mlp:784-16-10'), path('mnist.safetensors'));
writeNpy(path('x.npy'), { dtype: 'float32', shape: [N, D], data: X });
writeNpy(path('y.npy'), { dtype: 'int64', shape: [N], data: BigInt64Array.from(Y, BigInt) });
writeFileSync(path('x.csv'), `${['a', 'b', 'c', 'd', 'e', 'f'].join(',')}\n${csvRows(X, D).join('\n')}\n`);
writeFileSync(path('y.csv'), `${Y.join('\n')}\n`);
const raw = ['--input', path('x.npy'), '--labels', path('y.npy')];

const FIELDS = ['gdv', 'intra', 'inter', 'n', 'dims', 'classes'];

test('--json for NPY and for CSV input (with a header line): the same six fields and values', () => {
  const npy = cli(...raw, '--json');
  assert.equal(npy.code, 0, npy.stderr);
  const a = JSON.parse(npy.stdout);
  assert.deepEqual(Object.keys(a), FIELDS);
  assert.deepEqual([a.n, a.dims, a.classes], [N, D, 3]);
  assert.ok(Math.abs(a.gdv - (a.intra - a.inter)) < 1e-12 && a.gdv < 0);
  const csv = cli('--input', path('x.csv'), '--labels', path('y.csv'), '--header', 'auto,no', '--json');
  assert.equal(csv.code, 0, csv.stderr);
  assert.deepEqual(JSON.parse(csv.stdout), a);
  const sampled = JSON.parse(cli(...raw, '--json', '--sample-per-class', '5', '--seed', '3').stdout);
  assert.equal(sampled.n, 15);
  assert.deepEqual(JSON.parse(cli(...raw, '--json', '--sample-per-class', '5', '--seed', '3').stdout), sampled);
  const text = cli(...raw);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /GDV -?\d\.\d{4}/);
});

test('a model: one entry per probe point on NPY inputs; on mnist with --limit, a table and an SVG chart', () => {
  const r = cli('--model', path('m.safetensors'), ...raw, '--json');
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  assert.deepEqual(list.map((e: { probe: string }) => e.probe), ['input', 'layers.0']);
  assert.deepEqual(Object.keys(list[0]), ['probe', ...FIELDS]);
  assert.deepEqual([list[1].dims, list[1].n], [8, N]);
  assert.deepEqual({ ...list[0], probe: undefined }, { ...JSON.parse(cli(...raw, '--json').stdout), probe: undefined });

  const m = cli('--model', path('mnist.safetensors'), '--data', 'mnist', '--split', 'test', '--limit', '300', '--chart', path('gdv.svg'));
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /300 points of mnist test/);
  assert.match(m.stdout, /layers\.0/);
  assert.match(readFileSync(path('gdv.svg'), 'utf8'), /^<svg/);
});

test('bad input exits with 2 and one line', () => {
  const bad = (name: string, text: string) => {
    writeFileSync(path(name), text);
    return path(name);
  };
  const nan = Float32Array.from(X);
  nan[5 * D + 1] = NaN;
  writeNpy(path('nan.npy'), { dtype: 'float32', shape: [N, D], data: nan });
  rejects(['--input', path('nan.npy'), '--labels', path('y.npy')], /nan\.npy: point 5, dimension 1 is NaN/);
  const inf = csvRows(X, D);
  inf[2] = inf[2].replace(/^[^,]*/, '-inf');
  rejects(['--input', bad('inf.csv', inf.join('\n')), '--labels', path('y.csv'), '--header', 'no'], /inf\.csv: point 2, dimension 0 is -Infinity/);
  rejects(['--input', path('x.npy'), '--labels', bad('short.csv', Y.slice(1).join('\n')), '--header', 'no'], /short\.csv: 39 labels for the 40 points/);
  rejects(['--input', path('x.csv'), '--labels', bad('one.csv', Y.map(() => 2).join('\n')), '--header', 'auto,no'], /one\.csv: only one class \(2\)/);
  const text = csvRows(X, D);
  text[6] = text[6].replace(/,[^,]*,/, ',abc,');
  rejects(['--input', bad('text.csv', text.join('\n')), '--labels', path('y.csv'), '--header', 'no'], /text\.csv: line 7, column 2 is 'abc', not a number/);
  rejects(['--input', path('x.npy'), '--labels', bad('single.csv', [...Y.slice(0, N - 1), 9].join('\n')), '--header', 'no'],
    /single\.csv: class 9 has 1 point/);
  rejects([...raw, '--chart', path('no.svg')], /--chart needs --model/);
  rejects(['--input', path('x.npy')], /--labels is required/);
  rejects([...raw, '--sample-per-class', '1'], /--sample-per-class must be an integer ≥ 2/);
  rejects([...raw, '--header', 'maybe'], /--header must be one of auto, yes, no, got 'maybe'/);
  rejects([...raw, '--header', 'yes,no,no'], /--header takes one value, or two/);
});
