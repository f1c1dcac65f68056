/**
 * Our DBN (src/nn/dbn.ts, src/nn/rbm.ts) against an independent one: scikit-learn's BernoulliRBM
 * (/usr/bin/python3, python3-sklearn), stacked the same way, each RBM trained on the previous one's
 * `transform` (hidden probabilities). BernoulliRBM trains by PCD with `batch_size` persistent chains
 * started at h = 0, no momentum or weight decay, W ~ N(0, 0.01²): our options `persistent: true`,
 * `momentum: 0`, `weightDecay: 0` match it. What still differs: scikit-learn takes the batches in the
 * same order every epoch, we shuffle, and the random streams differ, so trained stacks agree only
 * statistically.
 * - With scikit-learn's trained weights, our stack's hidden probabilities equal its transform to
 *   float64 round-off, layer by layer.
 * - Trained on the same 1,000 MNIST digits, the two stacks' GDV per layer on 500 held-out digits agree
 *   within 0.05 (see the test), and both improve from layer 1 to layer 4 by more than 0.05.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dispose, scope, tensor, type Tensor } from '../src/engine/index.js';
import { loadData } from '../src/data/load.js';
import { disposeDataset } from '../src/data/dataset.js';
import { gdv } from '../src/measures/gdv.js';
import { propagateUp, trainDbn } from '../src/nn/dbn.js';
import { disposeRbm, type Rbm } from '../src/nn/rbm.js';
import { PYTHON, pythonUnavailable } from './python.js';
import { roundOff } from './round-off.js';

const unavailable = pythonUnavailable('sklearn.neural_network');

/** BernoulliRBMs stacked on transform; per layer the held-out transform and the trained parameters. */
const REFERENCE = String.raw`
import json, sys
import numpy as np
from sklearn.neural_network import BernoulliRBM
a = json.load(sys.stdin)
x, s = np.array(a["train"]), np.array(a["sample"])
layers = []
for l in range(a["layers"]):
    rbm = BernoulliRBM(n_components=a["width"], learning_rate=a["lr"], batch_size=a["batch"], n_iter=a["epochs"], random_state=a["seed"] + l)
    rbm.fit(x)
    x, s = rbm.transform(x), rbm.transform(s)
    layers.append({"sample": s.ravel().tolist(), "W": rbm.components_.ravel().tolist(), "b": rbm.intercept_visible_.tolist(),
                   "c": rbm.intercept_hidden_.tolist()})
print(json.dumps(layers))
`;

const [TRAIN, SAMPLE, LAYERS, WIDTH, EPOCHS, BATCH, LR] = [1000, 500, 4, 64, 10, 10, 0.05];

test('a DBN of BernoulliRBMs: the same transform given the same weights, the same GDV curve when trained', (t: TestContext) => {
  if (unavailable) return t.skip(`scikit-learn is not usable: ${unavailable}`);
  const splits = loadData({ name: 'mnist', seed: 0, trainSize: TRAIN });
  const [x, s] = scope(() => [splits.train.x.flatten(1).double(), splits.test.x.narrow(0, 0, SAMPLE).flatten(1).double()]);
  const y = scope(() => splits.test.y.narrow(0, 0, SAMPLE).toNumbers());
  disposeDataset(splits.train);
  disposeDataset(splits.test);
  const rows = (m: Tensor) => {
    const v = m.toNumbers();
    return Array.from({ length: m.size(0) }, (_, i) => v.slice(i * m.size(1), (i + 1) * m.size(1)));
  };
  const input = JSON.stringify({ train: rows(x), sample: rows(s), layers: LAYERS, width: WIDTH, epochs: EPOCHS, batch: BATCH, lr: LR, seed: 0 });
  const r = spawnSync(PYTHON, ['-c', REFERENCE], { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const reference = JSON.parse(r.stdout) as { sample: number[]; W: number[]; b: number[]; c: number[] }[];

  // scikit-learn's weights in our stack. Each hidden probability is σ of a dot product of ≤ 784 terms: the two sides
  // sum in different orders, log2(784) ≈ 10 ε of Σ|w·v| apart, σ' ≤ 1/4 shrinks it, and each layer adds its input's
  // difference times Σ|w|; 64 ε a layer of the largest Σ|w·v| covers that.
  let h = s;
  let scale = 0;
  reference.forEach((layer, l) => {
    const V = l ? WIDTH : 784;
    const rbm: Rbm = {
      visible: 'binary',
      weight: tensor(layer.W, [WIDTH, V], 'float64'),
      visibleBias: tensor(layer.b, [V], 'float64'),
      hiddenBias: tensor(layer.c, [WIDTH], 'float64'),
    };
    scale = Math.max(scale, scope(() => h.abs().matmul(rbm.weight.abs().t()).amax().item()));
    const next = propagateUp(rbm, h);
    const theirs = layer.sample;
    const ours = next.toNumbers();
    const worst = Math.max(...ours.map((p, i) => Math.abs(p - theirs[i])));
    assert.ok(worst <= roundOff('float64', 64 * (l + 1), scale), `layer ${l + 1}: |ours − sklearn| ${worst} (scale ${scale})`);
    if (h !== s) h.dispose();
    h = next;
    disposeRbm(rbm);
  });
  h.dispose();

  // Both trained: our PCD stack against scikit-learn's, on the same digits.
  const ourGdv: number[] = [];
  let up = s;
  const rbms = trainDbn(x, { layers: LAYERS, width: WIDTH, epochs: EPOCHS, batchSize: BATCH, lr: LR, momentum: 0, weightDecay: 0, persistent: true, seed: 0 },
    (_, rbm) => {
      const next = propagateUp(rbm, up);
      if (up !== s) up.dispose();
      up = next;
      ourGdv.push(gdv(up, y).gdv);
    });
  rbms.forEach(disposeRbm);
  up.dispose();
  const theirGdv = reference.map((layer) => scope(() => gdv(tensor(layer.sample, [SAMPLE, WIDTH], 'float64'), y).gdv));
  const curves = `ours ${ourGdv.map((g) => g.toFixed(4))}, scikit-learn ${theirGdv.map((g) => g.toFixed(4))}`;
  t.diagnostic(curves);
  // 0.05: measured with seeds 0 and 1 of each stack at this size, a stack's two seeds differ by up to 0.015 per layer and
  // ours and scikit-learn's by up to 0.031 (layer 4: ours −0.282, −0.287; scikit-learn −0.266, −0.256: its fixed batch
  // order, we think, against our shuffled one). A stack whose units die (GDV near 0) or that does not learn is far outside.
  // Smaller runs (600 digits, 5 epochs) are not stable enough to compare: one scikit-learn seed there collapsed to −0.06.
  ourGdv.forEach((g, l) => assert.ok(Math.abs(g - theirGdv[l]) <= 0.05, `layer ${l + 1}: ${curves}`));
  for (const c of [ourGdv, theirGdv]) assert.ok(c[LAYERS - 1] < c[0] - 0.05, `improves from layer 1 to ${LAYERS}: ${curves}`);
  dispose([x, s]);
});
