/**
 * Baseline generalisation measures (src/measures/{spectral-margin,norms,sharpness,output-margin,
 * quantiles}.ts) against closed forms, brute force and numpy (Debian's, at /usr/bin/python3; the
 * numpy comparisons skip, saying why, when it cannot be imported).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { liveTensors, noGrad, randn, randint, manualSeed, scope, tensor, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import type { Module } from '../src/nn/module.js';
import { boxSummary, logBoxSummary, quantile } from '../src/measures/quantiles.js';
import { outputMargins, outputMarginSummary } from '../src/measures/output-margin.js';
import { layerSpectra, spectralMargin } from '../src/measures/spectral-margin.js';
import { batchNormSources, distanceFromInit, foldedLayers, frobeniusProduct, pathNorm } from '../src/measures/norms.js';
import { sharpness } from '../src/measures/sharpness.js';
import { PYTHON, pythonUnavailable } from './python.js';
import { roundOff } from './round-off.js';

const noNumpy = pythonUnavailable('numpy');

/** Runs `code` with `data` (JSON) bound to `inp`; the script prints one JSON value. Null (and a skip) without numpy. */
// biome-ignore lint/suspicious/noExplicitAny: the reference script's JSON, indexed as each test needs
function numpy(t: TestContext, code: string, data: unknown): any {
  if (noNumpy) {
    t.skip(noNumpy);
    return null;
  }
  const r = spawnSync(PYTHON, ['-c', `import json, sys\nimport numpy as np\ninp = json.load(sys.stdin)\n${code}`], { input: JSON.stringify(data),
    encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Sets a parameter or buffer by state-dict name. */
function set(model: Module, name: string, values: number[]): void {
  const t = model.stateDict().get(name)!;
  noGrad(() => scope(() => t.copy_(tensor(values, t.shape, 'float64'))));
}
const values = (t: Tensor): number[] => t.toNumbers();
const param = (model: Module, name: string): number[] => values(model.stateDict().get(name)!);

test('quantile and box summary agree with numpy.percentile', (t) => {
  const rng = [1, 2, 5, 101].map((n) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + n) * 43758.5453 % 7));
  const ours = rng.map((v) => boxSummary(Float64Array.from(v)));
  const ref = numpy(t, `
out = []
for v in inp:
    q1, q2, q3 = np.percentile(np.array(v), [25, 50, 75])
    out.append([q1, q2, q3, q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)])
print(json.dumps(out))`, rng);
  if (!ref) return;
  ours.forEach((b, i) => [b.q1, b.median, b.q3, b.lowerFence, b.upperFence].forEach((v, k) => close(v, ref[i][k], 1e-12, `case ${i} stat ${k}`)));
});

test('quantile, box summary and log summary by hand', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.25), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  const b = boxSummary(Float64Array.from([100, 3, 1, 4, 2]));
  assert.deepEqual(b, { q1: 2, median: 3, q3: 4, lowerFence: -1, upperFence: 7 });
  // The lower fence −1 clamps to the minimum 1; the upper fence 7 lies inside [1, 100].
  assert.deepEqual(logBoxSummary(Float64Array.from([100, 3, 1, 4, 2])), { q1: Math.log(2), median: Math.log(3), q3: Math.log(4), lowerFence: 0,
    upperFence: Math.log(7) });
});

/** A single Linear layer 4 → 3 with W = [[3,0,0,0],[0,−2,0,0],[0,0,1,0]], b = 0, and four labelled points. */
function diagonalModel(): { model: Module; x: Tensor; y: Tensor } {
  const model = buildModel('mlp:4-3').to('float64');
  set(model, 'layers.0.weight', [3, 0, 0, 0, 0, -2, 0, 0, 0, 0, 1, 0]);
  set(model, 'layers.0.bias', [0, 0, 0]);
  const x = tensor([[1, 0, 0, 0], [0, 1, 0, 2], [1, 1, 1, 0], [0, 0, 2, 2]], undefined, 'float32');
  const y = tensor([0, 2, 0, 2], undefined, 'int64');
  return { model, x, y };
}

test('output margins: f_y − max_{k≠y} f_k, and the summary of the positive ones', () => {
  const { model, x, y } = diagonalModel();
  // Logits (3x₀, −2x₁, x₂): [3,0,0], [0,−2,0], [3,−2,1], [0,0,2].
  assert.deepEqual(Array.from(outputMargins(model, x, y)), [3, 0, 2, 2]);
  const s = outputMarginSummary(model, x, y);
  assert.equal(s.droppedFraction, 0.25);
  assert.deepEqual(s.summary, boxSummary(Float64Array.from([3, 2, 2])));
  model.dispose();
});

