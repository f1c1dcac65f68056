/**
 * The input-gradient norms (src/measures/input-gradient.ts):
 * - a Linear layer in closed form: J(x) = W at every point, ∂ℓ/∂x = Wᵀ(softmax(Wx + b) − e_y);
 * - a small CNN against torch.autograd on the same weights (float64): per point, ‖∂f/∂x‖_F from one
 *   grad per logit and ‖∂ℓ/∂x‖₂ from the grad of the summed cross-entropy;
 * - a network with BatchNorm: eval mode, so a point's values do not depend on its batch; no leaks;
 * - bad input.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveTensors, manualSeed, noGrad, oneHot, randint, randn, scope, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { InputError } from '../src/errors.js';
import { inputGradientNorm } from '../src/measures/input-gradient.js';
import { PYTHON, pythonUnavailable } from './python.js';
import { maxRelative, roundOff } from './round-off.js';

const values = (t: Tensor): Float64Array => t.toArray() as Float64Array;
/** Per-point norms of a few layers' gradients in float64, summed in other orders along the two paths. */
const TOLERANCE = roundOff('float64', 64);

/** The mean and its standard error, as the measure reports them. */
function meanAndError(xs: Float64Array): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [mean, Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / (xs.length - 1) / xs.length)];
}

test('a Linear layer: ‖J‖_F = ‖W‖_F at every point, ∂ℓ/∂x = Wᵀ(p − e_y), in batches or not', () => {
  manualSeed(1);
  using model = buildModel('mlp:5-3').double();
  using x = randn([9, 5], 'float64');
  using y = randint(0, 3, [9]);
  const [weight, bias] = model.parameters();
  const frobenius = scope(() => weight.norm().item());
  const lossGrad = noGrad(() => scope(() => values(x.matmul(weight.t()).add(bias).softmax(1).sub(oneHot(y, 3).double()).matmul(weight).norm(2, 1))));
  for (const batchSize of [256, 4]) {
    const r = inputGradientNorm(model, x, y, { batchSize });
    assert.equal(r.outputs, 3);
    assert.ok(maxRelative(r.perPoint.jacobian, Array(9).fill(frobenius)) < TOLERANCE, `batch ${batchSize}: ‖J‖_F`);
    assert.ok(maxRelative(r.perPoint.lossGradient, lossGrad) < TOLERANCE, `batch ${batchSize}: ‖∂ℓ/∂x‖`);
    assert.deepEqual([r.value, r.stdErr], meanAndError(r.perPoint.jacobian));
    assert.deepEqual([r.lossGradient.value, r.lossGradient.stdErr], meanAndError(r.perPoint.lossGradient));
  }
});

const REFERENCE = String.raw`
import sys, json
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, sys.argv[1])
import margins_torch
torch.set_num_threads(1)
state, spec = margins_torch.read_safetensors(sys.argv[2])
model = margins_torch.build(spec).double()
model.load_state_dict({k: v.double() for k, v in state.items()})
model.eval()
x = torch.from_numpy(np.load(sys.argv[3])).requires_grad_(True)
y = torch.from_numpy(np.load(sys.argv[4]))
out = model(x)[0]
rows = [torch.autograd.grad(out[:, c].sum(), x, retain_graph=True)[0].flatten(1) for c in range(out.shape[1])]
jac = torch.stack(rows, 1).flatten(1).norm(dim=1)
loss = torch.autograd.grad(F.cross_entropy(out, y, reduction='sum'), x)[0].flatten(1).norm(dim=1)
np.save(sys.argv[5], torch.stack([jac, loss]).detach().numpy())
print(json.dumps({"torch": torch.__version__}))
`;

test('a small CNN: the same per-point norms as torch.autograd on the same weights (float64)', (t: TestContext) => {
  const why = pythonUnavailable('torch, numpy');
  if (why) return t.skip(why);
  manualSeed(5);
  using model = buildModel('cnn:1x8x8-3:w=4').double();
  using x = randn([12, 1, 8, 8], 'float64');
  using y = randint(0, 3, [12]);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-input-gradient-'));
  try {
    saveModel(model, join(dir, 'm.safetensors'));
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    writeNpy(join(dir, 'y.npy'), toRaw(y));
    const bench = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');
    const args = [bench, join(dir, 'm.safetensors'), join(dir, 'x.npy'), join(dir, 'y.npy'), join(dir, 'ref.npy')];
    const p = spawnSync(PYTHON, ['-c', REFERENCE, ...args], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(p.status, 0, p.stderr);
    const ref = readNpy(join(dir, 'ref.npy')).data as Float64Array;
    const r = inputGradientNorm(model, x, y, { batchSize: 5 });
    const [jac, loss] = [maxRelative(r.perPoint.jacobian, ref.subarray(0, 12)), maxRelative(r.perPoint.lossGradient, ref.subarray(12))];
    assert.ok(jac < TOLERANCE && loss < TOLERANCE, `relative differences ${jac}, ${loss}`);
    t.diagnostic(`largest relative differences ${jac.toExponential(2)}, ${loss.toExponential(2)} (tolerance ${TOLERANCE.toExponential(2)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BatchNorm: eval mode, so a point gives the same values alone or in a batch; the mode comes back; no leaks', () => {
  manualSeed(2);
  using model = buildModel('mlp:6-8-3:bn').double();
  noGrad(() => {
    for (const [name, b] of model.namedBuffers()) if (name.endsWith('running_mean') || name.endsWith('running_var')) b.fill_(name.endsWith('var') ? 4 : 0.3);
  });
  using x = randn([7, 6], 'float64');
  using y = randint(0, 3, [7]);
  const live = liveTensors();
  const whole = inputGradientNorm(model, x, y);
  const alone = inputGradientNorm(model, x, y, { batchSize: 1 });
  assert.equal(liveTensors(), live, 'live tensors');
  assert.ok(model.training, 'back in training mode');
  assert.ok(maxRelative(alone.perPoint.jacobian, whole.perPoint.jacobian) < TOLERANCE);
  assert.ok(maxRelative(alone.perPoint.lossGradient, whole.perPoint.lossGradient) < TOLERANCE);
});

test('bad input: InputErrors naming the problem', () => {
  manualSeed(1);
  using model = buildModel('mlp:5-3').double();
  using x = randn([4, 5], 'float64');
  using y = randint(0, 3, [4]);
  const rejects = (xs: Tensor, ys: Tensor, pattern: RegExp) =>
    assert.throws(() => inputGradientNorm(model, xs, ys), (e: Error) => e instanceof InputError && pattern.test(e.message), String(pattern));
  using wide = randn([4, 6], 'float64');
  rejects(wide, y, /points of shape \[6\] do not fit mlp:5-3/);
  using nan = scope(() => x.div(0).mul(0));
  rejects(nan, y, /finite/);
  using big = scope(() => y.add(3));
  rejects(x, big, /labels must lie in \[0, 3\)/);
  using short = scope(() => y.narrow(0, 0, 2));
  rejects(x, short, /4 points but labels of shape \[2\]/);
});
