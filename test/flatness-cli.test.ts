// `dltheory flatness` and `dltheory landscape` on a built-in model with BatchNorm (mlp:6-8-3:bn,
// saved): the numbers the library's sharpness, frobeniusProduct, pathNorm, pacBayesFlatness,
// inputGradientNorm and lossSurface give on the same model, the grid and chart of the slice, and bad
// input exiting 2 with one line. The same
// commands on an ONNX model: test/onnx-cli.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, manualSeed, noGrad, scope, tensor } from '../src/engine/index.js';
import { disposing } from '../src/engine/memory.js';
import { buildModel } from '../src/nn/models/spec.js';
import { loadModel, saveModel } from '../src/nn/serialize.js';
import { crossEntropy } from '../src/nn/functional.js';
import { evalMode } from '../src/nn/module.js';
import { writeNpy } from '../src/data/npy.js';
import { seededSample, sharpness } from '../src/measures/sharpness.js';
import { pacBayesFlatness } from '../src/measures/flatness.js';
import { inputGradientNorm } from '../src/measures/input-gradient.js';
import { Rng } from '../src/data/rng.js';
import { frobeniusProduct, pathNorm } from '../src/measures/norms.js';
import { filterNormalizedDirection, lossSurface, snapshot } from '../src/measures/landscape.js';
import { cliRunner, tinyPoints } from './cli-run.js';
import { roundOff } from './round-off.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-flatness-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const { cli, rejects } = cliRunner();
const path = (name: string) => join(dir, name);

const N = 40;
const { X, Y } = tinyPoints(N);
manualSeed(0);
const built = buildModel('mlp:6-8-3:bn');
// Running statistics away from 0 and 1, so that folding BatchNorm matters.
noGrad(() => {
  for (const [name, t] of built.namedBuffers()) if (name.endsWith('running_mean') || name.endsWith('running_var')) t.fill_(name.endsWith('var') ? 4 : 0.3);
});
saveModel(built, path('m.safetensors'));
built.dispose();
writeNpy(path('x.npy'), { dtype: 'float32', shape: [N, 6], data: X });
writeNpy(path('y.npy'), { dtype: 'int64', shape: [N], data: Y });
const data = ['--model', path('m.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')];
const points = () => ({ x: tensor(X, [N, 6]), y: tensor(Y, [N], 'int64') });
/** Float32 sums over 40 points and a few layers, in another thread count. */
const TOL = roundOff('float32', 64);
const close = (what: string, a: number, b: number, tol = TOL) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs the library's ${b}`);