test('spectral margin of one diagonal layer: ‖W‖₂ = 3, ‖Wᵀ‖₂,₁ = 6, R = 3·2·‖X‖_F/n', () => {
  const { model, x, y } = diagonalModel();
  const r = spectralMargin(model, x, y);
  assert.deepEqual(r.layers.map((l) => [l.spectral, l.l21]), [[3, 6]]);
  const dataNorm = Math.sqrt(1 + 5 + 3 + 8);
  close(r.dataNorm, dataNorm, 1e-15);
  // R = ‖W‖₂ · ((‖Wᵀ‖₂,₁/‖W‖₂)^{2/3})^{3/2} · ‖X‖_F/n = 3 · 2 · ‖X‖_F/4.
  const R = (3 * 2 * dataNorm) / 4;
  // The median of the margins [3, 0, 2, 2] is 2.
  assert.equal(r.margin, 2);
  close(r.value, 2 / R, 1e-12, 'γ/R');
  close(r.log, Math.log(2 / R), 1e-12, 'log γ/R');
  close(spectralMargin(model, x, y, { quantile: 0.25 }).margin, 1.5, 1e-15);
  model.dispose();
});

test('spectral margin of a random MLP agrees with numpy end to end', (t) => {
  manualSeed(3);
  const model = buildModel('mlp:5-4-3').to('float64');
  const x = randn([20, 5], 'float64');
  // Labels the model mostly gets right, so that γ > 0 and its log exists: its own argmax, two flipped.
  const y = tensor(noGrad(() => scope(() => values(model.forward(x).argmax(1)))).map((c, i) => (i < 2 ? (c + 1) % 3 : c)), undefined, 'int64');
  const r = spectralMargin(model, x, y, { quantile: 0.3 });
  assert.ok(r.margin > 0);
  const data = [...['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias'].map((k) => asArray(model.stateDict().get(k)!)), asArray(x),
    asArray(y)];
  const ref = numpy(t, `
W0, b0, W1, b1, X, y = [np.array(v['data']).reshape(v['shape']) for v in inp]
f = np.maximum(X @ W0.T + b0, 0) @ W1.T + b1
y = y.astype(int)
fy = f[np.arange(len(y)), y]
f[np.arange(len(y)), y] = -np.inf
gamma = np.quantile(fy - f.max(1), 0.3)
s = [np.linalg.norm(W, 2) for W in (W0, W1)]
l21 = [np.linalg.norm(W, axis=1).sum() for W in (W0, W1)]
logR = np.log(np.prod(s)) + 1.5 * np.log(sum((a / b) ** (2 / 3) for a, b in zip(l21, s))) + np.log(np.linalg.norm(X)) - np.log(len(y))
print(json.dumps([gamma, s, l21, np.log(gamma) - logR]))`, data);
  if (!ref) return;
  close(r.margin, ref[0], 1e-10, 'γ');
  r.layers.forEach((l, i) => {
    close(l.spectral, ref[1][i], 1e-10, 'spectral');
    close(l.l21, ref[2][i], 1e-10, 'l21');
  });
  close(r.log, ref[3], 1e-10, 'log γ/R');
  model.dispose();
});

