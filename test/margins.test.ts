/**
 * Margin distributions (src/measures/margins.ts):
 * - against an independent PyTorch implementation (Debian python3-torch at /usr/bin/python3): one
 *   point at a time, torch.autograd.grad of the scalar f_y − f_j, total variation from the stacked
 *   activations, quartiles by numpy.percentile; everything in float64, signatures to 1e-4 relative
 *   (the requirement; the agreement is far closer);
 * - closed forms: a linear model's input gradient is w_y − w_j; the dropped fraction is the
 *   misclassified fraction; batch sizes 1, 7 and all agree; the statistics helpers on known arrays.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, randint, randn, scope, tensor, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { writeNpy } from '../src/data/npy.js';
import type { Module } from '../src/nn/module.js';
import { EPSILON, marginDistribution, momentsOf, signatureOf, totalSignature, type MarginResult } from '../src/measures/margins.js';

const unavailable = pythonUnavailable('torch, numpy');

/** The definition, written again in PyTorch one point at a time; prints JSON per probe point. */
const REFERENCE = String.raw`
import json, struct, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)

def read_safetensors(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {k: torch.from_numpy(np.frombuffer(data[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],
           dtype={'F32': '<f4', 'F64': '<f8'}[v['dtype']]).reshape(v['shape']).copy()) for k, v in header.items()}
    return out, meta['dltheory.model']

class MLP(nn.Module):  # probes: the flattened input, each hidden pre-activation
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
    def forward(self, x):
        h = x.flatten(1); probes = {'input': h}
        for i, layer in enumerate(self.layers[:-1]):
            z = layer(h); probes['layers.%d' % i] = z; h = F.relu(z)
        return self.layers[-1](h), probes

class CNN(nn.Module):  # probes: input, each pooled block output, fc1 pre-activation
    def __init__(self, c, side, classes, w):
        super().__init__()
        self.conv1 = nn.Conv2d(c, w, 3, padding=1); self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.fc1 = nn.Linear(2 * w * (side // 4) ** 2, 128); self.fc2 = nn.Linear(128, classes)
    def forward(self, x):
        h1 = F.max_pool2d(F.relu(self.conv1(x)), 2); h2 = F.max_pool2d(F.relu(self.conv2(h1)), 2)
        z = self.fc1(h2.flatten(1))
        return self.fc2(F.relu(z)), {'input': x, 'conv1': h1, 'conv2': h2, 'fc1': z}

state, spec = read_safetensors('model.safetensors')
kind, shape = spec.split(':')[0], spec.split(':')[1]
if kind == 'mlp':
    model = MLP([int(s) for s in shape.split('-')])
else:
    c, side, _ = [int(s) for s in shape.split('-')[0].split('x')]
    w = int([o for o in spec.split(':') if o.startswith('w=')][0][2:])
    model = CNN(c, side, int(shape.split('-')[1]), w)
model.load_state_dict(state); model.double().eval()
x = torch.from_numpy(np.load('x.npy')); y = torch.from_numpy(np.load('y.npy'))
names = sys.argv[1].split(',')
d = {p: [] for p in names}; acts = {p: [] for p in names}; diffs = []
for i in range(x.shape[0]):
    xi = x[i:i + 1].clone().requires_grad_(True)
    out, probes = model(xi)
    f = out[0]; yi = int(y[i])
    wrong = f.detach().clone(); wrong[yi] = -float('inf'); j = int(wrong.argmax())
    diff = f[yi] - f[j]
    grads = torch.autograd.grad(diff, [probes[p] for p in names])
    for p, g in zip(names, grads):
        d[p].append(diff.item() / np.sqrt(1e-6 + float((g ** 2).sum())))
        acts[p].append(probes[p].detach()[0].flatten())
    diffs.append(diff.item())
keep = np.array(diffs) > 0
result = []
for p in names:
    tv = float(torch.stack(acts[p]).var(0, unbiased=False).sum().sqrt())
    m = np.array(d[p])[keep] / tv
    q1, q2, q3 = np.percentile(m, [25, 50, 75])
    result.append({'name': p, 'tv': tv, 'dropped': float(1 - keep.mean()), 'distances': d[p],
                   'signature': [q1, q2, q3, q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)]})
print(json.dumps(result))
`;
import { PYTHON, pythonUnavailable } from './python.js';

interface Reference {
  name: string;
  tv: number;
  dropped: number;
  distances: number[];
  signature: number[];
}

/** Labels that agree with the model's prediction for about 70% of the points, so most margins are kept. */
function labelsFor(model: Module, x: Tensor, seed: number): Tensor {
  manualSeed(seed);
  return scope(() => {
    const logits = model.forward(x);
    const pred = logits.argmax(1);
    const random = randint(0, logits.size(1), [x.size(0)]);
    const coin = randint(0, 10, [x.size(0)]).lt(7);
    const p = pred.toNumbers();
    const r = random.toNumbers();
    const c = coin.toNumbers();
    return tensor(BigInt64Array.from(p, (v, i) => BigInt(c[i] ? v : r[i])), [p.length], 'int64');
  });
}