test('flatness --json: sharpness, the Frobenius product and the path norm with BatchNorm folded, as the library gives them', () => {
  const r = cli('flatness', ...data, '--alpha', '1e-3', '--steps', '3', '--restarts', '2', '--seed', '1', '--mc-samples', '4', '--bisection-steps', '6',
    '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  using model = loadModel(path('m.safetensors')).model;
  const { x, y } = points();
  using _x = x, _y = y;
  const s = sharpness(model, x, y, { alpha: 1e-3, steps: 3, restarts: 2, seed: 1 });
  for (const k of ['baseLoss', 'maxLoss', 'keskar'] as const) close(`sharpness.${k}`, out.sharpness[k], s[k]);
  assert.ok(out.sharpness.value > 0, 'the loss rises within the box');
  const f = frobeniusProduct(model);
  assert.equal(out.frobenius.batchNormFolded, true);
  close('frobenius.log', out.frobenius.log, f.log);
  assert.equal(out.frobenius.perLayer.length, 2);
  const unfolded = frobeniusProduct(model, { foldBatchNorm: false });
  assert.ok(Math.abs(out.frobenius.log - unfolded.log) > 1e-3, 'folding changes the first layer');
  close('pathNorm', out.pathNorm.value, pathNorm(model, [6]).value);
  assert.equal(out.distanceFromInit, null);
  assert.equal(out.n, N);
  // PAC-Bayes on the same seeded sample (here every point, permuted), m = the points in the file.
  const sample = seededSample(x, y, 1000, new Rng(1));
  using _sample = disposing(sample);
  const why = ['distanceFromInit: needs the initial weights, which --model does not give'];
  for (const [name, magnitudeAware] of [['pacBayes', false], ['pacBayesMagnitude', true]] as const) {
    const lib = pacBayesFlatness(model, sample.x, sample.y, { magnitudeAware, samples: 4, steps: 6, seed: 1, trainSize: N });
    const got = out[name];
    for (const k of ['baseline', 'sigma', 'flatness', 'orig'] as const) close(`${name}.${k}`, got[k], lib[k]);
    assert.deepEqual([got.steps, got.samples, got.trace.length, got.magnitudeAware, got.deviation], [6, 4, 6, magnitudeAware, 0.1]);
    assert.equal(got.init, null);
    got.trace.forEach((e: { sigma: number; mean: number }, i: number) => close(`${name}.trace[${i}].mean`, e.mean, lib.trace[i].mean));
    assert.deepEqual(got.bracket.map((b: number | null) => b ?? NaN), lib.bracket);
    why.push(...lib.undefined.map((u) => `${name}.${u}${u.startsWith('init') ? ', which --model does not give' : ''}`));
  }
  assert.deepEqual(out.undefined, why);
  const g = inputGradientNorm(model, sample.x, sample.y);
  close('inputGradient.value', out.inputGradient.value, g.value);
  close('inputGradient.stdErr', out.inputGradient.stdErr, g.stdErr);
  close('inputGradient.lossGradient', out.inputGradient.lossGradient.value, g.lossGradient.value);
  assert.equal(out.inputGradient.outputs, 3);
  assert.equal(out.inputGradient.perPoint, undefined);
});

test('flatness with --no-pac-bayes, and in text with the loss as what the noise may raise', () => {
  const r = cli('flatness', ...data, '--steps', '1', '--no-pac-bayes', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.pacBayes, out.pacBayesMagnitude], [null, null]);
  assert.ok(out.undefined.includes('pacBayes: not computed (--no-pac-bayes)'));
  assert.ok(out.inputGradient.value > 0);
  const text = cli('flatness', ...data, '--steps', '1', '--deviation-of', 'loss', '--deviation', '0.2', '--mc-samples', '3', '--bisection-steps', '4');
  assert.equal(text.code, 0, text.stderr);
  for (const row of ['pacbayes.flatness', 'pacbayes.orig', 'pacbayes.mag.flatness', 'pacbayes.mag.orig', 'E‖∂f/∂x‖_F', 'E‖∂ℓ/∂x‖₂']) {
    assert.ok(text.stdout.includes(row), `text output has ${row}`);
  }
  assert.match(text.stdout, /magnitude-aware σ' = [\d.]+, within \[[\d.]+, ([\d.]+|unknown)\] given the Monte-Carlo error \(loss /);
});

test('landscape --json and --svg: the library’s filter-normalised slice, the loss at the weights in the middle', () => {
  const svg = path('slice.svg');
  const r = cli('landscape', ...data, '--steps', '3', '--range', '0.5', '--seed', '4', '--json', '--svg', svg);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.a, [-0.5, 0, 0.5]);
  assert.deepEqual(out.b, out.a);
  using model = loadModel(path('m.safetensors')).model;
  const { x, y } = points();
  using _x = x, _y = y;
  using _eval = evalMode(model);
  const loss = () => scope(() => noGrad(() => crossEntropy(model.forward(x), y).item()));
  close('center', out.center, loss());
  close('loss at (0, 0)', out.loss[1][1], out.center);
  const center = snapshot(model);
  const [d1, d2] = [filterNormalizedDirection(center, 5), filterNormalizedDirection(center, 6)];
  const surface = lossSurface(model, center, d1, d2, out.a, out.b, loss);
  out.loss.forEach((row: number[], i: number) => row.forEach((v, j) => close(`loss[${i}][${j}]`, v, surface[i][j])));
  assert.ok(out.loss.flat().some((v: number) => Math.abs(v - out.center) > 1e-3), 'the slice leaves the minimum’s level');
  dispose([center, d1, d2]);
  assert.match(readFileSync(svg, 'utf8'), /^<svg[\s\S]*loss/);
});

test('bad input: exit 2 with one line', () => {
  rejects(['flatness', ...data.slice(0, 4), '--labels', path('x.npy')], /x\.npy/);
  rejects(['landscape', ...data, '--steps', '0'], /--steps/);
  rejects(['landscape', ...data, '--svg', path('slice.png')], /--svg .*\.svg/);
  rejects(['flatness', '--model', path('m2.safetensors'), '--input', path('x.npy'), '--labels', path('y.npy')], /m2\.safetensors: cannot read/);
  rejects(['flatness', ...data, '--deviation', '0'], /--deviation must be > 0 and < 1/);
  rejects(['flatness', ...data, '--deviation-of', 'margin'], /--deviation-of must be one of error, loss/);
  rejects(['flatness', ...data, '--mc-samples', '0'], /--mc-samples must be an integer ≥ 2/);
});
