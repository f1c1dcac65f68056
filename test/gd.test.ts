/** Gradient descent (src/train/gd.ts) against the closed-form iteration on a linear model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, randint, randn, scope, dispose } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import type { MLP } from '../src/nn/models/mlp.js';
import { descend } from '../src/train/gd.js';

test('full-batch GD on ½‖Xw + b − y‖² follows w ← w − ηXᵀr, b ← b − η Σr exactly', () => {
  const before = liveTensors();
  manualSeed(1);
  const m = buildModel('mlp:3-1').double() as MLP;
  const x = randn([8, 3], 'float64');
  const y = randn([8], 'float64');
  scope(() => {
    let w = m.layers[0].weight.detach().clone().t(); // [3, 1]
    let b = m.layers[0].bias!.detach().clone();
    const want: number[] = [];
    for (let k = 0; k < 5; k++) {
      const r = x.matmul(w).add(b).sub(y.unsqueeze(1));
      want.push(r.square().sum().item() / 2);
      w = w.sub(x.t().matmul(r).mul(0.05));
      b = b.sub(r.sum(0).mul(0.05));
    }
    const seen: number[] = [];
    const losses = descend(m, x, y, { lr: 0.05, steps: 5, loss: 'squared', onStep: (_, l) => void seen.push(l) });
    assert.deepEqual(Array.from(losses), seen);
    losses.forEach((l, k) => assert.ok(Math.abs(l - want[k]) < 1e-12 * (1 + want[k]), `step ${k}`));
    assert.ok(m.layers[0].weight.t().sub(w).abs().amax().item() < 1e-12, 'weights after 5 steps');
  });
  dispose([x, y]);
  m.dispose();
  assert.equal(liveTensors(), before);
});

test('minibatch SGD with cross-entropy is repeatable with a seed, reports per-epoch accuracy, and stops on request', () => {
  const run = (seed: number) => {
    manualSeed(2);
    const m = buildModel('mlp:5-16-3');
    const x = randn([60, 5]);
    const y = randint(0, 3, [60]);
    const accs: number[] = [];
    const losses = descend(m, x, y, { lr: 0.1, steps: 30, loss: 'cross-entropy', batchSize: 16, seed, onStep: (_, __, a) => {
      accs.push(a!);
      return a! >= 0.9;
    } });
    dispose([x, y]);
    m.dispose();
    return { losses: Array.from(losses), accs };
  };
  const a = run(0);
  assert.deepEqual(run(0), a);
  assert.notDeepEqual(run(1).losses, a.losses);
  assert.ok(a.losses[a.losses.length - 1] < a.losses[0], 'the loss falls');
  assert.ok(a.accs.every((v) => v >= 0 && v <= 1) && (a.accs.length === 30 || a.accs[a.accs.length - 1] >= 0.9));
});

test('bad step counts and learning rates are input errors', () => {
  const m = buildModel('mlp:2-1');
  const x = randn([4, 2]);
  const y = randn([4]);
  assert.throws(() => descend(m, x, y, { lr: 0, steps: 1, loss: 'squared' }), /learning rate 0/);
  assert.throws(() => descend(m, x, y, { lr: 0.1, steps: 0, loss: 'squared' }), /0 steps/);
  dispose([x, y]);
  m.dispose();
});
