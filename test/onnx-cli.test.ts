/**
 * The commands that take `--model`, on an ONNX file: torchvision's resnet18 (random weights and
 * BatchNorm statistics, 10 classes, 3×32×32, dynamic batch; exported once into a temporary folder
 * by test/fixtures/onnx_models.py, BatchNorm kept as nodes).
 *
 * - margins and gdv read the default probe points of docs/onnx.md (the input, the stem's ReLU, the
 *   end of layer2, the global average pool, the logits) and give the numbers the library gives on
 *   the same model; `--probes` overrides them; gap predict's margin features read the first and
 *   last of those stages;
 * - gram takes per-sample gradients and gives the library's empiricalNtk;
 * - train fine-tunes the graph (the full-batch loss falls, every parameter and the running
 *   statistics move), records an ONNX run and writes `--save out.onnx`, which dltheory's predict and
 *   onnxruntime-web run as the in-process model does;
 * - layers needs no --input-shape and adds up to the model's parameters;
 * - flatness folds BatchNorm into the convolutions as torch's eval-mode export does (the Frobenius
 *   norms and the path norm of the fused export); landscape gives the library's slice;
 * - an input of another shape, and an .onnx path that does not exist, are one-line errors (exit 2).
 *
 * The CLI runs with one thread and the test process with all cores, so results computed in both
 * agree to round-off, not bit for bit. Without torch and torchvision in the reference Python the
 * tests skip, saying why.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { dispose, noGrad, scope, tensor } from '../src/engine/index.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { loadData } from '../src/data/load.js';
import { fromRaw, loadModel } from '../src/nn/serialize.js';
import { marginDistribution } from '../src/measures/margins.js';
import { gdvPerLayer } from '../src/measures/gdv.js';
import { marginMeasures } from '../src/measures/population.js';
import { empiricalNtk } from '../src/measures/ntk.js';
import { gramSpectrum } from '../src/measures/gram.js';
import { train } from '../src/train/train.js';
import { pathNorm } from '../src/measures/norms.js';
import { filterNormalizedDirection, lossSurface, snapshot } from '../src/measures/landscape.js';
import { crossEntropy } from '../src/nn/functional.js';
import { evalMode } from '../src/nn/module.js';
import { cliRunner } from './cli-run.js';
import { PYTHON, pythonUnavailable } from './python.js';
import { roundOff } from './round-off.js';

ort.env.wasm.numThreads = 1;
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'onnx_models.py');
const unavailable = pythonUnavailable('torch, torchvision, numpy');
const dir = mkdtempSync(join(tmpdir(), 'dltheory-onnx-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { cli, rejects } = cliRunner();

const MODEL = join(dir, 'resnet18', 'model.onnx');
/** The same weights exported in eval mode, BatchNorm folded into the convolutions by torch. */
const FUSED = join(dir, 'resnet18_fused', 'model.onnx');
/** 16 points and labels (the model's own classes but for every fourth point), beside each other as train --data wants them. */
const X = join(dir, 'data', 'X.npy');
const Y = join(dir, 'data', 'y.npy');
/** The default probe points for resnet18 on 32×32 (docs/onnx.md): the fixture names layer2's output tap2. */
const DEFAULTS = ['input', '/model/relu/Relu_output_0', 'tap2', '/model/avgpool/GlobalAveragePool_output_0', 'logits'];

before(() => {
  if (unavailable !== null) return;
  execFileSync(PYTHON, [SCRIPT, dir, 'resnet18', 'resnet18_fused'], { stdio: ['ignore', 'ignore', 'ignore'], timeout: 600_000 });
  mkdirSync(join(dir, 'data'));
  // Labels the model mostly gets right, so that margins are defined; wrong ones so that some are dropped.
  using model = loadModel(MODEL).model;
  scope(() =>
    noGrad(() => {
      const x = tensor(Float32Array.from({ length: 16 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37 + 1)), [16, 3, 32, 32]);
      const predicted = Array.from(model.forward(x).argmax(1).toArray() as BigInt64Array, Number);
      const y = predicted.map((c, i) => (i % 4 === 3 ? (c + 1) % 10 : c));
      writeNpy(X, { dtype: 'float32', shape: x.shape, data: x.toArray() });
      writeNpy(Y, { dtype: 'int64', shape: [16], data: BigInt64Array.from(y, BigInt) });
    })
  );
});
function skipWithoutTorch(t: TestContext): boolean {
  if (unavailable === null) return false;
  t.skip(`torch and torchvision not importable: ${unavailable}`);
  return true;
}
const points = () => fromRaw(readNpy(X));
const labels = () => fromRaw(readNpy(Y));