/** A tensor for numpy: its values and shape. */
const asArray = (t: Tensor): { data: number[]; shape: number[] } => ({ data: values(t), shape: t.shape });
/** A flat array as the rows of a [rows, …] matrix. */
function rowsOf(v: number[], rows: number): number[][] {
  const cols = v.length / rows;
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

test('conv layers are measured as the matrix [out, in·k·k] (numpy)', (t) => {
  manualSeed(4);
  const model = buildModel('cnn:2x8x8-3:w=2');
  const spectra = layerSpectra(model);
  assert.deepEqual(spectra.map((l) => l.name), ['conv1', 'conv2', 'fc1', 'fc2']);
  const weights = model.namedParameters().filter(([n, p]) => n.endsWith('weight') && p.ndim >= 2).map(([, p]) => asArray(p));
  const ref = numpy(t, `
mats = [np.array(w['data']).reshape(w['shape']).reshape(w['shape'][0], -1) for w in inp]
print(json.dumps([[np.linalg.norm(W, 2), np.linalg.norm(W, axis=1).sum()] for W in mats]))`, weights);
  if (!ref) return;
  spectra.forEach((l, i) => {
    // float32 weights: LAPACK's single-precision SVD against numpy's double one.
    close(l.spectral, ref[i][0], roundOff('float32', 100), `${l.name} spectral`);
    close(l.l21, ref[i][1], roundOff('float32', 100), `${l.name} l21`);
  });
  model.dispose();
});

test('BatchNorm folds into the layer before it: same function in eval mode', () => {
  manualSeed(5);
  const model = buildModel('mlp:3-4-2:bn').to('float64');
  set(model, 'norms.0.running_mean', [0.3, -1, 2, 0.1]);
  set(model, 'norms.0.running_var', [0.5, 2, 1.5, 0.2]);
  set(model, 'norms.0.weight', [1.5, -0.7, 0.2, 2]);
  set(model, 'norms.0.bias', [0.1, 0.2, -0.3, 0.4]);
  const x = randn([6, 3], 'float64');
  const [expected, folded] = scope(() => {
    const layers = foldedLayers(model);
    const h = x.matmul(layers[0].weight.t()).add(layers[0].bias!).relu();
    return [values(model.eval().forward(x)), values(h.matmul(layers[1].weight.t()).add(layers[1].bias!))];
  });
  expected.forEach((v, i) => close(folded[i], v, 1e-12, `logit ${i}`));
  const resnet = buildModel('resnet:3x8x8-2:w=2');
  const sources = batchNormSources(resnet);
  assert.equal(sources.get('bn'), 'stem');
  assert.equal(sources.get('stage1.bn2'), 'stage1.conv2');
  assert.equal(sources.get('stage2.shortcut.1'), 'stage2.shortcut.0');
  assert.equal(sources.size, 9);
  assert.equal(batchNormSources(buildModel('cnn:1x8x8-2:bn')).get('bn2'), 'conv2');
  model.dispose();
  resnet.dispose();
});

/** Σ over every path (from an input unit, or from a bias) to an output of Π w², enumerated one path at a time. */
function bruteForcePathNorm(weights: number[][][], biases: number[][]): number {
  let total = 0;
  const walk = (layer: number, unit: number, product: number): void => {
    if (layer === weights.length) {
      total += product;
      return;
    }
    weights[layer].forEach((row, k) => walk(layer + 1, k, product * row[unit] ** 2));
  };
  weights[0][0].forEach((_, i) => walk(0, i, 1));
  biases.forEach((b, l) => b.forEach((v, j) => walk(l + 1, j, v * v)));
  return total;
}

const matrices = (model: Module, n: number, prefix = 'layers'): { w: number[][][]; b: number[][] } => ({
  w: Array.from({ length: n }, (_, l) => rowsOf(param(model, `${prefix}.${l}.weight`), model.stateDict().get(`${prefix}.${l}.weight`)!.size(0))),
  b: Array.from({ length: n }, (_, l) => param(model, `${prefix}.${l}.bias`)),
});

test('path norm equals the brute-force sum over all paths of the squared weights', () => {
  manualSeed(6);
  for (const [spec, layers] of [['mlp:3-4-2', 2], ['mlp:2-3-3-2', 3]] as const) {
    const model = buildModel(spec).to('float64');
    const before = model.parameters().map(values);
    const { w, b } = matrices(model, layers);
    close(pathNorm(model, [w[0][0].length]).value, bruteForcePathNorm(w, b), 1e-12, spec);
    assert.deepEqual(model.parameters().map(values), before, 'parameters restored');
    assert.equal(model.training, true, 'mode restored');
    model.dispose();
  }
});

test('path norm with BatchNorm is the path norm of the folded network', () => {
  manualSeed(7);
  const model = buildModel('mlp:3-4-2:bn').to('float64');
  set(model, 'norms.0.running_mean', [0.3, -1, 2, 0.1]);
  set(model, 'norms.0.running_var', [0.5, 2, 1.5, 0.2]);
  set(model, 'norms.0.weight', [1.5, -0.7, 0.2, 2]);
  const state = [...model.stateDict().values()].map(values);
  const folded = scope(() => foldedLayers(model).map((l) => ({ w: rowsOf(values(l.weight), l.weight.size(0)), b: values(l.bias!) })));
  close(pathNorm(model, [3]).value, bruteForcePathNorm(folded.map((l) => l.w), folded.map((l) => l.b)), 1e-12, 'folded');
  assert.deepEqual([...model.stateDict().values()].map(values), state, 'state restored');
  model.dispose();
});

test('path norm of a CNN with identity BatchNorm equals that of the same CNN without; a ResNet runs and is restored', () => {
  manualSeed(10);
  const plain = buildModel('cnn:1x8x8-3:w=2').to('float64');
  const bn = buildModel('cnn:1x8x8-3:w=2:bn').to('float64');
  for (const [k, v] of plain.stateDict()) set(bn, k, values(v));
  // running_var + ε = 1 and γ = 1, β = 0, mean 0: each BatchNorm is the identity.
  for (const b of ['bn1', 'bn2']) set(bn, `${b}.running_var`, Array(bn.stateDict().get(`${b}.running_var`)!.numel).fill(1 - 1e-5));
  close(pathNorm(bn, [1, 8, 8]).value, pathNorm(plain, [1, 8, 8]).value, 1e-10, 'cnn');
  const resnet = buildModel('resnet:3x8x8-2:w=2');
  const state = [...resnet.stateDict().values()].map(values);
  const r = pathNorm(resnet, [3, 8, 8]);
  assert.ok(Number.isFinite(r.log) && r.value > 0, `resnet path norm ${r.value}`);
  assert.deepEqual([...resnet.stateDict().values()].map(values), state, 'resnet state restored');
  [plain, bn, resnet].forEach((m) => m.dispose());
});

test('the measures leave no tensors behind', () => {
  manualSeed(11);
  const model = buildModel('cnn:1x8x8-3:w=2:bn');
  const x = randn([30, 1, 8, 8]);
  const y = randint(0, 3, [30]);
  const init = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
  const before = liveTensors();
  spectralMargin(model, x, y);
  outputMarginSummary(model, x, y);
  frobeniusProduct(model);
  distanceFromInit(model, init);
  pathNorm(model, [1, 8, 8]);
  sharpness(model, x, y, { alpha: 1e-3, steps: 2, restarts: 1 });
  assert.equal(liveTensors(), before);
  model.dispose();
});

test('product of Frobenius norms and distance from initialisation', () => {
  manualSeed(8);
  const model = buildModel('mlp:3-4-2').to('float64');
  const fro = (name: string): number => Math.hypot(...param(model, name));
  const expected = fro('layers.0.weight') * fro('layers.1.weight');
  const r = frobeniusProduct(model);
  close(r.value, expected, 1e-12, 'Π‖W‖_F');
  close(r.log, Math.log(expected), 1e-12, 'log');
  const init = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
  assert.equal(distanceFromInit(model, init).value, 0);
  // Move two parameters by known amounts: ‖θ − θ₀‖ = √(0.3² + 0.4²) = 0.5.
  set(model, 'layers.0.bias', param(model, 'layers.0.bias').map((v, i) => v + (i === 0 ? 0.3 : 0)));
  set(model, 'layers.1.weight', param(model, 'layers.1.weight').map((v, i) => v + (i === 5 ? -0.4 : 0)));
  close(distanceFromInit(model, init).value, 0.5, 1e-12, 'distance');
  model.dispose();
});

test('sharpness: 0 for α = 0, positive and repeatable for α > 0, parameters restored', () => {
  manualSeed(9);
  const model = buildModel('mlp:6-16-3').to('float64');
  const x = randn([200, 6], 'float64');
  const y = randint(0, 3, [200]);
  const before = model.parameters().map(values);
  const zero = sharpness(model, x, y, { alpha: 0 });
  assert.equal(zero.value, 0);
  assert.equal(zero.maxLoss, zero.baseLoss);
  const opts = { alpha: 1e-2, steps: 5, restarts: 2, sampleSize: 100, seed: 1 };
  const a = sharpness(model, x, y, opts);
  assert.ok(a.value > 0, `sharpness ${a.value}`);
  close(a.keskar, (100 * a.value) / (1 + a.baseLoss), 1e-12, 'keskar');
  assert.deepEqual(sharpness(model, x, y, opts), a);
  // The same seed gives the same starts, and the ascent evaluates the start too, so it finds at least as much.
  const noSteps = sharpness(model, x, y, { ...opts, steps: 0 });
  assert.ok(a.value >= noSteps.value, `ascent ${a.value} < random start ${noSteps.value}`);
  assert.deepEqual(model.parameters().map(values), before, 'parameters restored');
  model.dispose();
});
