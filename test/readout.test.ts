/**
 * The readout alone (src/train/readout.ts): its features and weights reproduce the model's logits,
 * its convex minimum for a plain MLP matches scikit-learn's unpenalised multinomial logistic
 * regression on the same features, and — Nguyen et al.'s mechanism — with N skip units the readout
 * alone fits N random labels from every initialisation tried, while the trunk's readout cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { liveTensors, manualSeed, randint, randn, scope } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import { crossEntropy } from '../src/nn/functional.js';
import type { MLP } from '../src/nn/models/mlp.js';
import type { SkipToOutput } from '../src/nn/models/skip.js';
import { fitReadout, readoutProblem } from '../src/train/readout.js';
import { PYTHON, pythonUnavailable } from './python.js';

const N = 150;
/** N points in 20 dims with labels uniform on 10 classes (seeded). */
function randomTask(seed: number) {
  manualSeed(seed);
  return { x: randn([N, 20], 'float64'), y: randint(0, 10, [N]) };
}

test("Φ·Θᵀ of the readout problem is the model's logits (float64 nets, skip and plain)", () => {
  const before = liveTensors();
  const { x, y } = randomTask(1);
  for (const spec of ['skip:20-4-10:m=150', 'mlp:20-6-5-10:softplus']) {
    manualSeed(2);
    using model = buildModel(spec).double() as MLP | SkipToOutput;
    const { features, weights } = readoutProblem(model, x);
    scope(() => {
      const gap = features.matmul(weights.t()).sub(model.forward(x)).abs().amax().item();
      assert.ok(gap < 1e-12, `${spec}: ${gap}`);
      const fit = fitReadout(model, x, y, { maxIterations: 0 });
      assert.ok(Math.abs(fit.initialLoss - crossEntropy(model.forward(x), y).item()) < 1e-12, spec);
    });
    [features, weights].forEach((t) => t.dispose());
  }
  [x, y].forEach((t) => t.dispose());
  assert.equal(liveTensors(), before);
});

test('with N skip units the readout alone fits N random labels to ≤ 0.01 from 3 initialisations; the trunk readout stays near log 10', () => {
  const { x, y } = randomTask(3);
  for (const seed of [0, 1, 2]) {
    manualSeed(seed);
    using skip = buildModel(`skip:20-4-10:m=${N}`);
    const fit = fitReadout(skip as SkipToOutput, x, y, { target: 0.01, maxIterations: 2000 });
    assert.equal(fit.reason, 'stop', JSON.stringify(fit));
    assert.ok(fit.loss <= 0.01 && fit.initialLoss > 1, JSON.stringify(fit));
    manualSeed(seed);
    using trunk = buildModel('mlp:20-4-10:softplus');
    // The same seed gives the skip net's trunk the trunk alone's weights: the contrast is the skip units alone.
    const [a, b] = [(skip as SkipToOutput).trunk.parameters(), trunk.parameters()];
    assert.ok(a.length === b.length && a.every((p, i) => scope(() => p.sub(b[i]).abs().amax().item() === 0)), 'same trunk');
    const floor = fitReadout(trunk as MLP, x, y, { gradientTolerance: 1e-8 });
    // 5 features (4 units and a bias) cannot separate 150 random labels: the convex minimum is
    // close to the label entropy (≤ log 10 = 2.30); 1.5 is far above 0.01 yet below any such floor.
    assert.ok(floor.loss > 1.5 && floor.gradientNorm <= 1e-8, JSON.stringify(floor));
  }
  [x, y].forEach((t) => t.dispose());
});

const sklearnMissing = pythonUnavailable('sklearn');
test("the trunk readout's convex minimum matches scikit-learn's unpenalised multinomial logistic regression", (t) => {
  if (sklearnMissing) return t.skip(sklearnMissing);
  const { x, y } = randomTask(4);
  manualSeed(5);
  using model = buildModel('mlp:20-6-10:softplus').double() as MLP;
  const { features, weights } = readoutProblem(model, x);
  const ours = fitReadout(model, x, y, { gradientTolerance: 1e-10 });
  const phi = scope(() => features.narrow(1, 0, 6).contiguous().toNumbers());
  const labels = y.toNumbers();
  [features, weights, x, y].forEach((v) => v.dispose());
  const script = `
import json, sys, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
d = json.load(sys.stdin); X = np.array(d['x']).reshape(-1, 6); y = np.array(d['y'])
m = LogisticRegression(penalty='none', multi_class='multinomial', solver='lbfgs', tol=1e-12, max_iter=100000).fit(X, y)
print(log_loss(y, m.predict_proba(X), labels=list(range(10))))`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify({ x: phi, y: labels }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const theirs = Number(r.stdout.trim());
  // Both are minima of one convex function; scipy's L-BFGS-B stops on its own tolerances, so agree to 1e-6.
  assert.ok(Math.abs(ours.loss - theirs) < 1e-6, `ours ${ours.loss}, scikit-learn ${theirs}`);
});
