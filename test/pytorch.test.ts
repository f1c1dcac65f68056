/**
 * dltheory against PyTorch itself (Debian's python3-torch at /usr/bin/python3; `python3` on PATH
 * may be another interpreter without torch). Data goes both ways through NPY files in a temp dir;
 * model weights through the safetensors files dltheory writes, which the inline Python parses with
 * struct/json/numpy only (no `safetensors` package).
 *
 * - ops: forward values and gradients of Σ op(x)·w in float64, to 1e-6;
 * - whole models (float32, as dltheory models are): logits, every parameter gradient of the
 *   cross-entropy loss, and the BatchNorm running statistics after a training-mode forward;
 * - the stated requirement: `saveModel` files of mlp:784-64-32-10 and cnn:1x28x28-10 load into the
 *   equal PyTorch modules and give the same logits to 1e-5.
 *
 * Without an importable torch each test is skipped, saying why.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Tensor, cat, grad, linalg, manualSeed, rand, randint, randn, scope, tensor, where } from '../src/engine/index.js';
import * as F from '../src/nn/functional.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw, fromRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';

const unavailable = pythonUnavailable('torch, numpy');

/** Skips the test (returning true) when torch is not importable. */
function skipWithoutTorch(t: TestContext): boolean {
  if (unavailable === null) return false;
  t.skip(`python3-torch not installed: ${unavailable}`);
  return true;
}

/** Shared Python: NPY helpers, a safetensors reader, and the dltheory architectures in torch.nn. */
const PRELUDE = String.raw`
import json, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(1)

def load(name):
    return torch.from_numpy(np.load(name))

def save(name, t):
    np.save(name, t.detach().contiguous().numpy())

def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    kinds = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'BOOL': '|b1'}
    tensors = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        raw = data[8 + n + start:8 + n + end]
        arr = np.frombuffer(raw, dtype=kinds[info['dtype']]).reshape(info['shape']).copy()
        tensors[name] = torch.from_numpy(arr)
    return tensors, meta

ACT = {'relu': F.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'softplus': F.softplus,
       'leaky_relu': lambda x: F.leaky_relu(x, 0.2)}

class MLP(nn.Module):
    def __init__(self, sizes, act='relu'):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.act = ACT[act]
    def forward(self, x):
        h = x.flatten(1)
        for layer in self.layers[:-1]:
            h = self.act(layer(h))
        return self.layers[-1](h)

class CNN(nn.Module):
    def __init__(self, c, side, classes, w=32, bn=False):
        super().__init__()
        self.conv1 = nn.Conv2d(c, w, 3, padding=1)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        if bn:
            self.bn1 = nn.BatchNorm2d(w)
            self.bn2 = nn.BatchNorm2d(2 * w)
        self.bn = bn
        s = side // 2 // 2
        self.fc1 = nn.Linear(2 * w * s * s, 128)
        self.fc2 = nn.Linear(128, classes)
    def forward(self, x):
        z = self.conv1(x)
        h = F.max_pool2d(F.relu(self.bn1(z) if self.bn else z), 2)
        z = self.conv2(h)
        h = F.max_pool2d(F.relu(self.bn2(z) if self.bn else z), 2)
        return self.fc2(F.relu(self.fc1(h.flatten(1))))

class Block(nn.Module):
    def __init__(self, i, o, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.shortcut = nn.Sequential(nn.Conv2d(i, o, 1, stride=stride, bias=False), nn.BatchNorm2d(o)) \
            if stride != 1 or i != o else None
    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(h))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))

class ResNet(nn.Module):
    def __init__(self, c, classes, w=16):
        super().__init__()
        self.stem = nn.Conv2d(c, w, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(w)
        self.stage1 = Block(w, w, 1)
        self.stage2 = Block(w, 2 * w, 2)
        self.stage3 = Block(2 * w, 4 * w, 2)
        self.fc = nn.Linear(4 * w, classes)
    def forward(self, x):
        h = F.relu(self.bn(self.stem(x)))
        h = self.stage3(self.stage2(self.stage1(h)))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))

class NiNBlock(nn.Module):
    def __init__(self, i, w, bn):
        super().__init__()
        self.conv0 = nn.Conv2d(i, w, 3, stride=2, padding=1)
        self.conv1 = nn.Conv2d(w, w, 1)
        self.conv2 = nn.Conv2d(w, w, 1)
        if bn:
            self.bn0, self.bn1, self.bn2 = nn.BatchNorm2d(w), nn.BatchNorm2d(w), nn.BatchNorm2d(w)
        self.bn = bn
    def forward(self, x):
        for k in range(3):
            z = getattr(self, f'conv{k}')(x)
            x = F.relu(getattr(self, f'bn{k}')(z) if self.bn else z)
        return x

class NiN(nn.Module):
    def __init__(self, c, side, classes, w, d, bn=False):
        super().__init__()
        self.blocks = nn.ModuleList([NiNBlock(c if b == 0 else w, w, bn) for b in range(d)])
        for _ in range(d):
            side = (side + 1) // 2
        self.head = nn.Linear(w * side * side, classes)
    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x.flatten(1))

class ResMLP(nn.Module):
    # Du et al.'s ResNet with ReLU (c_sigma = 2) and c_res = 0.5.
    def __init__(self, i, m, depth, o):
        super().__init__()
        self.stem = nn.Linear(i, m, bias=False)
        self.blocks = nn.ModuleList([nn.Linear(m, m, bias=False) for _ in range(depth - 1)])
        self.output = nn.Linear(m, o, bias=False)
        self.m, self.depth = m, depth
    def forward(self, x):
        h = F.relu(self.stem(x.flatten(1))) * (2.0 / self.m) ** 0.5
        for b in self.blocks:
            h = h + F.relu(b(h)) * (0.5 / (self.depth * self.m ** 0.5))
        return self.output(h)
`;
import { PYTHON, pythonUnavailable } from './python.js';
import { roundOff } from './round-off.js';

