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
import { gdv } from '../src/measures/gdv.js';
import { gaussianMixture } from '../src/data/synthetic.js';
import { disposeDataset } from '../src/data/dataset.js';
import { openStore } from '../src/store/runs.js';

/**
 * A curve whose layer l has GDV gdvs[l] and, on block b, gdvs[l] + noise·sin(1.7·b + 0.9·l + 0.3·l²): a fixed
 * pattern of spreads that differs from block to block and layer to layer.
 */
const curve = (gdvs: number[], blocks: number, noise = 0.002) =>
  gdvs.map((gdv, layer) => ({ layer, gdv, blockGdv: Array.from({ length: blocks }, (_, b) =>
    gdv + noise * Math.sin(1.7 * b + 0.9 * layer + 0.3 * layer ** 2)) })
  );
const dbn = (gdvs: number[], noise?: number) => judgeDbnCurve(curve(gdvs, 10, noise));

test('gdv-dbn-depth: pairs of layers, the best interior pair chosen on blocks 1–5, intervals on blocks 6–10', () => {
  // Improves to layers 5–6, then worsens: pairs −0.225, −0.325, −0.41, −0.355, −0.29.
  const turn = dbn([-0.05, -0.2, -0.25, -0.3, -0.35, -0.4, -0.42, -0.38, -0.33, -0.3, -0.28]);
  assert.deepEqual([turn.verdict, turn.bestPair, turn.lowest.layer], ['holds', [5, 6], 6]);
  assert.ok(Math.abs(turn.improvement.estimate - 0.185) < 0.002 && Math.abs(turn.worsening.estimate - 0.12) < 0.002);
  assert.ok(turn.worsening.lower > 0 && turn.worsening.upper < 0.13);
  // Still falling at the deepest pair: better than every interior pair.
  const falling = dbn([-0.05, -0.2, -0.25, -0.3, -0.35, -0.4, -0.42, -0.44, -0.46, -0.48, -0.5]);
  assert.equal(falling.verdict, 'does not hold');
  assert.ok(falling.worsening.upper < 0);
  // A zig-zag (odd layers 0.1 better than even ones) on a falling trend: layer 9 is the lowest and layer 10 is
  // far worse, but the pairs keep falling, so the deepest layers are not worse.
  const zigzag = dbn([-0.05, -0.3, -0.2, -0.4, -0.3, -0.5, -0.4, -0.6, -0.5, -0.7, -0.6]);
  assert.deepEqual([zigzag.lowest.layer, zigzag.verdict], [9, 'does not hold']);
  // Best at layers 1–2: no improvement past them.
  assert.equal(dbn([-0.05, -0.5, -0.5, -0.4, -0.4, -0.3, -0.3, -0.3, -0.3, -0.2, -0.2]).verdict, 'does not hold');
  // A turn of 0.001 under block noise of 0.02: within the noise.
  const flat = dbn([-0.05, -0.2, -0.25, -0.3, -0.35, -0.4, -0.42, -0.42, -0.42, -0.42, -0.419], 0.02);
  assert.equal(flat.verdict, 'inconclusive');
  assert.ok(flat.worsening.lower < 0 && flat.worsening.upper > 0);
  assert.throws(() => dbn([-0.05, -0.2, -0.25, -0.3, -0.35, -0.4, -0.42, -0.42, -0.42, -0.42]), /even number/);
});

test('gdv-backprop: τ(layer, GDV) on each of 5 blocks at most −0.6 and the logits below the input, beyond the noise', () => {
  const judge = (gdvs: number[], noise?: number) => judgeBackpropCurve(curve(gdvs, 5, noise));
  const monotone = judge([-0.05, -0.2, -0.3, -0.4]);
  assert.deepEqual([monotone.verdict, monotone.tau.estimate, monotone.wholeTau], ['holds', -1, -1]);
  assert.ok(monotone.drop.upper < -0.3);
  // Falls then rises back above the input at the logits: τ = 0 and the logits above the input on every block.
  assert.equal(judge([-0.05, -0.3, -0.2, 0.05]).verdict, 'does not hold');
  // The last three layers 0.005 apart under block noise of 0.01: τ is −1 on some blocks, −1/3 on others.
  const close = judge([-0.05, -0.3, -0.305, -0.31], 0.01);
  assert.equal(close.verdict, 'inconclusive', `τ ${JSON.stringify(close.tau)}`);
  // Logits lowest but the middle wanders: τ ≈ 0 on every block.
  assert.equal(judge([-0.1, -0.05, -0.02, -0.4, 0.1, -0.5]).verdict, 'does not hold');
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
    const o = { depths: [1, 3], width: 8, epochs: 2, batchSize: 32, lr: 1e-2, seed: 0, samplePoints: 60, blocks: 3 };
    const curves = mlpGdvCurves(store, { train, test }, o, 'test');
    assert.equal(liveTensors(), before);
    assert.deepEqual(curves.map((c) => c.layers.map((l) => l.name)), [['input', 'layers.0', 'logits'], ['input', 'layers.0', 'layers.1', 'layers.2',
      'logits']]);
    assert.deepEqual(curves[1].layers.map((l) => [l.relativeDepth, l.dims, l.n]), [[0, 6, 60], [0.25, 8, 60], [0.5, 8, 60], [0.75, 8, 60], [1, 3, 60]]);
    assert.deepEqual(curves.map((c) => store.getRun(c.runId)?.run.spec), ['mlp:6-8-3:init=he', 'mlp:6-8-8-8-3:init=he']);
    assert.deepEqual(curves.map((c) => c.testPoints), [100, 100]);
    // Block b is points 20b … 20b + 19; its GDV at the input is the GDV of those raw points.
    const block = (b: number) => gdv(test.x.narrow(0, 20 * b, 20), test.y.toNumbers().slice(20 * b, 20 * b + 20)).gdv;
    assert.deepEqual(curves[1].layers[0].blockGdv, [0, 1, 2].map(block));
    assert.ok(curves[1].layers.every((l) => l.blockGdv.length === 3 && l.blockGdv.every(Number.isFinite)));
  } finally {
    store.close();
    disposeDataset(train);
    disposeDataset(test);
    rmSync(dir, { recursive: true, force: true });
  }
});