function relClose(a: number, b: number, rtol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: dltheory ${a} vs reference ${b}`);
}

const sig5 = (r: MarginResult['probes'][number]): number[] => {
  const s = r.signature;
  return [s.q1, s.median, s.q3, s.lowerFence, s.upperFence];
};

for (const [spec, shape] of [
  ['mlp:20-16-16-5', [300, 20]],
  ['cnn:1x28x28-10:w=4', [120, 1, 28, 28]],
] as const) {
  test(`${spec}: margins, total variations and signatures match a per-point PyTorch reference in float64`, (t: TestContext) => {
    if (unavailable) return t.skip(`python3-torch not installed: ${unavailable}`);
    const dir = mkdtempSync(join(tmpdir(), 'dltheory-margins-'));
    try {
      manualSeed(1);
      const model = buildModel(spec);
      saveModel(model, join(dir, 'model.safetensors'));
      model.to('float64');
      const x = randn([...shape], 'float64');
      const y = labelsFor(model, x, 2);
      writeNpy(join(dir, 'x.npy'), toRaw(x));
      writeNpy(join(dir, 'y.npy'), toRaw(y));
      const ours = marginDistribution(model, x, y, { batchSize: 64 });
      const names = model.probePoints();
      writeFileSync(join(dir, 'ref.py'), REFERENCE);
      const r = spawnSync(PYTHON, ['ref.py', names.join(',')], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const ref = JSON.parse(r.stdout) as Reference[];
      assert.deepEqual(ours.probes.map((p) => p.name), ref.map((p) => p.name));
      let worst = 0;
      ours.probes.forEach((p, l) => {
        const q = ref[l];
        relClose(p.totalVariation, q.tv, 1e-10, `${p.name} total variation`);
        assert.equal(p.droppedFraction, q.dropped, `${p.name} dropped fraction`);
        assert.ok(p.droppedFraction > 0 && p.droppedFraction < 0.6, `some points dropped, most kept: ${p.droppedFraction}`);
        p.distances.forEach((v, i) => relClose(v, q.distances[i], 1e-9, `${p.name} margin of point ${i}`));
        sig5(p).forEach((v, k) => {
          relClose(v, q.signature[k], 1e-4, `${p.name} signature[${k}]`);
          worst = Math.max(worst, Math.abs(v - q.signature[k]) / Math.abs(q.signature[k]));
        });
      });
      t.diagnostic(`worst relative signature difference: ${worst.toExponential(2)}`);
      model.dispose();
      x.dispose();
      y.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a linear model: d = (f_y − f_j) / sqrt(ε + ‖w_y − w_j‖²) at the input, exactly', () => {
  manualSeed(3);
  const model = buildModel('mlp:12-4').to('float64');
  const x = randn([40, 12], 'float64');
  const y = randint(0, 4, [40]);
  const r = marginDistribution(model, x, y, { batchSize: 16 });
  const [W, b] = model.parameters().map((p) => p.toArray() as Float64Array);
  const X = x.toArray() as Float64Array;
  const Y = y.toNumbers();
  const mean = new Float64Array(12);
  for (let i = 0; i < 40; i++) for (let u = 0; u < 12; u++) mean[u] += X[i * 12 + u] / 40;
  let variance = 0;
  for (let i = 0; i < 40; i++) for (let u = 0; u < 12; u++) variance += (X[i * 12 + u] - mean[u]) ** 2 / 40;
  const p = r.probes[0];
  assert.equal(p.name, 'input');
  relClose(p.totalVariation, Math.sqrt(variance), 1e-12, 'total variation');
  let wrong = 0;
  for (let i = 0; i < 40; i++) {
    const f = [0, 1, 2, 3].map((k) => b[k] + X.subarray(i * 12, i * 12 + 12).reduce((a, v, u) => a + v * W[k * 12 + u], 0));
    const j = [0, 1, 2, 3].filter((k) => k !== Y[i]).reduce((best, k) => (f[k] > f[best] ? k : best), Y[i] === 0 ? 1 : 0);
    const dw = W.subarray(Y[i] * 12, Y[i] * 12 + 12).reduce((a, v, u) => a + (v - W[j * 12 + u]) ** 2, 0);
    relClose(p.distances[i], (f[Y[i]] - f[j]) / Math.sqrt(EPSILON + dw), 1e-12, `margin of point ${i}`);
    if (f.indexOf(Math.max(...f)) !== Y[i]) wrong++;
  }
  // The dropped fraction is the misclassified fraction (random labels: most points).
  assert.ok(wrong > 0);
  assert.equal(p.droppedFraction, wrong / 40);
  assert.equal(p.margins.length, 40 - wrong);
  model.dispose();
  x.dispose();
  y.dispose();
});

test('streaming: batch sizes 1, 7 and all give the same result; limit, sample, eval mode and memory', () => {
  manualSeed(4);
  const model = buildModel('cnn:1x28x28-10:w=4:bn:dropout=0.5').to('float64');
  const x = randn([30, 1, 28, 28], 'float64');
  const y = labelsFor(model.eval(), x, 5);
  model.train();
  const state = () => [...model.stateDict().values()].map((t) => Array.from(t.toArray() as ArrayLike<number | bigint>, Number));
  const stateBefore = state();
  const before = liveTensors();
  const [one, seven, all] = [1, 7, 30].map((batchSize) => marginDistribution(model, x, y, { batchSize }));
  assert.equal(liveTensors(), before, 'no tensor outlives the measurement');
  assert.equal(model.training, true, "the caller's mode is restored");
  assert.deepEqual(state(), stateBefore, 'BatchNorm running statistics untouched (eval mode throughout)');
  for (const other of [seven, all]) {
    other.logitMargin.forEach((v, i) => relClose(v, one.logitMargin[i], 1e-12, `f_y − f_j of point ${i}`));
    other.probes.forEach((p, l) => {
      const q = one.probes[l];
      relClose(p.totalVariation, q.totalVariation, 1e-12, `${p.name} TV`);
      p.distances.forEach((v, i) => relClose(v, q.distances[i], 1e-12, `${p.name} margin ${i}`));
      sig5(p).forEach((v, k) => relClose(v, sig5(q)[k], 1e-12, `${p.name} signature[${k}]`));
    });
  }
  const first = marginDistribution(model, x, y, { batchSize: 7, limit: 10 });
  assert.deepEqual(Array.from(first.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  first.probes.forEach((p, l) => p.distances.forEach((v, i) => relClose(v, one.probes[l].distances[i], 1e-12, 'limit')));
  const sample = marginDistribution(model, x, y, { sample: { n: 12, seed: 9 }, probes: ['conv2'] });
  assert.equal(sample.index.length, 12);
  assert.ok(sample.index.every((v, i) => i === 0 || v > sample.index[i - 1]), 'sampled points in input order');
  sample.index.forEach((at, i) => relClose(sample.probes[0].distances[i], one.probes[2].distances[at], 1e-12, 'sample'));
  assert.throws(() => marginDistribution(model, x, y, { probes: ['nope'] }), /no probe point 'nope'/);
  assert.throws(() => marginDistribution(model, x, scope(() => y.add(10)), {}), /outside the model's 10 classes/);
  model.dispose();
  x.dispose();
  y.dispose();
});

test('signature, log signature with clamped fences, moments and the total signature', () => {
  // numpy.percentile([1, 2, 3, 4, 100], [25, 50, 75]) = 2, 3, 4; fences −1 and 7.
  const { signature, logSignature } = signatureOf(Float64Array.from([100, 3, 1, 4, 2]));
  assert.deepEqual(signature, { q1: 2, median: 3, q3: 4, lowerFence: -1, upperFence: 7 });
  assert.deepEqual(logSignature, { q1: Math.log(2), median: Math.log(3), q3: Math.log(4), lowerFence: 0, upperFence: Math.log(7) });
  // numpy.percentile([1, 2, 4, 8], [25, 50, 75]) = 1.75, 3, 5; upper fence 9.875 lies beyond the data → 8.
  const b = signatureOf(Float64Array.from([1, 2, 4, 8]));
  assert.deepEqual([b.signature.q1, b.signature.median, b.signature.q3], [1.75, 3, 5]);
  assert.equal(b.logSignature.upperFence, Math.log(8));
  assert.equal(b.logSignature.lowerFence, Math.log(1));
  const { moments: m, undefined: none } = momentsOf(Float64Array.from([1, 2, 3, 4]));
  assert.deepEqual(none, []);
  assert.equal(m.mean, 2.5);
  relClose(m.std, Math.sqrt(1.25), 1e-15, 'std');
  assert.equal(m.skewness, 0);
  relClose(m.kurtosis, 2.5625 / 1.5625, 1e-15, 'kurtosis');
  assert.ok(Number.isNaN(signatureOf(new Float64Array(0)).signature.median));

  manualSeed(6);
  const model = buildModel('mlp:10-8-8-3');
  const x = randn([50, 10]);
  const r = marginDistribution(model, x, labelsFor(model, x, 7));
  const quartiles = totalSignature(r);
  assert.equal(quartiles.values.length, 3 * 5);
  assert.deepEqual(quartiles.names.slice(0, 5), ['input.log_q1', 'input.log_median', 'input.log_q3', 'input.log_lowerFence', 'input.log_upperFence']);
  assert.ok(quartiles.values.every(Number.isFinite));
  const moments = totalSignature(r, 'moments');
  assert.deepEqual(moments.names.slice(4, 8), ['layers.0.log_mean', 'layers.0.log_std', 'layers.0.skewness', 'layers.0.log_kurtosis']);
  model.dispose();
  x.dispose();
});