/** Runs PRELUDE + body with cwd = dir; throws with Python's stderr on failure. */
function python(dir: string, body: string): string {
  const script = join(dir, 'check.py');
  writeFileSync(script, `${PRELUDE}\n${body}\n`);
  const r = spawnSync(PYTHON, [script], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed (${r.signal ?? r.status}):\n${r.stderr}`);
  return r.stdout;
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-pytorch-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const put = (dir: string, name: string, t: Tensor): void => writeNpy(join(dir, name), toRaw(t));
const get = (dir: string, name: string): Tensor => fromRaw(readNpy(join(dir, name)));

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise (b is PyTorch's) and equal shapes; returns the max error. */
function compare(ours: Tensor, theirs: Tensor, what: string, atol: number, rtol: number): number {
  assert.deepEqual(ours.shape, theirs.shape, `${what}: shape`);
  const a = ours.double().toArray() as Float64Array;
  const b = theirs.double().toArray() as Float64Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, err);
    assert.ok(err <= atol + rtol * Math.abs(b[i]), `${what}[${i}]: dltheory ${a[i]} vs PyTorch ${b[i]}`);
  }
  return worst;
}

// ---------------------------------------------------------------- ops in float64
interface OpCase {
  name: string;
  /** Inputs; float64 ones are differentiated, int64/bool ones are data. */
  inputs: () => Tensor[];
  ours: (...x: Tensor[]) => Tensor;
  /** The same op in PyTorch, over x[0], x[1], … */
  py: string;
}
const D = 'float64' as const;
const r = (shape: number[]): Tensor => randn(shape, D);
const u = (shape: number[], lo: number, hi: number): Tensor => scope(() => rand(shape, D).mul(hi - lo).add(lo));
const T64 = 'dtype=torch.float64';

const OPS: OpCase[] = [
  { name: 'matmul (batched broadcast)', inputs: () => [r([2, 3, 4]), r([4, 5])], ours: (a, b) => a.matmul(b), py: 'x[0] @ x[1]' },
  { name: 'pow, atan2 and where', inputs: () => [u([6], 0.5, 2), r([6])], ours: (a, b) => where(b.gt(0), a.pow(b), a.atan2(b)),
    py: 'torch.where(x[1] > 0, x[0] ** x[1], torch.atan2(x[0], x[1]))' },
  { name: 'var, std, logsumexp, norm', inputs: () => [r([3, 5])],
    ours: (a) => cat([a.var(1), a.std(0, { correction: 0 }), a.logsumexp(1), a.norm(3, 1).reshape([3])]),
    py: 'torch.cat([x[0].var(1), x[0].std(0, unbiased=False), x[0].logsumexp(1), torch.linalg.vector_norm(x[0], 3, dim=1)])' },
  { name: 'sort, topk, cumsum, quantile', inputs: () => [r([3, 6])],
    ours: (a) =>
      cat([a.sort(1, true).values.flatten(), a.topk(2, 0).values.flatten(), a.cumsum(1).flatten(),
        a.quantile(tensor(Float64Array.from([0.2, 0.9])), 1).flatten()]),
    py:
      `torch.cat([x[0].sort(1, descending=True).values.flatten(), x[0].topk(2, 0).values.flatten(), x[0].cumsum(1).flatten(), torch.quantile(x[0], torch.tensor([0.2, 0.9], ${T64}), dim=1).flatten()])` },
  { name: 'activations', inputs: () => [r([4, 5])],
    ours: (a) => cat([F.gelu(a), F.elu(a, 0.7), F.softplus(a, 2, 1), F.leakyRelu(a, 0.1), F.softmax(a, 0), F.logSoftmax(a, 1), a.sigmoid()]),
    py:
      'torch.cat([F.gelu(x[0]), F.elu(x[0], 0.7), F.softplus(x[0], 2, 1), F.leaky_relu(x[0], 0.1), F.softmax(x[0], 0), F.log_softmax(x[0], 1), torch.sigmoid(x[0])])' },
  { name: 'conv2d (stride, padding, groups, dilation)', inputs: () => [r([2, 4, 6, 5]), r([6, 2, 3, 2]), r([6])],
    ours: (x, w, b) => F.conv2d(x, w, b, { stride: [2, 1], padding: 1, groups: 2, dilation: [1, 2] }),
    py: 'F.conv2d(x[0], x[1], x[2], stride=(2, 1), padding=1, groups=2, dilation=(1, 2))' },
  { name: 'conv3d', inputs: () => [r([1, 2, 4, 4, 3]), r([3, 2, 2, 2, 2]), r([3])], ours: (x, w, b) => F.conv3d(x, w, b, { stride: 2, padding: [1, 0, 1] }),
    py: 'F.conv3d(x[0], x[1], x[2], stride=2, padding=(1, 0, 1))' },
  { name: 'convTranspose2d and convTranspose3d', inputs: () => [r([1, 2, 3, 3]), r([2, 3, 3, 3]), r([1, 2, 2, 2, 2]), r([2, 1, 2, 2, 2])],
    ours: (x, w, y, v) =>
      cat([F.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }).flatten(), F.convTranspose3d(y, v, null, { stride: 2 }).flatten()]),
    py: 'torch.cat([F.conv_transpose2d(x[0], x[1], stride=2, padding=1, output_padding=1).flatten(), F.conv_transpose3d(x[2], x[3], stride=2).flatten()])' },
  { name: 'pooling 2-d and 3-d, adaptive', inputs: () => [r([1, 2, 6, 6]), r([1, 1, 4, 4, 4])],
    ours: (a, b) =>
      cat([F.maxPool2d(a, 3, { stride: 2, padding: 1 }).flatten(), F.avgPool2d(a, 2, { padding: 1, countIncludePad: false }).flatten(),
        F.adaptiveAvgPool2d(a, [4, 3]).flatten(), F.maxPool3d(b, 2).flatten(), F.avgPool3d(b, 3, { stride: 1 }).flatten(),
        F.adaptiveAvgPool3d(b, 3).flatten()]),
    py:
      'torch.cat([F.max_pool2d(x[0], 3, 2, 1).flatten(), F.avg_pool2d(x[0], 2, padding=1, count_include_pad=False).flatten(), F.adaptive_avg_pool2d(x[0], (4, 3)).flatten(), F.max_pool3d(x[1], 2).flatten(), F.avg_pool3d(x[1], 3, stride=1).flatten(), F.adaptive_avg_pool3d(x[1], 3).flatten()])' },
  { name: 'batchNorm (training), instanceNorm, groupNorm, layerNorm', inputs: () => [r([4, 3, 2, 2]), r([3]), r([3])],
    ours: (x, w, b) =>
      cat([F.batchNorm(x, true, { weight: w, bias: b }).flatten(), F.instanceNorm(x, { weight: w, bias: b }).flatten(),
        F.groupNorm(x.reshape([2, 6, 2, 2]), 3).flatten(), F.layerNorm(x, [2, 2]).flatten()]),
    py:
      'torch.cat([F.batch_norm(x[0], None, None, x[1], x[2], True).flatten(), F.instance_norm(x[0], weight=x[1], bias=x[2]).flatten(), F.group_norm(x[0].reshape(2, 6, 2, 2), 3).flatten(), F.layer_norm(x[0], (2, 2)).flatten()])' },
  { name: 'losses', inputs: () => [r([5, 4]), randint(0, 4, [5]), u([5, 4], 0.05, 0.95), rand([5, 4], D)],
    ours: (z, y, p, t) =>
      cat([F.crossEntropy(z, y, 'mean', 0.15).reshape([1]), F.crossEntropy(z, y, 'none'), F.nllLoss(F.logSoftmax(z, 1), y, 'sum').reshape([1]),
        F.mseLoss(z, t, 'none').flatten(), F.binaryCrossEntropy(p, t).reshape([1]), F.binaryCrossEntropyWithLogits(z, t, 'none').flatten()]),
    py:
      "torch.cat([F.cross_entropy(x[0], x[1], label_smoothing=0.15).reshape(1), F.cross_entropy(x[0], x[1], reduction='none'), F.nll_loss(F.log_softmax(x[0], 1), x[1], reduction='sum').reshape(1), F.mse_loss(x[0], x[3], reduction='none').flatten(), F.binary_cross_entropy(x[2], x[3]).reshape(1), F.binary_cross_entropy_with_logits(x[0], x[3], reduction='none').flatten()])" },
  { name: 'affineGrid, gridSample, upsampleTrilinear, pad',
    inputs:
      () => [r([1, 2, 4, 5]), scope(() => tensor(Float64Array.from([0.9, 0.2, 0.1, -0.1, 1.1, 0.05]), [1, 2, 3]).add(u([1, 2, 3], -0.1, 0.1))),
        r([1, 1, 2, 3, 2])],
    ours: (x, theta, v) =>
      cat([F.gridSample(x, F.affineGrid(theta, [1, 2, 3, 4])).flatten(),
        F.gridSample(x, F.affineGrid(theta, [1, 2, 3, 3], true), { padding: 'border', alignCorners: true }).flatten(),
        F.upsampleTrilinear(v, [3, 4, 3]).flatten(), F.pad(v, [1, 0, 0, 2], 0.5).flatten()]),
    py:
      "torch.cat([F.grid_sample(x[0], F.affine_grid(x[1], [1, 2, 3, 4], align_corners=False), align_corners=False).flatten(), F.grid_sample(x[0], F.affine_grid(x[1], [1, 2, 3, 3], align_corners=True), padding_mode='border', align_corners=True).flatten(), F.interpolate(x[2], size=(3, 4, 3), mode='trilinear', align_corners=False).flatten(), F.pad(x[2], (1, 0, 0, 2), value=0.5).flatten()])" },
  { name: 'linalg', inputs: () => [r([3, 3]), r([3, 2]), r([4, 3])], ours: (a, b, c) =>
    scope(() => {
      const spd = a.matmul(a.t()).add(tensor(Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), [3, 3]));
      return cat([linalg.eigvalsh(a.add(a.t())), linalg.svdvals(c), linalg.solve(spd, b).flatten(), linalg.inv(spd).flatten(), linalg.det(a).reshape([1]),
        linalg.cholesky(spd).flatten(), linalg.matrixNorm(c, 'fro').reshape([1]), linalg.matrixNorm(c, 2).reshape([1]),
        linalg.matrixNorm(c, 'nuc').reshape([1])]);
    }),
    py:
      `(lambda spd: torch.cat([torch.linalg.eigvalsh(x[0] + x[0].T), torch.linalg.svdvals(x[2]), torch.linalg.solve(spd, x[1]).flatten(), torch.linalg.inv(spd).flatten(), torch.linalg.det(x[0]).reshape(1), torch.linalg.cholesky(spd).flatten(), torch.linalg.matrix_norm(x[2], 'fro').reshape(1), torch.linalg.matrix_norm(x[2], 2).reshape(1), torch.linalg.matrix_norm(x[2], 'nuc').reshape(1)]))(x[0] @ x[0].T + torch.eye(3, ${T64}))` },
];

test('ops in float64: forward values and gradients match PyTorch to 1e-6', (t) => {
  if (skipWithoutTorch(t)) return;
  withTempDir((dir) =>
    scope(() => {
      manualSeed(99);
      const expected: { out: Tensor; grads: Tensor[] }[] = [];
      const spec: { expr: string; n: number }[] = [];
      OPS.forEach((op, i) => {
        const xs = op.inputs();
        xs.forEach((x, j) => put(dir, `op${i}_x${j}.npy`, x));
        const leaves = xs.map((x) => (x.dtype === 'float64' ? x.detach().requiresGrad_() : x));
        const out = op.ours(...leaves);
        const w = randn(out.shape, D);
        put(dir, `op${i}_w.npy`, w);
        const diff = leaves.filter((x) => x.dtype === 'float64');
        const grads = grad(out.mul(w).sum(), diff, { allowUnused: true }).map((g, k) => g ?? diff[k].mul(0));
        expected.push({ out, grads });
        spec.push({ expr: op.py, n: xs.length });
      });
      writeFileSync(join(dir, 'ops.json'), JSON.stringify(spec));
      python(dir, String.raw`
for i, op in enumerate(json.load(open('ops.json'))):
    x = [load(f'op{i}_x{j}.npy') for j in range(op['n'])]
    for v in x:
        if v.dtype == torch.float64:
            v.requires_grad_(True)
    out = eval(op['expr'])
    save(f'op{i}_out.npy', out)
    diff = [v for v in x if v.requires_grad]
    grads = torch.autograd.grad((out * load(f'op{i}_w.npy')).sum(), diff, allow_unused=True)
    for k, g in enumerate(grads):
        save(f'op{i}_g{k}.npy', g if g is not None else torch.zeros_like(diff[k]))
`);
      let worst = 0;
      OPS.forEach((op, i) => {
        worst = Math.max(worst, compare(expected[i].out, get(dir, `op${i}_out.npy`), `${op.name}: forward`, 1e-6, 1e-6));
        expected[i].grads.forEach((g, k) => {
          worst = Math.max(worst, compare(g, get(dir, `op${i}_g${k}.npy`), `${op.name}: gradient of input ${k}`, 1e-6, 1e-6));
        });
      });
      t.diagnostic(`${OPS.length} op groups; largest difference ${worst.toExponential(2)}`);
    })
  );
});

// ---------------------------------------------------------------- whole models (float32)
interface ModelCase {
  spec: string;
  /** The equal torch module. */
  py: string;
  input: number[];
}
const MODELS: ModelCase[] = [
  { spec: 'mlp:20-16-8-3', py: 'MLP([20, 16, 8, 3])', input: [6, 20] },
  { spec: 'mlp:12-10-4:tanh', py: "MLP([12, 10, 4], 'tanh')", input: [5, 12] },
  { spec: 'cnn:1x12x12-4:w=4', py: 'CNN(1, 12, 4, w=4)', input: [3, 1, 12, 12] },
  { spec: 'cnn:3x8x8-5:w=3:bn', py: 'CNN(3, 8, 5, w=3, bn=True)', input: [4, 3, 8, 8] },
  { spec: 'resnet:3x8x8-5:w=4', py: 'ResNet(3, 5, w=4)', input: [4, 3, 8, 8] },
  { spec: 'nin:1x9x9-3:w=4:d=2', py: 'NiN(1, 9, 3, 4, 2)', input: [3, 1, 9, 9] },
  { spec: 'nin:3x8x8-5:w=3:d=3:bn', py: 'NiN(3, 8, 5, 3, 3, bn=True)', input: [4, 3, 8, 8] },
  { spec: 'resmlp:6-8-3-2', py: 'ResMLP(6, 8, 3, 2)', input: [5, 6] },
];

test('whole models in training mode: logits, parameter gradients and BatchNorm statistics match PyTorch', (t) => {
  if (skipWithoutTorch(t)) return;
  withTempDir((dir) =>
    scope(() => {
      const ours: { logits: Tensor; grads: Map<string, Tensor>; state: Map<string, Tensor> }[] = [];
      MODELS.forEach((m, i) => {
        manualSeed(100 + i);
        const model = buildModel(m.spec);
        saveModel(model, join(dir, `m${i}.safetensors`));
        const x = randn(m.input);
        const y = randint(0, Number(m.spec.split('-').pop()!.split(':')[0]), [m.input[0]]);
        put(dir, `m${i}_x.npy`, x);
        put(dir, `m${i}_y.npy`, y);
        const logits = model.train().forward(x);
        F.crossEntropy(logits, y).backward();
        const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!]));
        const state = new Map([...model.namedBuffers()].map(([n, b]) => [n, b.clone()]));
        ours.push({ logits: logits.detach(), grads, state });
        model.dispose();
      });
      writeFileSync(join(dir, 'models.json'), JSON.stringify(MODELS.map((m) => m.py)));
      python(dir, String.raw`
for i, ctor in enumerate(json.load(open('models.json'))):
    model = eval(ctor)
    state, meta = read_safetensors(f'm{i}.safetensors')
    model.load_state_dict(state, strict=True)
    model.train()
    logits = model(load(f'm{i}_x.npy'))
    F.cross_entropy(logits, load(f'm{i}_y.npy')).backward()
    save(f'm{i}_logits.npy', logits)
    for name, p in model.named_parameters():
        save(f'm{i}_grad_{name}.npy', p.grad)
    for name, b in model.named_buffers():
        save(f'm{i}_state_{name}.npy', b)
`);
      let worst = 0;
      MODELS.forEach((m, i) => {
        const o = ours[i];
        // float32 on both sides, the same kernels but other summation orders (threads, op order): ~100 ε per layer chain.
        worst = Math.max(worst, compare(o.logits, get(dir, `m${i}_logits.npy`), `${m.spec}: logits`, roundOff('float32', 100), roundOff('float32', 100)));
        // Gradients go back through every layer and sum over the batch, so 10× the logits' round-off.
        for (const [name, g] of o.grads) {
          worst = Math.max(worst,
            compare(g, get(dir, `m${i}_grad_${name}.npy`), `${m.spec}: ∂loss/∂${name}`, roundOff('float32', 100), roundOff('float32', 1000)));
        }
        for (const [name, b] of o.state) compare(b, get(dir, `m${i}_state_${name}.npy`), `${m.spec}: buffer ${name}`, roundOff('float32', 10),
            roundOff('float32', 100));
      });
      t.diagnostic(`${MODELS.length} models; largest difference ${worst.toExponential(2)}`);
    })
  );
});

// ---------------------------------------------------------------- the stated requirement
test('safetensors written by saveModel load into the equal PyTorch modules and give the same logits (1e-5)', (t) => {
  if (skipWithoutTorch(t)) return;
  const cases = [
    { spec: 'mlp:784-64-32-10', py: 'MLP([784, 64, 32, 10])', input: [8, 784],
      names: ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias'] },
    { spec: 'cnn:1x28x28-10', py: 'CNN(1, 28, 10)', input: [4, 1, 28, 28],
      names: ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'] },
  ];
  withTempDir((dir) =>
    scope(() => {
      const logits: Tensor[] = [];
      cases.forEach((c, i) => {
        manualSeed(7 + i);
        const model = buildModel(c.spec).eval();
        assert.deepEqual([...model.stateDict().keys()].sort(), [...c.names].sort(), `${c.spec}: state dict names`);
        saveModel(model, join(dir, `model${i}.safetensors`));
        const x = rand(c.input); // pixel-like values in [0, 1)
        put(dir, `x${i}.npy`, x);
        logits.push(model.forward(x));
        model.dispose();
      });
      writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => c.py)));
      const out = python(dir, String.raw`
for i, ctor in enumerate(json.load(open('cases.json'))):
    model = eval(ctor).eval()
    state, meta = read_safetensors(f'model{i}.safetensors')
    missing, unexpected = model.load_state_dict(state, strict=True)
    with torch.no_grad():
        save(f'logits{i}.npy', model(load(f'x{i}.npy')))
    print(meta.get('dltheory.model'))
`);
      assert.deepEqual(out.trim().split('\n'), cases.map((c) => c.spec), 'the spec travels in the safetensors metadata');
      cases.forEach((c, i) => {
        const theirs = get(dir, `logits${i}.npy`);
        assert.equal(theirs.dtype, 'float32');
        const worst = compare(logits[i], theirs, `${c.spec}: logits`, 1e-5, 0);
        t.diagnostic(`${c.spec}: largest logit difference ${worst.toExponential(2)}`);
      });
    })
  );
});
