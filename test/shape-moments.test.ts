/**
 * Moment normalisation (src/data/moments.ts) against closed forms:
 * - a noiseless ellipsoid with semi-axes a > b > c under a known pose p = R·q + s: the centre of
 *   mass is s and the principal axes are R's columns (up to sign, the ellipsoid being symmetric),
 *   each within a degree or two of discretisation error; the frame is a proper rotation;
 * - an asymmetric comma rendered in two poses: the frame turns with the shape, signs included
 *   (E₁ = R₁·E₀ within a few degrees), so the normalised volumes agree up to interpolation while
 *   the posed ones barely overlap;
 * - an empty volume is refused; no tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, scope, tensor } from '../src/engine/index.js';
import { generateShapes, makePose, renderShape, type Pose } from '../src/data/shapes.js';
import { momentAlign, momentFrames } from '../src/data/moments.js';
import { diceScore } from '../src/nn/dice.js';

const SIZE = 32;
const degrees = (r: number) => (r * 180) / Math.PI;
/** Rotation part of a pose (its scales are 1), row-major. */
const rotation = (p: Pose) => p.matrix;
/** Row-major 3 × 3 product a·b, and aᵀ·b. */
const mul = (a: number[], b: number[], transposeA = false) =>
  Array.from({ length: 9 }, (_, k) =>
    [0, 1, 2].reduce((s, j) => s + (transposeA ? a[3 * j + Math.floor(k / 3)] : a[3 * Math.floor(k / 3) + j]) * b[3 * j + (k % 3)], 0));
/** The angle of a rotation matrix, from its trace. */
const angle = (m: number[]) => degrees(Math.acos(Math.min(1, Math.max(-1, (m[0] + m[4] + m[8] - 1) / 2))));
/** E (row-major 3 × 3) and c of each frame [N, 3, 4]. */
function frames(x: number[]): { e: number[]; c: number[] }[] {
  return Array.from({ length: x.length / 12 }, (_, n) => {
    const f = x.slice(12 * n, 12 * n + 12);
    return { e: [0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => f[i]), c: [3, 7, 11].map((i) => f[i]) };
  });
}
const det = (a: number[]) => a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);

test('an ellipsoid under a known pose: centre of mass and principal axes recovered', () => {
  const before = liveTensors();
  const pose = makePose([1, 2, -1], (70 * Math.PI) / 180, [0.04, -0.03, 0.02]);
  const mask = renderShape('ellipsoid', { a: 0.7, b: 0.45, c: 0.28 }, pose, SIZE);
  const [{ e, c }] = scope(() => frames(momentFrames(tensor(mask, [1, 1, SIZE, SIZE, SIZE], 'float32')).toNumbers()));
  c.forEach((v, k) => assert.ok(Math.abs(v - pose.shift[k]) < 0.01, `centre ${k}: ${v} vs ${pose.shift[k]}`));
  const r = rotation(pose);
  for (let k = 0; k < 3; k++) {
    const cos = Math.abs([0, 1, 2].reduce((s, i) => s + e[3 * i + k] * r[3 * i + k], 0));
    const error = degrees(Math.acos(Math.min(1, cos)));
    assert.ok(error < 1, `axis ${k}: ${error.toFixed(2)}° from the pose's`);
  }
  assert.ok(Math.abs(det(e) - 1) < 1e-5, `det E = ${det(e)}`);
  mul(e, e, true).forEach((v, i) => assert.ok(Math.abs(v - (i % 4 === 0 ? 1 : 0)) < 1e-5, `EᵀE entry ${i}: ${v}`));
  assert.equal(liveTensors(), before);
});

test('an asymmetric shape in two poses: the frame turns with it, signs included, and the normalised volumes agree', () => {
  const before = liveTensors();
  const [{ params }] = generateShapes({ seed: 5, subjects: 1, scans: 1, families: ['comma'] });
  const poses = [makePose([0, 0, 1], 0), makePose([0.3, -0.5, 0.8], (120 * Math.PI) / 180, [0.03, -0.02, 0.01])];
  const x = tensor(poses.flatMap((p) => [...renderShape('comma', params, p, SIZE)]), [2, 1, SIZE, SIZE, SIZE], 'float32');
  const [f0, f1] = scope(() => frames(momentFrames(x).toNumbers()));
  const error = angle(mul(mul(rotation(poses[1]), f0.e), f1.e, true));
  assert.ok(error < 3, `E₁ is R₁·E₀ turned by ${error.toFixed(2)}°`);
  const [raw, aligned] = scope(() => {
    const a = momentAlign(x);
    return [diceScore(x.narrow(0, 0, 1), x.narrow(0, 1, 1)).item(), diceScore(a.narrow(0, 0, 1), a.narrow(0, 1, 1)).item()];
  });
  assert.ok(raw < 0.3, `the posed volumes overlap little (Dice ${raw})`);
  assert.ok(aligned > 0.85, `the normalised volumes agree up to interpolation (Dice ${aligned})`);
  x.dispose();
  assert.equal(liveTensors(), before);
});

test('an empty volume has no moment frame', () => {
  const x = tensor(new Float32Array(SIZE ** 3), [1, 1, SIZE, SIZE, SIZE], 'float32');
  assert.throws(() => momentFrames(x), /empty/);
  x.dispose();
});
