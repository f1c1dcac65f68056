/**
 * The alignment front end and the shape training code (src/nn/models/align.ts, src/train/shapes.ts):
 * - poseMatrix against Rodrigues rotations of src/data/shapes.ts multiplied out in JS;
 * - warping a posed scan by its own pose gives back the canonical shape;
 * - finite-difference gradients of the warp in the pose parameters (rigid and affine) and the volume;
 * - an untrained front end is the identity; training lowers the loss, is deterministic, leaks no
 *   tensors, and a saved model gives the same codes after loading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, scope, tensor } from '../src/engine/index.js';
import { Rng } from '../src/data/rng.js';
import { generateShapes, makePose, renderShape, shapeBatch, type Pose } from '../src/data/shapes.js';
import { diceScore } from '../src/nn/dice.js';
import { AlignNet, poseMatrix, warp } from '../src/nn/models/align.js';
import { alignShapes, encodeShapes, trainShapeModel } from '../src/train/shapes.js';
import { disposeShapeModel, loadShapeModel, saveShapeModel } from '../src/train/shape-files.js';
import { gradcheck } from './gradcheck.js';
import { roundOff } from './round-off.js';

const matmul = (a: number[], b: number[]) =>
  [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j]));

/** The pose [A | t] of Euler angles, shift and log-scales, by Rodrigues' formula about the axes. */
function eulerPose([a, b, c, ...rest]: number[]): Pose {
  const [shift, logScale] = [rest.slice(0, 3), rest.length > 3 ? rest.slice(3) : [0, 0, 0]];
  const r = matmul(matmul(makePose([0, 0, 1], c).matrix, makePose([0, 1, 0], b).matrix), makePose([1, 0, 0], a).matrix);
  const scale = logScale.map(Math.exp);
  return { axis: [0, 0, 1], angle: 0, shift, scale, matrix: r.map((v, k) => v * scale[k % 3]) };
}

test('poseMatrix is Rz(γ)·Ry(β)·Rx(α)·diag(e^σ) with the shift as the last column', () => {
  const rows = [[0.3, -0.5, 1.1, 0.1, -0.05, 0.02], [-1.2, 0.4, 0.2, 0, 0.1, -0.1, 0.1, -0.2, 0.05]];
  scope(() => {
    for (const p of rows) {
      const got = poseMatrix(tensor(p, [1, p.length], 'float64')).toNumbers();
      const pose = eulerPose(p);
      const expected = [0, 1, 2].flatMap((r) => [...pose.matrix.slice(3 * r, 3 * r + 3), pose.shift[r]]);
      got.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) < 1e-12, `entry ${k}: ${v} vs ${expected[k]}`));
    }
    assert.throws(() => poseMatrix(tensor([0, 0, 0, 0, 0], [1, 5])), /\[N, 6\]/);
  });
});

test('warping a scan by its own pose gives back the canonical shape', () => {
  const params = { a: 0.62, b: 0.45, c: 0.3 };
  const p = [0.35, -0.25, 0.5, 0.06, -0.04, 0.03];
  const posed = renderShape('ellipsoid', params, eulerPose(p), 32);
  const canonical = renderShape('ellipsoid', params, makePose([0, 0, 1], 0), 32);
  scope(() => {
    const [x, c] = [tensor(posed, [1, 1, 32, 32, 32]), tensor(canonical, [1, 1, 32, 32, 32])];
    const before = diceScore(x, c).item();
    const after = diceScore(warp(x, tensor(p, [1, 6])), c).item();
    assert.ok(before < 0.8 && after > 0.95, `Dice with the canonical shape: posed ${before}, warped back ${after}`);
  });
});

test('warp: finite-difference gradients in the rigid and affine pose parameters and in the volume (float64, 4³)', () => {
  const before = liveTensors();
  const rng = new Rng(3);
  scope(() => {
    const volume = tensor(Float64Array.from({ length: 2 * 64 }, () => rng.uniform()), [2, 1, 4, 4, 4], 'float64');
    const small = (n: number) => tensor(Float64Array.from({ length: 2 * n }, () => 0.3 * (2 * rng.uniform() - 1)), [2, n], 'float64');
    gradcheck((p) => warp(volume, p), [small(6)], { name: 'warp, rigid parameters' });
    gradcheck((p) => warp(volume, p), [small(9)], { name: 'warp, affine parameters' });
    const pose = small(6);
    gradcheck((v) => warp(v, pose), [volume], { name: 'warp, volume' });
  });
  assert.equal(liveTensors(), before);
});

test('an untrained front end is the identity; bad inputs are InputErrors', () => {
  manualSeed(0);
  const net = new AlignNet({ size: 16, mode: 'affine', width: 2 });
  scope(() => {
    const x = shapeBatch(generateShapes({ seed: 1, subjects: 1, scans: 1, size: 16 }));
    assert.deepEqual(net.pose(x).toNumbers(), Array(9 * x.size(0)).fill(0));
    assert.ok(net.forward(x).sub(x).abs().amax().item() <= roundOff('float32', 100), 'identity warp (to float32 rounding of the grid)');
    assert.throws(() => net.forward(x.narrow(2, 0, 8)), /takes \[N, 1, 16, 16, 16\]/);
  });
  net.dispose();
  assert.throws(() => new AlignNet({ size: 24, mode: 'rigid' }), /multiple of 16/);
  assert.throws(() => new AlignNet({ size: 16, mode: 'shear' as 'rigid' }), /rigid or affine/);
});

test('training with the front end lowers the loss, is deterministic, leaks nothing, and round-trips through a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-shape-align-'));
  const before = liveTensors();
  try {
    // One batch of all 8 scans, so that the losses of successive steps are comparable.
    const x = shapeBatch(generateShapes({ seed: 2, subjects: 2, scans: 1, size: 16, maxRotation: 30 }));
    const o = { size: 16, latent: 4, width: 2, align: 'rigid' as const, alignWidth: 2, steps: 6, alignSteps: 6, batchSize: 8, lr: 1e-2, seed: 5 };
    const a = trainShapeModel(x, o);
    const b = trainShapeModel(x, o);
    assert.deepEqual(a.losses, b.losses, 'same seed, same losses');
    assert.equal(a.losses.length, 12);
    assert.ok(a.losses[5] < a.losses[0], `front-end phase: ${a.losses.slice(0, 6)}`);
    assert.ok(a.losses[11] < a.losses[6], `joint phase: ${a.losses.slice(6)}`);
    const path = join(dir, 'm.safetensors');
    saveShapeModel(a.model, path);
    const loaded = loadShapeModel(path).model;
    scope(() => {
      assert.ok(alignShapes(a.model, x).sub(x).abs().amax().item() > 0, 'the trained front end moves the volumes');
      const [c1, c2] = [encodeShapes(a.model, x), encodeShapes(loaded, x)];
      assert.deepEqual(c1.shape, [x.size(0), 4]);
      assert.deepEqual(c1.toNumbers(), c2.toNumbers());
    });
    [a.model, b.model, loaded].forEach(disposeShapeModel);
    x.dispose();
    assert.equal(liveTensors(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