/** Asserts |a − b| ≤ tol·max(1, |b|) for two numbers or two nulls (JSON's NaN). */
function close(what: string, a: number | null, b: number, tol: number): void {
  if (Number.isNaN(b)) assert.equal(a, null, `${what}: null expected`);
  else assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs the library's ${b}`);
}

test('margins --model resnet18.onnx: the default probe points, and the library’s numbers', (t) => {
  if (skipWithoutTorch(t)) return;
  const r = cli('margins', '--model', MODEL, '--input', X, '--labels', Y, '--dtype', 'float64', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { n: number;
    probes: { name: string; totalVariation: number; droppedFraction: number; signature: Record<string, number | null> }[] };
  assert.deepEqual(out.probes.map((p) => p.name), DEFAULTS);
  using model = loadModel(MODEL).model.to('float64');
  using x = points(), y = labels();
  const lib = marginDistribution(model, x, y);
  assert.equal(out.n, 16);
  // Float64 through 20 layers summed in other orders: a few hundred units of round-off.
  const tol = roundOff('float64', 1e4);
  // gap predict's features (marginMeasures) read the first and last stage, not the first and last node.
  const features = marginMeasures(model, x, y);
  for (const [slot, l] of [['first', 1], ['last', 3]] as const)
    close(`margin.${slot}.log_median`, features[`margin.${slot}.log_median`], lib.probes[l].logSignature.median, tol);
  lib.probes.forEach((p, l) => {
    assert.equal(out.probes[l].droppedFraction, 0.25, `${p.name}: every fourth label is wrong`);
    close(`${p.name} total variation`, out.probes[l].totalVariation, p.totalVariation, tol);
    for (const [k, v] of Object.entries(p.signature)) close(`${p.name} ${k}`, out.probes[l].signature[k], v, tol);
  });
});

test('gdv --model resnet18.onnx: GDV at the default probe points as the library gives it; --probes chooses', (t) => {
  if (skipWithoutTorch(t)) return;
  const r = cli('gdv', '--model', MODEL, '--input', X, '--labels', Y, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { probe: string; gdv: number; dims: number; classes: number }[];
  assert.deepEqual(out.map((p) => p.probe), DEFAULTS);
  using model = loadModel(MODEL).model;
  using x = points(), y = labels();
  const lib = gdvPerLayer(model, x, y);
  // Float32 activations, distances summed over up to 16,384 dimensions in float64.
  lib.forEach((p, l) => {
    assert.equal(out[l].dims, p.dims);
    close(`${p.probe} GDV`, out[l].gdv, p.gdv, roundOff('float32', 64));
  });
  assert.deepEqual(out.map((p) => p.dims), [3072, 64 * 16 * 16, 128 * 4 * 4, 512, 10]);
  const one = cli('gdv', '--model', MODEL, '--input', X, '--labels', Y, '--probes', 'tap1', '--json');
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout).map((p: { probe: string; dims: number }) => [p.probe, p.dims]), [['tap1', 64 * 8 * 8]]);
});

