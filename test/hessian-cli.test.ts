// `dltheory hessian` on a saved mlp:6-5-3 (safetensors): the JSON fields equal what the library gives
// on the same model and points, the chart, fields not asked null, --data with --dtype float64, and
// bad input exiting 2 with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { loadModel, saveModel } from '../src/nn/serialize.js';
import { writeNpy } from '../src/data/npy.js';
import { hessianEigenvalues, hessianTrace } from '../src/measures/hessian.js';
import { cliRunner, tinyPoints } from './cli-run.js';
import { roundOff } from './round-off.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-hessian-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const { cli, rejects } = cliRunner();
const path = (name: string) => join(dir, name);

const N = 40;
const { X, Y } = tinyPoints(N);
manualSeed(0);
const built = buildModel('mlp:6-5-3');
saveModel(built, path('m.safetensors'));
built.dispose();
writeNpy(path('x.npy'), { dtype: 'float32', shape: [N, 6], data: X });
writeNpy(path('y.npy'), { dtype: 'int64', shape: [N], data: Y });
mkdirSync(path('set'));
writeNpy(path('set/x.npy'), { dtype: 'float32', shape: [N, 6], data: X });
writeNpy(path('set/y.npy'), { dtype: 'int64', shape: [N], data: Y });
const data = ['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')];
/** float32 products summed over 40 points in another thread count. */
const close = (what: string, a: number, b: number, scale: number) =>
  assert.ok(Math.abs(a - b) <= roundOff('float32', 64, scale), `${what}: ${a} vs the library's ${b}`);

test('hessian --json --chart: the eigenvalues, trace and density the library gives on the same model and points; an SVG', () => {
  const svg = path('density.svg');
  const r = cli('hessian', ...data, '--top', '2', '--trace', '--probes', '20', '--density', '--seed', '1', '--json', '--chart', svg);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.n, N);
  assert.equal(out.parameters, 53);
  assert.equal(out.dtype, 'float32');
  using model = loadModel(path('m.safetensors')).model;
  using x = tensor(X, [N, 6]);
  using y = tensor(Y, [N], 'int64');
  const eig = hessianEigenvalues(model, x, y, { k: 2, seed: 1 });
  const scale = Math.abs(eig.eigenvalues[0]);
  assert.equal(out.eigenvalues.length, 2);
  eig.eigenvalues.forEach((e, i) => close(`eigenvalue ${i}`, out.eigenvalues[i], e, scale));
  const tr = hessianTrace(model, x, y, { probes: 20, seed: 1 });
  close('trace', out.trace, tr.trace, 53 * scale);
  close('traceStdErr', out.traceStdErr, tr.stdErr, 53 * scale);
  const { grid, density } = out.density;
  assert.equal(grid.length, 1000);
  const integral = (grid[1] - grid[0]) * (density.reduce((a: number, b: number) => a + b, 0) - (density[0] + density[999]) / 2);
  assert.ok(Math.abs(integral - 1) < 1e-9, `the density integrates to ${integral}`);
  // The density on a log axis, the two eigenvalues marked by dashed rules.
  const chart = readFileSync(svg, 'utf8');
  assert.match(chart, /^<svg[\s\S]*eigenvalue[\s\S]*density/);
  assert.equal(chart.match(/stroke-dasharray="4,4"/g)?.length, 2);
  // Progress goes to stderr as JSON lines when it is not a terminal.
  assert.ok(r.stderr.trim().split('\n').every((l) => JSON.parse(l).event === 'progress'), r.stderr);
});

test('hessian --data DIR --dtype float64 --params: the top eigenvalue alone by default, the fields not asked null', () => {
  const r = cli('hessian', '--model', path('m.safetensors'), '--data', path('set'), '--train-size', '30', '--dtype', 'float64', '--params', 'layers.0',
    '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.n, 30);
  assert.equal(out.dtype, 'float64');
  assert.equal(out.parameters, 35, 'layers.0: a 5 × 6 weight and 5 biases');
  assert.equal(out.eigenvalues.length, 1);
  assert.ok(out.eigenvalues[0] > 0);
  for (const k of ['trace', 'traceStdErr', 'density']) assert.equal(out[k], null, k);
});

test('bad input: exit 2 with one line', () => {
  writeFileSync(path('bad.safetensors'), 'not a safetensors file');
  writeNpy(path('x7.npy'), { dtype: 'float32', shape: [N, 7], data: new Float32Array(N * 7) });
  writeNpy(path('nan.npy'), { dtype: 'float32', shape: [N, 6], data: X.map((v, i) => (i === 13 ? Number.NaN : v)) });
  writeNpy(path('y5.npy'), { dtype: 'int64', shape: [N], data: Y.map((v, i) => (i === 7 ? 5n : v)) });
  const rest = data.slice(2);
  rejects(['hessian', '--model', path('none.safetensors'), ...rest], /none\.safetensors: cannot read/);
  rejects(['hessian', '--model', path('bad.safetensors'), ...rest], /bad\.safetensors/);
  rejects(['hessian', ...data.slice(0, 2), '--input', path('x7.npy'), '--labels', path('y.npy')], /x7\.npy: inputs \[40,7\] do not fit model mlp:6-5-3/);
  rejects(['hessian', ...data.slice(0, 4), '--labels', path('y5.npy')], /y5\.npy: label of point \d+ is [3-5], outside the model's 3 classes/);
  rejects(['hessian', ...data.slice(0, 2), '--input', path('nan.npy'), '--labels', path('y.npy')], /nan\.npy: point 2, dimension 1 is NaN/);
  rejects(['hessian', ...data, '--top', '0'], /--top must be an integer ≥ 1 and ≤ 100/);
  rejects(['hessian', ...data, '--top', '54'], /--top 54: the Hessian over all parameters has 53 eigenvalues/);
  rejects(['hessian', ...data, '--top', '101'], /--top must be an integer ≥ 1 and ≤ 100, got '101'/);
  rejects(['hessian', ...data, '--dtype', 'float16'], /--dtype must be one of float32, float64/);
  rejects(['hessian', ...data, '--params', 'fc1'], /no parameter of mlp:6-5-3 is 'fc1'.*layers are layers\.0, layers\.1/);
});
