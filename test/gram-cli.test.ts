// `dltheory gram` end to end: the NTK of a saved model and of a spec against the library (the per-layer formula, and
// per-sample gradients for a CNN), per-layer and
// stacked outputs, the limiting matrices against the library, and bad input exiting with code 2 and
// one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, manualSeed, randn, scope, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { empiricalGram, gramSpectrum } from '../src/measures/gram.js';
import { empiricalNtk } from '../src/measures/ntk.js';
import { hInfinity, limitingGram } from '../src/measures/ntk-limit.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-gram-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['gram']);
const path = (name: string) => join(dir, name);
const N = 12;

manualSeed(4);
const x = scope(() => {
  const r = randn([N, 5], 'float64');
  return r.div(r.norm(2, 1, true));
});
writeNpy(path('x.npy'), toRaw(x));
const model = buildModel('mlp:5-16-16-3:softplus').double();
saveModel(model, path('m.safetensors'));

// A model that is not all Linear layers: the per-layer formula does not apply.
const cnn = buildModel('cnn:1x8x8-3:w=3').double();
saveModel(cnn, path('cnn.safetensors'));
const cnnX = randn([6, 1, 8, 8], 'float64');
writeNpy(path('cnn-x.npy'), toRaw(cnnX));

const npyMatrix = (file: string): Float64Array => readNpy(path(file)).data as Float64Array;
function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}: element ${i} ${a[i]} vs ${b[i]}`);
}

test('--model FILE: the NTK, a layer and every layer as .npy, and --json spectra, as the library computes them', () => {
  const lib = empiricalGram(model, x);
  const r = cli('--model', path('m.safetensors'), '--input', path('x.npy'), '--out', path('ntk.npy'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(json), ['layer', 'n', 'lambdaMin', 'lambdaMax', 'condition', 'undefined', 'method']);
  assert.equal(json.method, 'structured');
  assert.deepEqual(json.undefined, []);
  const spectrum = gramSpectrum(lib.ntk);
  assert.deepEqual([json.layer, json.n], ['sum', N]);
  assertClose([json.lambdaMin, json.lambdaMax, json.condition], [spectrum.lambdaMin, spectrum.lambdaMax, spectrum.condition], 1e-9, 'spectrum');
  assert.deepEqual(readNpy(path('ntk.npy')).shape, [N, N]);
  assertClose(npyMatrix('ntk.npy'), lib.ntk.toArray() as Float64Array, 1e-12, 'NTK');

  assert.equal(cli('--model', path('m.safetensors'), '--input', path('x.npy'), '--layer', 'layers.1', '--out', path('l1.npy')).code, 0);
  assertClose(npyMatrix('l1.npy'), lib.layers[1].gram.toArray() as Float64Array, 1e-12, 'layers.1');

  const all = cli('--model', path('m.safetensors'), '--input', path('x.npy'), '--layer', 'all', '--out', path('all.npy'), '--json');
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout).map((e: { layer: string }) => e.layer), ['layers.0', 'layers.1', 'layers.2']);
  assert.deepEqual(readNpy(path('all.npy')).shape, [3, N, N]);
  assertClose(npyMatrix('all.npy'), Float64Array.from(lib.layers.flatMap((l) => Array.from(l.gram.toArray() as Float64Array))), 1e-12, 'all layers');

  const text = cli('--model', path('m.safetensors'), '--input', path('x.npy'));
  assert.equal(text.code, 0);
  assert.match(text.stdout, /summed over 3 outputs/);
  assert.match(text.stdout, /λ_min/);
  dispose(lib);
});

test('--model SPEC: an untrained model seeded by --seed; the same seed, the same matrix', () => {
  const a = cli('--model', 'resmlp:5-32-3-1', '--input', path('x.npy'), '--seed', '3', '--out', path('a.npy'), '--json');
  assert.equal(a.code, 0, a.stderr);
  cli('--model', 'resmlp:5-32-3-1', '--input', path('x.npy'), '--seed', '3', '--out', path('b.npy'));
  cli('--model', 'resmlp:5-32-3-1', '--input', path('x.npy'), '--seed', '4', '--out', path('c.npy'));
  assert.deepEqual(npyMatrix('a.npy'), npyMatrix('b.npy'));
  assert.notDeepEqual(npyMatrix('a.npy'), npyMatrix('c.npy'));
  manualSeed(3);
  const m = buildModel('resmlp:5-32-3-1').double();
  const lib = empiricalGram(m, x);
  assertClose(npyMatrix('a.npy'), lib.ntk.toArray() as Float64Array, 1e-12, 'seeded spec');
  dispose(lib);
  m.dispose();
});

test('--limit relu2|fc|resnet: the library matrices', () => {
  const cases: [string[], () => Tensor][] = [
    [['--limit', 'relu2'], () => hInfinity(x)],
    [['--limit', 'fc', '--depth', '3', '--activation', 'softplus'], () => limitingGram(x, { architecture: 'fc', depth: 3, activation: 'softplus' })],
    [['--limit', 'resnet', '--depth', '4', '--cres', '0.3'], () => limitingGram(x, { architecture: 'resnet', depth: 4, cRes: 0.3 })],
  ];
  for (const [args, lib] of cases) {
    const r = cli(...args, '--input', path('x.npy'), '--out', path('k.npy'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const k = lib();
    assertClose(npyMatrix('k.npy'), k.toArray() as Float64Array, 1e-12, args.join(' '));
    assert.ok(Math.abs(JSON.parse(r.stdout).lambdaMin - gramSpectrum(k).lambdaMin) < 1e-12);
    k.dispose();
  }
});

test('a singular matrix (a point given twice): λ_min 0 and condition null, with the reason, not round-off', () => {
  const twice = Float64Array.from(x.toArray() as Float64Array);
  twice.set(twice.subarray(0, 5), 5);
  writeNpy(path('twice.npy'), { dtype: 'float64', shape: [N, 5], data: twice });
  const r = cli('--limit', 'relu2', '--input', path('twice.npy'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual([json.lambdaMin, json.condition], [0, null]);
  assert.ok(json.lambdaMax > 0);
  assert.match(json.undefined[0], /^condition: λ_min .* is zero to round-off/);
});

test("--model FILE of a CNN (not all Linear): per-sample gradients, the library's empiricalNtk, per group too", () => {
  const lib = empiricalNtk(cnn, cnnX, { groups: true });
  const r = cli('--model', path('cnn.safetensors'), '--input', path('cnn-x.npy'), '--out', path('cnn-ntk.npy'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual([json.layer, json.n, json.method], ['sum', 6, 'per-sample']);
  assert.ok(Math.abs(json.lambdaMin - gramSpectrum(lib.ntk).lambdaMin) <= 1e-9 * gramSpectrum(lib.ntk).lambdaMax);
  assertClose(npyMatrix('cnn-ntk.npy'), lib.ntk.toArray() as Float64Array, 1e-12, 'NTK');

  const all = cli('--model', path('cnn.safetensors'), '--input', path('cnn-x.npy'), '--layer', 'all', '--out', path('cnn-all.npy'), '--json');
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout).map((e: { layer: string }) => e.layer), ['conv1', 'conv2', 'fc1', 'fc2']);
  assertClose(npyMatrix('cnn-all.npy'), Float64Array.from(lib.groups.flatMap((g) => Array.from(g.gram.toArray() as Float64Array))), 1e-12, 'groups');

  const text = cli('--model', path('cnn.safetensors'), '--input', path('cnn-x.npy'));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /summed over 3 outputs, per-sample gradients/);
  assert.match(text.stderr, /per-sample gradients/, 'a progress line');
  dispose(lib);
});

test('bad input exits with 2 and one line', () => {
  writeNpy(path('flat.npy'), { dtype: 'float64', shape: [N * 5], data: x.toArray() });
  const nan = Float64Array.from(x.toArray() as Float64Array);
  nan[3 * 5 + 2] = NaN;
  writeNpy(path('nan.npy'), { dtype: 'float64', shape: [N, 5], data: nan });
  const m = ['--model', path('m.safetensors')];
  rejects([...m, '--input', path('flat.npy')], /flat\.npy: shape \[60\]; expected \[n, features\.\.\.\]/);
  rejects(['--limit', 'fc', '--input', path('cnn-x.npy')], /cnn-x\.npy: shape \[6,1,8,8\]; expected \[n, dims\]/);
  rejects([...m, '--input', path('nan.npy')], /nan\.npy: point 3, dimension 2 is NaN; inputs must be finite/);
  rejects(['--limit', 'fc', '--input', path('nan.npy')], /nan\.npy: .*NaN/);
  rejects(['--limit', 'fc', '--input', path('x.npy'), '--depth', '0'], /--depth must be an integer ≥ 1, got '0'/);
  rejects([...m, '--input', path('x.npy'), '--layer', 'layers.7'],
    /no layer 'layers\.7' in mlp:5-16-16-3:softplus \(have: layers\.0, layers\.1, layers\.2; or sum, all\)/);
  rejects(['--model', 'cnn:1x8x8-3', '--input', path('x.npy')], /x\.npy: NTK: a point of shape \[5\] does not fit cnn:1x8x8-3/);
  rejects(['--model', path('cnn.safetensors'), '--input', path('cnn-x.npy'), '--layer', 'fc3'], /no layer 'fc3' .*have: conv1, conv2, fc1, fc2; or sum, all/);
  rejects(['--model', 'mlp:4-8-1', '--input', path('x.npy')], /do not fit mlp:4-8-1/);
  rejects(['--input', path('x.npy')], /give either --model or --limit/);
  rejects(['--limit', 'relu2', '--input', path('x.npy'), '--depth', '2'], /no --depth or --activation/);
  rejects(['--limit', 'fc', '--input', path('x.npy'), '--activation', 'leaky_relu'], /--activation must be one of relu, softplus, tanh, sigmoid/);
  rejects([...m, '--input', path('x.npy'), '--depth', '3'], /--depth goes with --limit/);
});

test.after(() => {
  cnn.dispose();
  cnnX.dispose();
  model.dispose();
  x.dispose();
});