test('gram --model resnet18.onnx: per-sample gradients, the library’s empiricalNtk', (t) => {
  if (skipWithoutTorch(t)) return;
  // Two points: the Jacobian is [20, 11.2 M] float64 (1.8 GB), taken in two sweeps of 10 backward passes a point.
  const input = join(dir, 'x2.npy');
  const out = join(dir, 'ntk.npy');
  using x = scope(() => points().narrow(0, 0, 2).contiguous());
  writeNpy(input, { dtype: 'float32', shape: x.shape, data: x.toArray() });
  const r = cli('gram', '--model', MODEL, '--input', input, '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.method, 'per-sample');
  assert.equal(summary.n, 2);
  using model = loadModel(MODEL).model.to('float64');
  const lib = empiricalNtk(model, x.double());
  using ntk = lib.ntk;
  const theirs = readNpy(out).data as Float64Array;
  const ours = ntk.toArray() as Float64Array;
  const scale = Math.max(...ours.map(Math.abs));
  // Sums of 11.2 M products in other orders.
  ours.forEach((v, i) => assert.ok(Math.abs(theirs[i] - v) <= roundOff('float64', 1e4, scale), `Θ̂ entry ${i}: ${theirs[i]} vs ${v}`));
  const spectrum = gramSpectrum(ntk);
  close('λ_min', summary.lambdaMin, spectrum.lambdaMin, roundOff('float64', 1e4));
  close('λ_max', summary.lambdaMax, spectrum.lambdaMax, roundOff('float64', 1e4));
});

test('train --model resnet18.onnx: fine-tunes the graph, records an ONNX run, writes out.onnx that predict and onnxruntime-web run alike', async (t) => {
  if (skipWithoutTorch(t)) return;
  // Full-batch gradient descent (13 training points, 3 test: a fifth), so that the loss of epoch 2 is the loss after one small step.
  const options = ['--optimizer', 'sgd', '--momentum', '0', '--lr', '0.01', '--batch', '16', '--epochs', '2', '--seed', '0'];
  const saved = join(dir, 'out.onnx');
  const runs = join(dir, 'runs');
  const r = cli('train', '--model', MODEL, '--data', X, ...options, '--save', saved, '--runs', runs, '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const [e1, e2] = lines.filter((l) => l.event === 'epoch');
  assert.ok(e2.trainLoss < e1.trainLoss, `the loss falls: ${e1.trainLoss} then ${e2.trainLoss}`);
  const { runId } = lines.at(-1);
  assert.ok(existsSync(join(runs, 'weights', `${runId}.onnx`)), 'the run store keeps the weights as ONNX');
  const { run } = JSON.parse(cli('runs', 'show', runId, '--runs', runs, '--json').stdout);
  assert.equal(run.spec, MODEL);
  assert.equal(run.hparams.from, MODEL);

  // The same training in this process.
  using model = loadModel(MODEL).model;
  using before = loadModel(MODEL).model;
  const splits = loadData({ name: X, seed: 0 });
  using _train = splits.train, _test = splits.test;
  train(model, splits.train, splits.test, { epochs: 2, batchSize: 16, lr: 0.01, optimizer: 'sgd', momentum: 0, seed: 0 });
  using trained = loadModel(saved).model;
  const old = before.stateDict();
  for (const [name, w] of trained.stateDict()) {
    const moved = scope(() => noGrad(() => w.sub(old.get(name)!).abs().amax().item()));
    // Every parameter gets a gradient; num_batches_tracked-like integer buffers are not in an ONNX file.
    assert.ok(moved > 0, `${name} changed in training`);
  }

  const logits = join(dir, 'trained-logits.npy');
  assert.equal(cli('predict', '--model', saved, '--input', X, '--out', logits).code, 0);
  const cliLogits = readNpy(logits).data as Float32Array;
  using x = points();
  const ours = scope(() => noGrad(() => model.eval().forward(x).toArray() as Float32Array));
  const scale = Math.max(...ours.map(Math.abs));
  // Two training steps on one thread and on several: float32 round-off, grown through two updates of 62 layers.
  ours.forEach((v, i) => assert.ok(Math.abs(cliLogits[i] - v) <= roundOff('float32', 1e3, scale), `logit ${i}: predict ${cliLogits[i]} vs ${v}`));

  const session = await ort.InferenceSession.create(readFileSync(saved));
  const raw = readNpy(X);
  const theirs = (await session.run({ x: new ort.Tensor('float32', raw.data as Float32Array, raw.shape) })).logits.data as Float32Array;
  theirs.forEach((v, i) =>
    assert.ok(Math.abs(cliLogits[i] - v) <= roundOff('float32', 128, scale), `logit ${i}: dltheory ${cliLogits[i]} vs onnxruntime ${v}`)
  );
});

test('layers --model resnet18.onnx: shapes from the graph input, one row per node output, parameters add up', (t) => {
  if (skipWithoutTorch(t)) return;
  const r = cli('layers', '--model', MODEL, '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { inputShape: number[]; rows: { point: string; operator: string; shape: number[]; parameters: number }[]; total: number;
    unattributed: number };
  assert.deepEqual(s.inputShape, [3, 32, 32]);
  using model = loadModel(MODEL).model;
  assert.deepEqual(s.rows.map((row) => row.point), model.probePoints(), 'the output is a node output: no extra row');
  assert.deepEqual(s.rows[0], { point: 'input', operator: 'input', shape: [-1, 3, 32, 32], parameters: 0 });
  assert.deepEqual(s.rows.find((row) => row.point === 'logits'), { point: 'logits', operator: 'Gemm', shape: [-1, 10], parameters: 512 * 10 + 10 });
  // torchvision's resnet18 with 10 classes.
  assert.equal(s.total, 11_181_642);
  assert.equal(s.total, model.numParameters());
  assert.equal(s.unattributed, 0);
});

test('flatness and landscape --model resnet18.onnx: norms with BatchNorm folded as torch folds it, the library’s slice', (t) => {
  if (skipWithoutTorch(t)) return;
  const r = cli('flatness', '--model', MODEL, '--input', X, '--labels', Y, '--steps', '1', '--restarts', '1', '--no-pac-bayes', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  using model = loadModel(MODEL).model;
  using x = points(), y = labels();
  // Sharpness itself is compared with the library in flatness-cli.test.ts; here its loss at the weights is the slice's centre, below.
  assert.ok(out.sharpness.maxLoss >= out.sharpness.baseLoss);
  // BatchNorm folded as torch folds it: the same weights exported in eval mode hold W' = diag(γ/√(var + ε))·W (float32).
  assert.equal(out.frobenius.batchNormFolded, true);
  assert.equal(out.frobenius.perLayer.length, 21, '20 convolutions and the fc layer');
  using fused = loadModel(FUSED).model;
  const byTorch = scope(() => fused.parameters().filter((p) => p.ndim >= 2).map((p) => p.double().norm(2).item()));
  const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
  sorted(out.frobenius.perLayer).forEach((v, l) => close(`‖W'_${l}‖_F`, v, sorted(byTorch)[l], roundOff('float32', 64)));
  // The path norm of the folded network is the fused network's (a forward pass of squared float32 weights through 20 layers).
  close('pathNorm', out.pathNorm.value, pathNorm(fused, [3, 32, 32]).value, roundOff('float32', 1e3));
  // The input gradient runs on an imported graph too (its numbers: input-gradient.test.ts; PAC-Bayes, skipped here for time: pac-bayes.test.ts).
  assert.ok(out.inputGradient.value > 0);
  assert.deepEqual(out.undefined, ['distanceFromInit: needs the initial weights, which --model does not give', 'pacBayes: not computed (--no-pac-bayes)',
    'pacBayesMagnitude: not computed (--no-pac-bayes)']);

  const slice = cli('landscape', '--model', MODEL, '--input', X, '--labels', Y, '--steps', '3', '--range', '0.1', '--json');
  assert.equal(slice.code, 0, slice.stderr);
  const l = JSON.parse(slice.stdout);
  using _eval = evalMode(model);
  const loss = () => scope(() => noGrad(() => crossEntropy(model.forward(x), y).item()));
  const center = snapshot(model);
  const [d1, d2] = [filterNormalizedDirection(center, 1), filterNormalizedDirection(center, 2)];
  const surface = lossSurface(model, center, d1, d2, l.a, l.b, loss);
  dispose([center, d1, d2]);
  close('loss at the weights', l.loss[1][1], loss(), roundOff('float32', 1e3));
  close('sharpness.baseLoss', out.sharpness.baseLoss, l.center, roundOff('float32', 1e3));
  // Float32 through 20 layers, one thread against several.
  l.loss.forEach((row: number[], i: number) => row.forEach((v, j) => close(`loss[${i}][${j}]`, v, surface[i][j], roundOff('float32', 1e3))));
});

test('bad input: points of another shape, an .onnx file that does not exist', (t) => {
  if (skipWithoutTorch(t)) return;
  const small = join(dir, 'small.npy');
  writeNpy(small, { dtype: 'float32', shape: [4, 1, 28, 28], data: new Float32Array(4 * 28 * 28) });
  const smallLabels = join(dir, 'small-y.npy');
  writeNpy(smallLabels, { dtype: 'int64', shape: [4], data: BigInt64Array.of(0n, 0n, 1n, 1n) });
  const shapes = /small\.npy[:,] .*model\.onnx.* takes points of shape \[3,32,32\], not \[1,28,28\]/;
  rejects(['predict', '--model', MODEL, '--input', small, '--out', join(dir, 'o.npy')], shapes);
  rejects(['margins', '--model', MODEL, '--input', small, '--labels', smallLabels], shapes);
  const missing = join(dir, 'resnet19.onnx');
  // loadModel directly (predict; margins, gdv and eval alike), through openModel (layers; gram, flatness, landscape alike), and train's.
  const rest: Record<string, string[]> = {
    predict: ['--input', X, '--out', join(dir, 'o.npy')],
    layers: [],
    train: ['--data', X],
  };
  for (const [command, args] of Object.entries(rest)) rejects([command, '--model', missing, ...args], /resnet19\.onnx: cannot read: no such file/);
});
