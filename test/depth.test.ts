/**
 * The verdict rules of gdv-dbn-depth and gdv-backprop (src/claims/gdv.ts) on made-up curves, and
 * `lowest` (src/experiments/depth.ts): what counts as improving, worsening and falling toward the output;
 * mlpGdvCurves on a small Gaussian mixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '../src/engine/index.js';
import { judgeBackpropCurve, judgeDbnCurve } from '../src/claims/gdv.js';
import { lowest, mlpGdvCurves } from '../src/experiments/depth.js';
import { gaussianMixture } from '../src/data/synthetic.js';
import { disposeDataset } from '../src/data/dataset.js';
import { openStore } from '../src/store/runs.js';

const curve = (gdvs: number[]) => gdvs.map((gdv, layer) => ({ layer, gdv }));

test('gdv-dbn-depth: improves to a layer ≥ 2, then worsens by ≥ 5% of the lowest', () => {
  const u = judgeDbnCurve(curve([-0.05, -0.2, -0.3, -0.4, -0.35, -0.3]));
  assert.deepEqual([u.best.layer, u.improves, u.worsens], [3, true, true]);
  assert.ok(Math.abs(u.worsening - 0.25) < 1e-12);
  // Still falling at the deepest layer: no worsening within the layers run.
  const falling = judgeDbnCurve(curve([-0.05, -0.2, -0.3, -0.4, -0.41]));
  assert.deepEqual([falling.best.layer, falling.improves, falling.worsens], [4, true, false]);
  // A turn smaller than 5% of |lowest| is not a worsening.
  assert.equal(judgeDbnCurve(curve([-0.05, -0.2, -0.4, -0.39])).worsens, false);
  assert.equal(judgeDbnCurve(curve([-0.05, -0.2, -0.4, -0.379])).worsens, true);
  // Best at the first hidden layer or at the input: no improvement over the first layers.
  assert.equal(judgeDbnCurve(curve([-0.05, -0.3, -0.2, -0.1])).improves, false);
  assert.equal(judgeDbnCurve(curve([-0.5, -0.3, -0.2, -0.1])).improves, false);
  // A tie with layer 1 keeps layer 1 as the lowest.
  assert.equal(judgeDbnCurve(curve([-0.05, -0.3, -0.3, -0.1])).best.layer, 1);
});

test('gdv-backprop: logits below the input and Kendall τ(layer, GDV) ≤ −0.6', () => {
  const monotone = judgeBackpropCurve(curve([-0.05, -0.2, -0.3, -0.4]));
  assert.deepEqual([monotone.passes, monotone.tau], [true, -1]);
  // One swap among four points: τ = −2/3, still falling.
  assert.equal(judgeBackpropCurve(curve([-0.05, -0.3, -0.2, -0.4])).passes, true);
  // Falls then rises back above the input at the logits.
  assert.equal(judgeBackpropCurve(curve([-0.05, -0.3, -0.2, 0.0])).passes, false);
  // Logits lowest but the middle wanders: τ = 0.
  const wander = judgeBackpropCurve(curve([-0.1, -0.05, -0.02, -0.4, 0.1, -0.5]));
  assert.equal(wander.passes, false, `τ ${wander.tau}`);
});

test('lowest: the first of equal minima', () => {
  assert.deepEqual(lowest([{ gdv: -1, k: 'a' }, { gdv: -2, k: 'b' }, { gdv: -2, k: 'c' }]), { gdv: -2, k: 'b' });
});

test('mlpGdvCurves: input, hidden layers and logits per depth, a recorded run each, no native memory left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-depth-'));
  const store = openStore(dir);
  const train = gaussianMixture({ n: 200, dim: 6, classes: 3, separation: 3, seed: 1 });
  const test = gaussianMixture({ n: 100, dim: 6, classes: 3, separation: 3, seed: 2 });
  try {
    const before = liveTensors();
    const curves = mlpGdvCurves(store, { train, test }, { depths: [1, 3], width: 8, epochs: 2, batchSize: 32, lr: 1e-2, seed: 0, samplePoints: 60 }, 'test');
    assert.equal(liveTensors(), before);
    assert.deepEqual(curves.map((c) => c.layers.map((l) => l.name)), [['input', 'layers.0', 'logits'], ['input', 'layers.0', 'layers.1', 'layers.2',
      'logits']]);
    assert.deepEqual(curves[1].layers.map((l) => [l.relativeDepth, l.dims, l.n]), [[0, 6, 60], [0.25, 8, 60], [0.5, 8, 60], [0.75, 8, 60], [1, 3, 60]]);
    assert.deepEqual(curves.map((c) => store.getRun(c.runId)?.run.spec), ['mlp:6-8-3:init=he', 'mlp:6-8-8-8-3:init=he']);
  } finally {
    store.close();
    disposeDataset(train);
    disposeDataset(test);
    rmSync(dir, { recursive: true, force: true });
  }
});
